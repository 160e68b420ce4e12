// Command gateway serves the REST API and the operator console.
package main

import (
	"github.com/telecomcrm/crm/gateway"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() { process.Main(gateway.Name, gateway.Run) }
