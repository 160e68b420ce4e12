// Command contract serves the contract service over gRPC.
package main

import (
	"github.com/telecomcrm/crm/services/contract"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() { process.Main(contract.Name, contract.Run) }
