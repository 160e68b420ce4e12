package notifier

import (
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
)

// migrations are the notifier's schema steps, oldest first. The structs
// inside each step are frozen copies of the models of that day.
var migrations = []*database.Migration{
	{
		ID: "0001_outbox_deliveries_prompts_unreachable_chats",
		Migrate: func(tx *gorm.DB) error {
			// event is one task notice as the task service handed it over:
			// the outbox. The expander turns it into deliveries.
			type event struct {
				ID      int64  `gorm:"primaryKey"`
				EventID string `gorm:"size:200;not null;uniqueIndex:events_event_id_key"`
				TaskID  int64  `gorm:"not null"`
				// Notice is the TaskNotice, protobuf-encoded.
				Notice    []byte `gorm:"not null"`
				CreatedAt int64  `gorm:"not null"`
				// ExpandedAt is 0 while the event waits for its recipients.
				ExpandedAt    int64  `gorm:"not null;default:0;index:events_pending,priority:1"`
				NextAttemptAt int64  `gorm:"not null;default:0;index:events_pending,priority:2"`
				Attempts      int32  `gorm:"not null;default:0"`
				LastError     string `gorm:"size:500;not null;default:''"`
			}
			// delivery is one message to one recipient of one event.
			type delivery struct {
				ID         int64  `gorm:"primaryKey"`
				EventID    string `gorm:"size:200;not null;uniqueIndex:deliveries_event_user_key,priority:1"`
				UserID     int64  `gorm:"not null;uniqueIndex:deliveries_event_user_key,priority:2"`
				ChatID     int64  `gorm:"not null;default:0;index:deliveries_chat_message,priority:1"`
				TaskID     int64  `gorm:"not null"`
				TaskNumber string `gorm:"size:50;not null;default:''"`
				ProcessID  int64  `gorm:"not null;default:0"`
				Language   string `gorm:"size:8;not null;default:''"`
				Text       string `gorm:"not null"`
				// Markup is the inline keyboard as Bot API JSON; empty: none.
				Markup        string `gorm:"not null;default:''"`
				State         string `gorm:"size:16;not null;index:deliveries_due,priority:1"`
				NextAttemptAt int64  `gorm:"not null;default:0;index:deliveries_due,priority:2"`
				Attempts      int32  `gorm:"not null;default:0"`
				LastAttemptAt int64  `gorm:"not null;default:0"`
				// Uncertain: the last attempt's answer was lost, so Telegram
				// may hold the message already.
				Uncertain bool `gorm:"not null;default:false"`
				// LostAnswers counts attempts whose answer was lost.
				LostAnswers int32  `gorm:"not null;default:0"`
				MessageID   int64  `gorm:"not null;default:0;index:deliveries_chat_message,priority:2"`
				Reason      string `gorm:"size:500;not null;default:''"`
				CreatedAt   int64  `gorm:"not null"`
				UpdatedAt   int64  `gorm:"not null"`
			}
			// prompt is a question the bot asked in a chat (why return the
			// task?); the reply to it carries the answer.
			type prompt struct {
				ChatID     int64  `gorm:"primaryKey;autoIncrement:false"`
				MessageID  int64  `gorm:"primaryKey;autoIncrement:false"`
				Kind       string `gorm:"size:16;not null"`
				TaskID     int64  `gorm:"not null"`
				TaskNumber string `gorm:"size:50;not null;default:''"`
				ProcessID  int64  `gorm:"not null"`
				// The notification whose buttons asked, to clear them after.
				SourceMessageID int64 `gorm:"not null;default:0"`
				CreatedAt       int64 `gorm:"not null;index:prompts_created_at"`
			}
			// unreachableChat is a chat whose user blocked the bot; nothing
			// is sent there until the chat is linked again.
			type unreachableChat struct {
				ChatID int64 `gorm:"primaryKey;autoIncrement:false"`
				Since  int64 `gorm:"not null"`
			}
			if err := tx.Table("unreachable_chats").Migrator().CreateTable(&unreachableChat{}); err != nil {
				return err
			}
			if err := tx.Table("events").Migrator().CreateTable(&event{}); err != nil {
				return err
			}
			if err := tx.Table("deliveries").Migrator().CreateTable(&delivery{}); err != nil {
				return err
			}
			return tx.Table("prompts").Migrator().CreateTable(&prompt{})
		},
	},
	{
		ID: "0002_delivery_totals",
		Migrate: func(tx *gorm.DB) error {
			// deliveryTotal keeps the counts of deliveries purged after the
			// retention time, so the figures never go down.
			type deliveryTotal struct {
				State   string `gorm:"primaryKey;size:16"`
				N       int64  `gorm:"not null;default:0"`
				Retries int64  `gorm:"not null;default:0"`
				Lost    int64  `gorm:"not null;default:0"`
			}
			if err := tx.Table("delivery_totals").Migrator().CreateTable(&deliveryTotal{}); err != nil {
				return err
			}
			return tx.Exec(`CREATE INDEX deliveries_updated_at ON deliveries (updated_at)`).Error
		},
	},
	{
		ID: "0003_telegram_updates",
		Migrate: func(tx *gorm.DB) error {
			// telegramUpdate is an update from Telegram, recorded before it
			// is handled, so a redelivery is handled once and a crash
			// loses none.
			type telegramUpdate struct {
				UpdateID   int64  `gorm:"primaryKey;autoIncrement:false"`
				Payload    []byte `gorm:"not null"`
				ReceivedAt int64  `gorm:"not null;index:telegram_updates_received_at"`
				HandledAt  int64  `gorm:"not null;default:0"`
				Attempts   int32  `gorm:"not null;default:0"`
			}
			return tx.Table("telegram_updates").Migrator().CreateTable(&telegramUpdate{})
		},
	},
	ledger.Migration("0004_idempotency_keys"),
	{
		ID: "0005_customer_channel",
		Migrate: func(tx *gorm.DB) error {
			// customerMessage is one milestone message to a customer, by
			// SMS (sent from this row) or Telegram (sent as a delivery whose
			// event id is "customer:" + EventID).
			type customerMessage struct {
				ID         int64  `gorm:"primaryKey"`
				EventID    string `gorm:"size:200;not null;uniqueIndex:customer_messages_event_key,priority:1"`
				CustomerID int64  `gorm:"not null;uniqueIndex:customer_messages_event_key,priority:2;index:customer_messages_log,priority:1"`
				TaskID     int64  `gorm:"not null;default:0"`
				Milestone  string `gorm:"size:32;not null"`
				Channel    int32  `gorm:"not null"`
				// Address is the number an SMS goes to; empty for Telegram.
				Address string `gorm:"size:32;not null;default:''"`
				Text    string `gorm:"not null"`
				State   string `gorm:"size:16;not null;index:customer_messages_due,priority:1"`
				// Urgent messages are not held by quiet hours.
				Urgent        bool  `gorm:"not null;default:false"`
				NextAttemptAt int64 `gorm:"not null;default:0;index:customer_messages_due,priority:2"`
				Attempts      int32 `gorm:"not null;default:0"`
				// ProviderID is the SMS provider's id; StatusCheckAt when its
				// delivery status is asked next (0: not any more).
				ProviderID    string `gorm:"size:64;not null;default:''"`
				StatusCheckAt int64  `gorm:"not null;default:0"`
				SentAt        int64  `gorm:"not null;default:0"`
				// Uncertain: an attempt's answer was lost, so the provider
				// may have the message already.
				Uncertain bool   `gorm:"not null;default:false"`
				Reason    string `gorm:"size:500;not null;default:''"`
				CreatedAt int64  `gorm:"not null;index:customer_messages_log,priority:2"`
				UpdatedAt int64  `gorm:"not null"`
			}
			// customerChat is a Telegram chat a customer linked by sharing
			// their contact.
			type customerChat struct {
				CustomerID int64  `gorm:"primaryKey;autoIncrement:false"`
				ChatID     int64  `gorm:"not null;uniqueIndex:customer_chats_chat_key"`
				Phone      string `gorm:"size:32;not null"`
				Language   string `gorm:"size:8;not null;default:''"`
				LinkedAt   int64  `gorm:"not null"`
			}
			// customerOptOut is a channel a customer asked not to be told by.
			type customerOptOut struct {
				CustomerID int64 `gorm:"primaryKey;autoIncrement:false"`
				Channel    int32 `gorm:"primaryKey;autoIncrement:false"`
				Since      int64 `gorm:"not null"`
			}
			for name, model := range map[string]any{"customer_messages": &customerMessage{}, "customer_chats": &customerChat{}, "customer_opt_outs": &customerOptOut{}} {
				if err := tx.Table(name).Migrator().CreateTable(model); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		ID: "0006_customer_requests",
		Migrate: func(tx *gorm.DB) error {
			// requestKind is a kind of request a customer may make in the
			// chat, and the route its service task takes. Seeded kinds
			// have a code (their label comes from the catalog, in the
			// reader's language); kinds an admin adds have a label.
			type requestKind struct {
				ID       int64  `gorm:"primaryKey"`
				Code     string `gorm:"size:32;not null;default:''"`
				Label    string `gorm:"size:100;not null;default:''"`
				RouteID  int64  `gorm:"not null"`
				Position int32  `gorm:"not null;default:0"`
				Active   bool   `gorm:"not null;default:true"`
			}
			// customerRequest is what a customer wrote to the bot, until a
			// contract and a kind are chosen and its service task opened.
			type customerRequest struct {
				ID         int64  `gorm:"primaryKey"`
				ChatID     int64  `gorm:"not null"`
				CustomerID int64  `gorm:"not null"`
				Text       string `gorm:"not null"`
				ContractID int64  `gorm:"not null;default:0"`
				TaskID     int64  `gorm:"not null;default:0;index:customer_requests_task"`
				CreatedAt  int64  `gorm:"not null;index:customer_requests_created_at"`
			}
			if err := tx.Table("request_kinds").Migrator().CreateTable(&requestKind{}); err != nil {
				return err
			}
			if err := tx.Table("customer_requests").Migrator().CreateTable(&customerRequest{}); err != nil {
				return err
			}
			// the seeded routes: 2 Repair, 4 Suspension, 6 Resume
			return tx.Table("request_kinds").Create([]requestKind{
				{Code: "no_internet", RouteID: 2, Position: 1, Active: true},
				{Code: "pause", RouteID: 4, Position: 2, Active: true},
				{Code: "resume", RouteID: 6, Position: 3, Active: true},
			}).Error
		},
	},
	{
		ID: "0007_customer_templates",
		Migrate: func(tx *gorm.DB) error {
			// customerTemplate is the admins' own text of a milestone's
			// message in a language (none: the catalog's).
			type customerTemplate struct {
				Milestone string `gorm:"primaryKey;size:32"`
				Language  string `gorm:"primaryKey;size:8"`
				Text      string `gorm:"not null"`
				UpdatedAt int64  `gorm:"not null"`
			}
			return tx.Table("customer_templates").Migrator().CreateTable(&customerTemplate{})
		},
	},
	{
		// The sender takes due messages in the order this index keeps
		// them, stopping at its batch, instead of gathering every due
		// message to sort by id: under a backlog for rate-limited chats
		// that was a read of the whole backlog at each look.
		ID: "0008_deliveries_due_order",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(`CREATE INDEX deliveries_due_order ON deliveries (state, next_attempt_at, id)`).Error; err != nil {
				return err
			}
			return tx.Exec(`DROP INDEX deliveries_due`).Error
		},
	},
	{
		// The sender asks each chat it may send to for its first message
		// due, instead of reading the due messages in time order past
		// those for the chats that must wait: with every chat waiting,
		// that was a read of the whole due backlog at each look.
		ID: "0009_deliveries_chat_due",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(`CREATE INDEX deliveries_chat_due ON deliveries (state, chat_id, next_attempt_at, id)`).Error; err != nil {
				return err
			}
			return tx.Exec(`DROP INDEX deliveries_due_order`).Error
		},
	},
}
