// Command identity serves the identity service over gRPC.
package main

import (
	"github.com/telecomcrm/crm/services/identity"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() { process.Main(identity.Name, identity.Run) }
