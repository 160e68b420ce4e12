// Command worker runs the task and connection workflows.
package main

import (
	"github.com/telecomcrm/crm/services/platform/process"
	"github.com/telecomcrm/crm/workflows/worker"
)

func main() { process.Main(worker.Name, worker.Run) }
