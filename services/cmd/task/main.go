// Command task serves the task service over gRPC.
package main

import (
	"github.com/telecomcrm/crm/services/platform/process"
	"github.com/telecomcrm/crm/services/task"
)

func main() { process.Main(task.Name, task.Run) }
