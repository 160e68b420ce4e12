// Command worker runs the task and connection workflows.
package main

import (
	"github.com/telecomcrm/crm/services/platform/process"
	"github.com/telecomcrm/crm/workflows/runner"
)

func main() { process.Main(runner.Name, runner.Run) }
