// Command notifier serves the notifier: task notifications through the
// Telegram bot, and acting on tasks from the chat.
package main

import (
	"github.com/telecomcrm/crm/services/notifier"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() { process.Main(notifier.Name, notifier.Run) }
