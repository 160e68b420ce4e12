// Command customer serves the customer service over gRPC.
package main

import (
	"github.com/telecomcrm/crm/services/customer"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() { process.Main(customer.Name, customer.Run) }
