// The services' string columns and the request limits their values come
// from must agree: a value the proto lets through has to fit its column
// in PostgreSQL, or the database refuses what validation passed.
package services_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/contract"
	"github.com/telecomcrm/crm/services/customer"
	"github.com/telecomcrm/crm/services/identity"
	"github.com/telecomcrm/crm/services/notifier"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/task"
)

// columnSources names, for every string column, the request fields whose
// values are written into it. A column no request writes says why in
// notFromRequests instead; a column in neither fails the test, so a new
// column gets its limit decided.
var columnSources = map[string][]string{
	"customer.customers.name":       {"crm.customer.v1.Customer.name"},
	"customer.customers.name_lower": {"crm.customer.v1.Customer.name"},
	"customer.customers.email":      {"crm.customer.v1.Customer.email"},
	"customer.customers.address":    {"crm.customer.v1.Customer.address"},
	"customer.phones.label":         {"crm.customer.v1.Phone.label"},

	"contract.tariffs.name":         {"crm.contract.v1.Tariff.name"},
	"contract.tariffs.technology":   {"crm.contract.v1.Tariff.technology"},
	"contract.tariffs.currency":     {"crm.contract.v1.Money.currency"},
	"contract.contracts.address":    {"crm.contract.v1.CreateContractRequest.address", "crm.contract.v1.CreateConnectionRequest.address"},
	"contract.imports.file_name":    {"crm.contract.v1.ImportHeader.file_name"},
	"contract.imports.error":        {"crm.contract.v1.SetImportStateRequest.error"},
	"customer.import_batches.batch": {"crm.customer.v1.ImportCustomersRequest.batch"},

	"task.routes.name":                   {"crm.task.v1.Route.name"},
	"task.routes.description":            {"crm.task.v1.Route.description"},
	"task.tasks.title":                   {"crm.task.v1.CreateTaskRequest.title"},
	"task.tasks.description":             {"crm.task.v1.CreateTaskRequest.description"},
	"task.tasks.route_name":              {"crm.task.v1.Route.name"},
	"task.tasks.process_name":            {"crm.task.v1.Process.name"},
	"task.tasks.customer_name":           {"crm.customer.v1.Customer.name"},
	"task.tasks.assignee_name":           {"crm.identity.v1.User.display_name"},
	"task.tasks.close_reason":            {"crm.task.v1.CancelTaskRequest.reason", "crm.task.v1.Transition.close_reason"},
	"task.tasks.workflow_id":             {"crm.task.v1.CreateConnectionTaskRequest.workflow_id"},
	"task.tasks.search_lower":            {"crm.task.v1.CreateTaskRequest.title", "crm.customer.v1.Customer.name"},
	"task.task_events.actor_name":        {"crm.task.v1.Transition.actor_name", "crm.identity.v1.User.display_name"},
	"task.task_events.process_name":      {"crm.task.v1.Process.name"},
	"task.task_events.from_process_name": {"crm.task.v1.Process.name"},
	"task.task_events.text": {"crm.task.v1.Transition.text", "crm.task.v1.AddCommentRequest.text", "crm.task.v1.AttachmentHeader.comment_text",
		"crm.task.v1.AdvanceTaskRequest.comment", "crm.task.v1.ReturnTaskRequest.comment", "crm.task.v1.CancelTaskRequest.reason"},
	"task.task_events.resolution":    {"crm.task.v1.Transition.resolution", "crm.task.v1.AdvanceTaskRequest.resolution", "crm.task.v1.CloseRule.resolution"},
	"task.task_events.assignee_name": {"crm.identity.v1.User.display_name"},
	"task.comments.author_name":      {"crm.task.v1.Transition.actor_name", "crm.identity.v1.User.display_name"},
	"task.comments.text":             {"crm.task.v1.Transition.text", "crm.task.v1.AddCommentRequest.text", "crm.task.v1.AttachmentHeader.comment_text", "crm.task.v1.AdvanceTaskRequest.comment", "crm.task.v1.ReturnTaskRequest.comment"},
	"task.comments.process_name":     {"crm.task.v1.Process.name"},
	"task.comments.text_lower":       {"crm.task.v1.Transition.text", "crm.task.v1.AddCommentRequest.text", "crm.task.v1.AdvanceTaskRequest.comment", "crm.task.v1.ReturnTaskRequest.comment"},

	"identity.users.login":                      {"crm.identity.v1.User.login"},
	"identity.users.display_name":               {"crm.identity.v1.User.display_name", "crm.identity.v1.Profile.display_name"},
	"identity.users.display_name_lower":         {"crm.identity.v1.User.display_name", "crm.identity.v1.Profile.display_name"},
	"identity.users.language":                   {"crm.identity.v1.User.language", "crm.identity.v1.Profile.language"},
	"identity.user_roles.role_name":             {"crm.identity.v1.User.roles"},
	"identity.work_groups.name":                 {"crm.identity.v1.Group.name"},
	"identity.work_groups.name_lower":           {"crm.identity.v1.Group.name"},
	"identity.work_groups.description":          {"crm.identity.v1.Group.description"},
	"identity.sessions.last_address":            {"crm.identity.v1.AuthenticateRequest.client_address"},
	"identity.roles.name":                       {"crm.identity.v1.Role.name"},
	"identity.roles.description":                {"crm.identity.v1.Role.description"},
	"identity.role_permissions.role_name":       {"crm.identity.v1.Role.name"},
	"identity.role_permissions.permission_name": {"crm.identity.v1.Role.permissions"},
	"identity.api_tokens.name":                  {"crm.identity.v1.CreateApiTokenRequest.name"},
	"identity.telegram_users.username":          {"crm.identity.v1.RedeemTelegramLinkRequest.telegram_username"},
	"identity.audit_events.actor_login":         {"crm.identity.v1.AuditEvent.actor_login", "crm.identity.v1.User.login"},
	"identity.audit_events.action":              {"crm.identity.v1.AuditEvent.action"},
	"identity.audit_events.target":              {"crm.identity.v1.AuditEvent.target"},
	"identity.audit_events.client_address":      {"crm.identity.v1.AuditEvent.client_address", "crm.identity.v1.AuthenticateRequest.client_address"},
	"identity.audit_events.detail":              {"crm.identity.v1.AuditEvent.detail"},

	"notifier.events.event_id":              {"crm.notifier.v1.TaskNotice.event_id"},
	"notifier.deliveries.event_id":          {"crm.notifier.v1.TaskNotice.event_id"},
	"notifier.deliveries.task_number":       {"crm.notifier.v1.TaskNotice.task_number"},
	"notifier.deliveries.language":          {"crm.identity.v1.User.language"},
	"notifier.prompts.task_number":          {"crm.notifier.v1.TaskNotice.task_number"},
	"notifier.customer_messages.event_id":   {"crm.notifier.v1.TaskNotice.event_id"},
	"notifier.customer_messages.address":    {"crm.customer.v1.Phone.number"},
	"notifier.customer_chats.phone":         {"crm.customer.v1.Phone.number"},
	"notifier.request_kinds.label":          {"crm.notifier.v1.RequestKind.label"},
	"notifier.customer_templates.milestone": {"crm.notifier.v1.UpdateCustomerTemplateRequest.milestone"},
	"notifier.customer_templates.language":  {"crm.notifier.v1.UpdateCustomerTemplateRequest.language"},
	"notifier.customer_templates.text":      {"crm.notifier.v1.UpdateCustomerTemplateRequest.text"},
	"task.tasks.stuck_reason":               {"crm.task.v1.SetTaskStuckRequest.reason"},
	"task.attachments.file_name":            {"crm.task.v1.AttachmentHeader.file_name"},
	"task.attachments.uploader_name":        {"crm.identity.v1.User.display_name", "crm.identity.v1.User.login"},
	"task.group_schedules.time_zone":        {"crm.task.v1.Schedule.time_zone"},
	"task.visits.process_name":              {"crm.task.v1.Process.name"},
	"task.visits.address":                   {"crm.task.v1.VisitWrite.address", "crm.task.v1.BookVisitRequest.address", "crm.contract.v1.CreateContractRequest.address"},
	"task.visits.note":                      {"crm.task.v1.VisitWrite.note", "crm.task.v1.BookVisitRequest.note"},
	"task.visits.reason":                    {"crm.task.v1.VisitWrite.reason", "crm.task.v1.CancelVisitRequest.reason"},
	"task.visits.customer_name":             {"crm.customer.v1.Customer.name"},
	"task.visits.customer_phone":            {"crm.task.v1.VisitWrite.customer_phone"},
	"task.visits.tariff_name":               {"crm.task.v1.VisitWrite.tariff_name", "crm.contract.v1.Tariff.name"},
	"task.visits.booked_by_name":            {"crm.identity.v1.User.display_name"},
	"task.calendars.name":                   {"crm.task.v1.Calendar.name"},
	"task.webhooks.name":                    {"crm.task.v1.Webhook.name"},
	"task.webhooks.url":                     {"crm.task.v1.Webhook.url"},
	"task.webhooks.disabled_reason":         {"crm.task.v1.RecordWebhookDeliveryRequest.error"},
	"task.webhooks.disabled_event":          {"crm.task.v1.RecordWebhookDeliveryRequest.event_id"},
	"task.webhook_deliveries.event_id":      {"crm.task.v1.RecordWebhookDeliveryRequest.event_id", "crm.task.v1.PublishWebhookEventRequest.event_id"},
	"task.webhook_deliveries.error":         {"crm.task.v1.RecordWebhookDeliveryRequest.error"},
	"task.webhook_outbox.event_id":          {"crm.task.v1.PublishWebhookEventRequest.event_id"},
}

var notFromRequests = map[string]string{
	"contract.imports.header":                "the file's header as JSON: known column names only (any other refuses the file), under 300 characters",
	"contract.import_rows.data":              "a checked row as JSON (cells of at most 1000 characters), unbounded text",
	"contract.import_rows.problems":          "a row's problems as JSON, unbounded text",
	"*.schema_migrations.id":                 "migration ids, written by the code",
	"*.idempotency_keys.caller":              "user:<id> or service:<name>, made by the interceptor",
	"*.idempotency_keys.method":              "the gRPC method's full name, from the code",
	"*.idempotency_keys.idem_key":            "the Idempotency-Key header, refused past 128 printable ASCII characters (idempotency.Check)",
	"*.idempotency_keys.hash":                "a SHA-256 in hex",
	"identity.audit_events.detail_code":      "AuditEvent.detail_code: at most 64 of a-z, 0-9, '.' and '_' (its pattern)",
	"identity.audit_events.detail_params":    "AuditEvent.detail_params as a JSON object: at most 8 pairs of 32-character names and 200-character values",
	"task.task_ids.reservation":              "the create's Temporal update id: its name, the caller and the Idempotency-Key (128 at most)",
	"contract.contract_ids.reservation":      "the create's Temporal update id: its name, the caller and the Idempotency-Key (128 at most)",
	"customer.phones.number":                 "the normalised E.164 form is stored: + and at most 15 digits",
	"contract.contracts.number":              "made by the service: C- and the id",
	"task.tasks.number":                      "made by the service: T- and the id",
	"task.tasks.contract_number":             "copied from the contract service's number",
	"task.route_versions.definition":         "the route as JSON, bounded by Route's limits (50 processes, 50 rules, 200-character names)",
	"task.task_events.notify_groups":         "group ids joined by commas, made by the service",
	"task.task_events.notify_users":          "at most 10 user ids joined by commas, made by the workflow",
	"task.visits.technician_ids":             "at most 10 user ids joined by commas (BookVisitRequest.technician_ids)",
	"task.visits.task_number":                "made by the service: T- and the id",
	"task.visits.contract_number":            "copied from the contract service's number",
	"task.group_schedules.weekdays":          "at most 7 weekday numbers joined by commas (WorkingHours.weekdays)",
	"task.group_schedules.technicians":       "the technicians' own schedules as JSON, in an unbounded text column",
	"task.attachments.content_type":          "sniffed by the service, one of a fixed list of types",
	"task.attachments.sha256":                "a SHA-256 in hex",
	"task.attachments.storage_key":           "made by the service: tasks/<id>/ and 32 hex digits",
	"task.attachments.thumbnail_key":         "the storage key and -thumb, or empty",
	"identity.permissions.name":              "seeded",
	"identity.permissions.description":       "seeded",
	"identity.users.password_hash":           "an argon2id hash",
	"identity.sessions.token_hash":           "a SHA-256 hash in hex",
	"identity.api_tokens.token_hash":         "a SHA-256 hash in hex",
	"identity.api_tokens.prefix":             "the token's first 8 characters, made by the service",
	"identity.telegram_links.code_hash":      "a SHA-256 hash in hex",
	"identity.login_throttles.subject":       "the service's key: a prefix and a login or an address, clipped",
	"notifier.events.last_error":             "the notifier's own words, clipped",
	"notifier.deliveries.text":               "the message the notifier renders",
	"notifier.deliveries.markup":             "the keyboard the notifier renders",
	"notifier.deliveries.state":              "one of the notifier's states",
	"notifier.deliveries.reason":             "the notifier's own words, clipped",
	"notifier.prompts.kind":                  "one of the bot's prompt kinds",
	"notifier.customer_messages.milestone":   "one of the notifier's milestones",
	"notifier.customer_messages.text":        "the message the notifier renders",
	"notifier.customer_messages.state":       "one of the notifier's states",
	"notifier.customer_messages.provider_id": "the SMS provider's id, clipped",
	"notifier.customer_messages.reason":      "the notifier's own words, clipped",
	"notifier.customer_chats.language":       "a catalog language, or empty",
	"notifier.request_kinds.code":            "one of the catalog's request kinds",
	"notifier.customer_requests.text":        "a customer's words in the chat, clipped to a task's description",
	"notifier.delivery_totals.state":         "one of the notifier's states",
	"task.calendars.definition":              "the checked calendar as JSON, made by the code (text)",
	"task.webhooks.kinds":                    "the event kinds' numbers joined by the code (four at most)",
	"task.webhooks.salt":                     "32 hex characters from crypto/rand",
	"task.webhook_outbox.body":               "the event as JSON, made by the code (text)",
}

type column struct {
	Schema, Table, Name, Type string
	Max                       *int
}

func (c column) key() string { return c.Schema + "." + c.Table + "." + c.Name }

func TestEveryStringColumnHoldsWhatItsRequestLimitsLetThrough(t *testing.T) {
	if !servicetest.OnPostgres() {
		t.Skip("the columns' sizes are PostgreSQL's; set " + servicetest.PostgresEnv)
	}
	ctx := context.Background()
	c := servicetest.Common(t)
	log := servicetest.Logger()
	var db *gorm.DB
	for _, open := range []func() (*gorm.DB, error){
		func() (*gorm.DB, error) { return customer.OpenDB(ctx, c, log) },
		func() (*gorm.DB, error) { return contract.OpenDB(ctx, c, log) },
		func() (*gorm.DB, error) { return task.OpenDB(ctx, c, log) },
		func() (*gorm.DB, error) { return notifier.OpenDB(ctx, c, log) },
		func() (*gorm.DB, error) {
			return identity.OpenDB(ctx, c, identity.FirstAdmin{Password: "columns-test-admin-password"}, log)
		},
	} {
		d, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = database.Close(d) })
		db = d
	}
	var cols []column
	if err := db.Raw(`SELECT table_schema AS schema, table_name AS "table", column_name AS name, data_type AS type, character_maximum_length AS max
		FROM information_schema.columns
		WHERE table_schema IN ('customer', 'contract', 'task', 'identity', 'notifier')
		  AND data_type IN ('character varying', 'character', 'text')
		ORDER BY 1, 2, ordinal_position`).Scan(&cols).Error; err != nil {
		t.Fatal(err)
	}
	if len(cols) < 60 {
		t.Fatalf("only %d string columns found", len(cols))
	}
	seen := map[string]bool{}
	for _, col := range cols {
		key := col.key()
		seen[key] = true
		if _, ok := notFromRequests[key]; ok || notFromRequests["*."+col.Table+"."+col.Name] != "" {
			continue
		}
		fields, ok := columnSources[key]
		if !ok {
			t.Errorf("%s (%s) is written from which request field? Add it to columnSources, or say why none in notFromRequests", key, col.Type)
			continue
		}
		for _, name := range fields {
			t.Run(key+"←"+name, func(t *testing.T) { checkColumn(t, db, col, name) })
		}
	}
	for _, m := range []map[string][]string{columnSources} {
		for key := range m {
			if !seen[key] {
				t.Errorf("columnSources names %s, which is not a string column", key)
			}
		}
	}
}

// checkColumn proves that a value at the field's limit, in two-byte
// Cyrillic letters, fits a column of col's very type, and that one letter
// more is refused by the field's rules before it could reach the column.
func checkColumn(t *testing.T, db *gorm.DB, col column, fieldName string) {
	fd, limit := fieldLimit(t, fieldName)
	if col.Max != nil && limit > *col.Max {
		t.Errorf("%s lets %d characters through; %s holds %d", fieldName, limit, col.key(), *col.Max)
	}
	at := strings.Repeat("ж", limit)
	err := db.Transaction(func(tx *gorm.DB) error {
		probe := fmt.Sprintf(`CREATE TEMP TABLE probe ON COMMIT DROP AS SELECT %s AS v FROM %s.%s WITH NO DATA`,
			quote(col.Name), quote(col.Schema), quote(col.Table))
		if err := tx.Exec(probe).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO probe (v) VALUES (?)`, at).Error
	})
	if err != nil {
		t.Errorf("%d Cyrillic letters (the limit of %s) are not stored in %s: %v", limit, fieldName, col.key(), err)
	}
	if v := violation(t, fd, at); v != "" {
		t.Errorf("a value at the limit is refused: %s", v)
	}
	if v := violation(t, fd, at+"ж"); v != "string.max_len" && v != "string.max_bytes" {
		t.Errorf("one letter over the limit of %s: rule %q, want max_len", fieldName, v)
	}
}

func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }

// fieldLimit finds a request field and the length its rules allow.
func fieldLimit(t *testing.T, name string) (protoreflect.FieldDescriptor, int) {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	fd := d.(protoreflect.FieldDescriptor)
	rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	sr := rules.GetString()
	if fd.IsList() {
		sr = rules.GetRepeated().GetItems().GetString()
	}
	limit := int(sr.GetMaxLen())
	if b := int(sr.GetMaxBytes()); limit == 0 && b > 0 {
		limit = b / 2 // the letters of the probe are two bytes each
	}
	if limit == 0 {
		t.Fatalf("%s declares no length limit", name)
	}
	return fd, limit
}

// violation validates the field's message holding value in that field and
// answers the rule it breaks there, or "".
func violation(t *testing.T, fd protoreflect.FieldDescriptor, value string) string {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(fd.ContainingMessage().FullName())
	if err != nil {
		t.Fatal(err)
	}
	msg := mt.New()
	if fd.IsList() {
		msg.Mutable(fd).List().Append(protoreflect.ValueOfString(value))
	} else {
		msg.Set(fd, protoreflect.ValueOfString(value))
	}
	err = protovalidate.GlobalValidator.Validate(msg.Interface())
	var verr *protovalidate.ValidationError
	if err != nil && !errors.As(err, &verr) {
		t.Fatal(err)
	}
	var rules []string
	if verr != nil {
		for _, v := range verr.Violations {
			if els := v.Proto.GetField().GetElements(); len(els) == 1 && els[0].GetFieldNumber() == int32(fd.Number()) {
				rules = append(rules, v.Proto.GetRuleId())
			}
		}
	}
	sort.Strings(rules)
	return strings.Join(rules, ",")
}
