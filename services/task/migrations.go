package task

import (
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/locale"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// migrations are the task service's schema steps, oldest first; the structs
// inside a step are frozen copies of that day's tables.
var migrations = []*database.Migration{
	{
		ID: "0001_routes_tasks_events",
		Migrate: func(tx *gorm.DB) error {
			type route struct {
				ID             int64  `gorm:"primaryKey"`
				Name           string `gorm:"size:200;not null"`
				Description    string `gorm:"size:2000;not null;default:''"`
				Version        int32  `gorm:"not null"`
				Connection     bool   `gorm:"not null;default:false"`
				ContractEffect int32  `gorm:"not null;default:1"`
				UpdatedAt      int64  `gorm:"not null"`
			}
			type routeVersion struct {
				RouteID    int64  `gorm:"primaryKey;autoIncrement:false"`
				Version    int32  `gorm:"primaryKey;autoIncrement:false"`
				Definition string `gorm:"type:text;not null"`
				CreatedAt  int64  `gorm:"not null"`
			}
			type processID struct {
				ID      int64 `gorm:"primaryKey"`
				RouteID int64 `gorm:"not null;index:process_ids_route"`
			}
			type task struct {
				ID                   int64  `gorm:"primaryKey"`
				Number               string `gorm:"size:20;not null;uniqueIndex:tasks_number_key"`
				Kind                 int32  `gorm:"not null"`
				State                int32  `gorm:"not null;index:tasks_state_group,priority:1;index:tasks_route_state,priority:2"`
				Title                string `gorm:"size:200;not null"`
				Description          string `gorm:"size:4000;not null;default:''"`
				RouteID              int64  `gorm:"not null;index:tasks_route_state,priority:1"`
				RouteVersion         int32  `gorm:"not null"`
				RouteName            string `gorm:"size:200;not null"`
				ProcessID            int64  `gorm:"not null;index:tasks_route_state,priority:3"`
				ProcessName          string `gorm:"size:200;not null"`
				ProcessGroupID       int64  `gorm:"not null;index:tasks_state_group,priority:2"`
				ProcessPosition      int32  `gorm:"not null"`
				ContractID           int64  `gorm:"not null;index:tasks_contract"`
				ContractNumber       string `gorm:"size:20;not null"`
				CustomerID           int64  `gorm:"not null;index:tasks_customer"`
				CustomerName         string `gorm:"size:200;not null"`
				AssigneeID           int64  `gorm:"not null;default:0;index:tasks_assignee"`
				AssigneeName         string `gorm:"size:200;not null;default:''"`
				SLADueAt             int64  `gorm:"not null;default:0"`
				SLABreached          bool   `gorm:"not null;default:false"`
				CreatedBy            int64  `gorm:"not null"`
				CreatedAt            int64  `gorm:"not null"`
				UpdatedAt            int64  `gorm:"not null"`
				ClosedAt             int64  `gorm:"not null;default:0"`
				CloseReason          string `gorm:"size:500;not null;default:''"`
				WorkflowID           string `gorm:"size:100;not null"`
				Sequence             int64  `gorm:"not null"`
				ConnectionContractID *int64 `gorm:"uniqueIndex:tasks_connection_contract"`
			}
			type taskEvent struct {
				ID                int64  `gorm:"primaryKey"`
				TaskID            int64  `gorm:"not null;uniqueIndex:task_events_step,priority:1"`
				Sequence          int64  `gorm:"not null;uniqueIndex:task_events_step,priority:2"`
				Kind              int32  `gorm:"not null"`
				At                int64  `gorm:"not null"`
				ActorID           int64  `gorm:"not null;default:0"`
				ActorName         string `gorm:"size:200;not null;default:''"`
				ProcessID         int64  `gorm:"not null;default:0"`
				ProcessName       string `gorm:"size:200;not null;default:''"`
				FromProcessID     int64  `gorm:"not null;default:0"`
				FromProcessName   string `gorm:"size:200;not null;default:''"`
				Text              string `gorm:"size:4000;not null;default:''"`
				Resolution        string `gorm:"size:100;not null;default:''"`
				AssigneeID        int64  `gorm:"not null;default:0"`
				NotifyGroups      string `gorm:"size:200;not null;default:''"`
				NotifySupervisors bool   `gorm:"not null;default:false"`
				NoticeSent        bool   `gorm:"not null;default:false;index:task_events_unsent"`
			}
			type comment struct {
				ID          int64  `gorm:"primaryKey"`
				TaskID      int64  `gorm:"not null;uniqueIndex:comments_step,priority:1"`
				Sequence    int64  `gorm:"not null;uniqueIndex:comments_step,priority:2"`
				AuthorID    int64  `gorm:"not null"`
				AuthorName  string `gorm:"size:200;not null"`
				Text        string `gorm:"size:4000;not null"`
				ProcessID   int64  `gorm:"not null"`
				ProcessName string `gorm:"size:200;not null"`
				CreatedAt   int64  `gorm:"not null"`
			}
			for name, model := range map[string]any{
				"routes": &route{}, "route_versions": &routeVersion{}, "process_ids": &processID{},
				"tasks": &task{}, "task_events": &taskEvent{}, "comments": &comment{},
			} {
				if err := tx.Table(name).Migrator().CreateTable(model); err != nil {
					return err
				}
			}
			return seedRoutes(tx, locale.FromContext(tx.Statement.Context))
		},
	},
	{
		// Route times were written in seconds where microseconds belong.
		ID: "0002_route_times_in_microseconds",
		Migrate: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				`UPDATE routes SET updated_at = updated_at * 1000000 WHERE updated_at < 100000000000`,
				`UPDATE route_versions SET created_at = created_at * 1000000 WHERE created_at < 100000000000`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// The timeline names whom a task was assigned to.
		ID: "0003_event_assignee_name",
		Migrate: func(tx *gorm.DB) error {
			return tx.Exec(`ALTER TABLE task_events ADD COLUMN assignee_name varchar(200) NOT NULL DEFAULT ''`).Error
		},
	},
	{
		// A step that replaced one its workflow's history never recorded
		// counts its revisions (its notice needs an event id of its own).
		ID: "0004_event_revision",
		Migrate: func(tx *gorm.DB) error {
			return tx.Exec(`ALTER TABLE task_events ADD COLUMN revision integer NOT NULL DEFAULT 0`).Error
		},
	},
	{
		// A service task is written before its workflow starts; until it
		// has, its notices wait, and a task the service left without one
		// (it ended in between) is found and started.
		ID: "0005_task_workflow_started",
		Migrate: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				`ALTER TABLE tasks ADD COLUMN workflow_started boolean NOT NULL DEFAULT true`,
				`CREATE INDEX tasks_unstarted ON tasks (created_at) WHERE workflow_started = false`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// Task lists page newest first. Each filter's index now ends with
		// the id, so a page is read off the index in order; before, a
		// queue whose open tasks were older than most of the closed ones
		// walked every task backwards (0.4 s a page at a million tasks).
		ID: "0006_task_lists_by_newest",
		Migrate: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				`DROP INDEX tasks_state_group`,
				`CREATE INDEX tasks_state_group_id ON tasks (state, process_group_id, id)`,
				`CREATE INDEX tasks_state_id ON tasks (state, id)`,
				`DROP INDEX tasks_contract`,
				`CREATE INDEX tasks_contract_id ON tasks (contract_id, id)`,
				`DROP INDEX tasks_customer`,
				`CREATE INDEX tasks_customer_id ON tasks (customer_id, id)`,
				`DROP INDEX tasks_assignee`,
				`CREATE INDEX tasks_assignee_id ON tasks (assignee_id, id)`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// A task whose workflow could not write a step after retrying is
		// marked stuck (with what failed and when) for the console's
		// badge and its list of stuck tasks; they are few, so a partial
		// index finds them.
		ID: "0007_task_stuck",
		Migrate: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				`ALTER TABLE tasks ADD COLUMN stuck boolean NOT NULL DEFAULT false`,
				`ALTER TABLE tasks ADD COLUMN stuck_reason varchar(500) NOT NULL DEFAULT ''`,
				`ALTER TABLE tasks ADD COLUMN stuck_at bigint NOT NULL DEFAULT 0`,
				`CREATE INDEX tasks_stuck_id ON tasks (id) WHERE stuck = true`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	ledger.Migration("0008_idempotency_keys"),
	{
		// A service task's id is allocated before its row, which its
		// workflow writes as its first step; every new task, connection
		// tasks too, takes its id from here. The sequence goes on from the
		// ids given so far.
		ID: "0009_task_ids",
		Migrate: func(tx *gorm.DB) error {
			type taskID struct {
				ID          int64   `gorm:"primaryKey"`
				Reservation *string `gorm:"size:300;uniqueIndex:task_ids_reservation"`
				CreatedAt   int64   `gorm:"not null;index:task_ids_created"`
			}
			if err := tx.Table("task_ids").Migrator().CreateTable(&taskID{}); err != nil {
				return err
			}
			last := int64(0)
			if err := tx.Raw(`SELECT COALESCE(max(id), 0) FROM tasks`).Scan(&last).Error; err != nil {
				return err
			}
			if database.IsPostgres(tx) {
				// ids of tasks discarded since count as given
				var seq int64
				if err := tx.Raw(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ` + pgSequence(tx, "tasks")).Scan(&seq).Error; err != nil {
					return err
				}
				last = max(last, seq)
			}
			if last == 0 {
				return nil
			}
			if err := tx.Exec(`INSERT INTO task_ids (id, created_at) VALUES (?, 0)`, last).Error; err != nil {
				return err
			}
			if database.IsPostgres(tx) {
				return tx.Exec(`SELECT setval(pg_get_serial_sequence('task_ids', 'id'), ?)`, last).Error
			}
			return nil
		},
	},
	{
		// Every task's row is now written by its workflow, so none waits
		// for its workflow to start. An open task still marked unstarted
		// was left by a service that ended between writing it and starting
		// its workflow: it never ran, so it is cancelled, untold.
		ID: "0010_drop_task_workflow_started",
		Migrate: func(tx *gorm.DB) error {
			open, cancelled := int32(taskv1.TaskState_TASK_STATE_OPEN), int32(taskv1.TaskState_TASK_STATE_CANCELLED)
			now := time.Now().UnixMicro()
			for _, stmt := range []struct {
				sql  string
				args []any
			}{
				{`UPDATE task_events SET notice_sent = true WHERE task_id IN (SELECT id FROM tasks WHERE workflow_started = false)`, nil},
				{`UPDATE tasks SET state = ?, closed_at = ?, updated_at = ?, close_reason = 'its workflow never started' WHERE workflow_started = false AND state = ?`, []any{cancelled, now, now, open}},
				{`DROP INDEX tasks_unstarted`, nil},
				{`ALTER TABLE tasks DROP COLUMN workflow_started`, nil},
			} {
				if err := tx.Exec(stmt.sql, stmt.args...).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// Files attached to comments: the bytes live in the blob store under
		// storage_key (and a thumbnail's under thumbnail_key); the row says
		// what they are and whose.
		ID: "0011_attachments",
		Migrate: func(tx *gorm.DB) error {
			type attachment struct {
				ID           int64  `gorm:"primaryKey"`
				TaskID       int64  `gorm:"not null;index:attachments_task"`
				CommentID    int64  `gorm:"not null;index:attachments_comment"`
				FileName     string `gorm:"size:255;not null"`
				ContentType  string `gorm:"size:100;not null"`
				SizeBytes    int64  `gorm:"not null"`
				Sha256       string `gorm:"size:64;not null"`
				StorageKey   string `gorm:"size:300;not null"`
				ThumbnailKey string `gorm:"size:300;not null;default:''"`
				UploaderID   int64  `gorm:"not null"`
				UploaderName string `gorm:"size:200;not null"`
				CreatedAt    int64  `gorm:"not null"`
			}
			return tx.Table("attachments").Migrator().CreateTable(&attachment{})
		},
	},
	{
		// Processes that act: a tariff change is opened with its tariff,
		// and the default routes gain their automatic processes.
		ID: "0012_process_actions",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(`ALTER TABLE tasks ADD COLUMN tariff_id bigint NOT NULL DEFAULT 0`).Error; err != nil {
				return err
			}
			return seedActions(tx)
		},
	},
	{
		// The task search: the title and the customer's name, and each
		// comment, are kept folded (textsearch.Fold: lowered, ё as е) and
		// found on PostgreSQL through trigram indexes; a contract's number
		// through its own index.
		ID: "0013_task_search",
		Migrate: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				`ALTER TABLE tasks ADD COLUMN search_lower varchar(401) NOT NULL DEFAULT ''`,
				`ALTER TABLE comments ADD COLUMN text_lower varchar(4000) NOT NULL DEFAULT ''`,
				`CREATE INDEX tasks_contract_number ON tasks (contract_number, id)`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			if err := foldEach(tx, "tasks", "title, customer_name", "search_lower", func(cols []string) string { return searchText(cols[0], cols[1]) }); err != nil {
				return err
			}
			if err := foldEach(tx, "comments", "text", "text_lower", func(cols []string) string { return textsearch.Fold(cols[0]) }); err != nil {
				return err
			}
			if !database.IsPostgres(tx) {
				return nil
			}
			for _, stmt := range []string{
				`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`,
				`CREATE INDEX tasks_search_trgm ON tasks USING gin (search_lower public.gin_trgm_ops)`,
				`CREATE INDEX comments_text_trgm ON comments USING gin (text_lower public.gin_trgm_ops)`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// Field visits: bookings (visits), the windows their technicians
		// hold while active (visit_technicians: the database refuses two
		// overlapping active windows of one technician), the groups'
		// working time, and the steps' technicians told and booking. The
		// default routes' "Installation" and "Field repair" require a
		// visit, as a new version.
		ID: "0014_visits",
		Migrate: func(tx *gorm.DB) error {
			type visit struct {
				ID             int64  `gorm:"primaryKey"`
				TaskID         int64  `gorm:"not null;index:visits_task"`
				TaskNumber     string `gorm:"size:20;not null"`
				ProcessID      int64  `gorm:"not null"`
				ProcessName    string `gorm:"size:200;not null"`
				GroupID        int64  `gorm:"not null;index:visits_group_start,priority:1"`
				State          int32  `gorm:"not null"`
				Active         bool   `gorm:"not null"`
				StartsAt       int64  `gorm:"not null;index:visits_group_start,priority:2;index:visits_start"`
				EndsAt         int64  `gorm:"not null"`
				TechnicianIDs  string `gorm:"column:technician_ids;size:250;not null"`
				Address        string `gorm:"size:500;not null;default:''"`
				Note           string `gorm:"size:1000;not null;default:''"`
				Late           bool   `gorm:"not null;default:false"`
				Reason         string `gorm:"size:500;not null;default:''"`
				CustomerName   string `gorm:"size:200;not null;default:''"`
				CustomerPhone  string `gorm:"size:50;not null;default:''"`
				ContractNumber string `gorm:"size:20;not null;default:''"`
				TariffName     string `gorm:"size:200;not null;default:''"`
				BookedBy       int64  `gorm:"not null;default:0"`
				BookedByName   string `gorm:"size:200;not null;default:''"`
				Sequence       int64  `gorm:"not null"`
				CreatedAt      int64  `gorm:"not null"`
				UpdatedAt      int64  `gorm:"not null"`
			}
			type visitTechnician struct {
				VisitID      int64 `gorm:"primaryKey;autoIncrement:false"`
				TechnicianID int64 `gorm:"primaryKey;autoIncrement:false;index:visit_technicians_start,priority:1"`
				StartsAt     int64 `gorm:"not null;index:visit_technicians_start,priority:2"`
				EndsAt       int64 `gorm:"not null"`
				Active       bool  `gorm:"not null"`
			}
			type groupSchedule struct {
				GroupID        int64  `gorm:"primaryKey;autoIncrement:false"`
				TimeZone       string `gorm:"size:64;not null"`
				StartMinute    int32  `gorm:"not null"`
				EndMinute      int32  `gorm:"not null"`
				Weekdays       string `gorm:"size:20;not null"`
				CapacityPerDay int32  `gorm:"not null;default:0"`
				Technicians    string `gorm:"type:text;not null;default:''"`
				Version        int32  `gorm:"not null"`
				UpdatedAt      int64  `gorm:"not null"`
			}
			if err := tx.Table("visits").Migrator().CreateTable(&visit{}); err != nil {
				return err
			}
			if err := tx.Table("visit_technicians").Migrator().CreateTable(&visitTechnician{}); err != nil {
				return err
			}
			if err := tx.Table("group_schedules").Migrator().CreateTable(&groupSchedule{}); err != nil {
				return err
			}
			stmts := []string{
				`CREATE UNIQUE INDEX visits_one_active ON visits (task_id) WHERE active`,
				`ALTER TABLE task_events ADD COLUMN notify_users varchar(250) NOT NULL DEFAULT ''`,
				`ALTER TABLE task_events ADD COLUMN visit_id bigint NOT NULL DEFAULT 0`,
				`ALTER TABLE tasks ADD COLUMN awaiting_visit boolean NOT NULL DEFAULT false`,
				`CREATE INDEX tasks_awaiting_visit ON tasks (process_group_id, id) WHERE awaiting_visit = true`,
			}
			if database.IsPostgres(tx) {
				stmts = append(stmts, `ALTER TABLE visit_technicians ADD CONSTRAINT `+noOverlap+
					` EXCLUDE USING gist (int8range(technician_id, technician_id, '[]') WITH &&, int8range(starts_at, ends_at) WITH &&) WHERE (active)`)
			} else {
				for _, op := range []string{"INSERT", "UPDATE"} {
					stmts = append(stmts, `CREATE TRIGGER `+noOverlap+`_`+strings.ToLower(op)+` BEFORE `+op+` ON visit_technicians
WHEN NEW.active AND EXISTS (SELECT 1 FROM visit_technicians o WHERE o.active AND o.technician_id = NEW.technician_id
  AND o.visit_id <> NEW.visit_id AND o.starts_at < NEW.ends_at AND NEW.starts_at < o.ends_at)
BEGIN SELECT RAISE(ABORT, '`+noOverlap+`'); END`)
				}
			}
			for _, stmt := range stmts {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return seedVisits(tx)
		},
	},
	{
		// Comments between the staff and the customer: written by the
		// customer in the chat, or by staff to the customer.
		ID: "0015_comment_audience",
		Migrate: func(tx *gorm.DB) error {
			for _, table := range []string{"comments", "task_events"} {
				if err := tx.Exec(`ALTER TABLE ` + table + ` ADD COLUMN audience INTEGER NOT NULL DEFAULT 0`).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// Follow-ups: a "Welcome call" route, and route No. 1 opening a
		// task on it a week after each connection closes.
		ID:      "0016_follow_ups",
		Migrate: seedFollowUps,
	},
	{
		// How urgent a task is: NORMAL (2) for every task so far.
		ID: "0017_task_priority",
		Migrate: func(tx *gorm.DB) error {
			return tx.Exec(`ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 2`).Error
		},
	},
	{
		// Outbound webhooks: subscriptions, their delivery log, and the
		// queue of events waiting to be handed to them.
		ID: "0018_webhooks",
		Migrate: func(tx *gorm.DB) error {
			type webhook struct {
				ID             int64  `gorm:"primaryKey"`
				Name           string `gorm:"size:100;not null"`
				URL            string `gorm:"size:2000;not null"`
				Kinds          string `gorm:"size:100;not null"`
				Enabled        bool   `gorm:"not null"`
				Failures       int32  `gorm:"not null;default:0"`
				DisabledReason string `gorm:"size:500;not null;default:''"`
				DisabledEvent  string `gorm:"size:100;not null;default:''"`
				Salt           string `gorm:"size:40;not null"`
				CreatedBy      int64  `gorm:"not null"`
				CreatedAt      int64  `gorm:"not null"`
				UpdatedAt      int64  `gorm:"not null"`
				LastDeliveryAt int64  `gorm:"not null;default:0"`
			}
			type webhookDelivery struct {
				ID         int64  `gorm:"primaryKey"`
				WebhookID  int64  `gorm:"not null;uniqueIndex:webhook_deliveries_event,priority:1;index:webhook_deliveries_log,priority:1"`
				EventID    string `gorm:"size:100;not null;uniqueIndex:webhook_deliveries_event,priority:2"`
				Kind       int32  `gorm:"not null"`
				State      int32  `gorm:"not null"`
				Attempts   int32  `gorm:"not null;default:0"`
				StatusCode int32  `gorm:"not null;default:0"`
				Error      string `gorm:"size:500;not null;default:''"`
				TaskID     int64  `gorm:"not null;default:0"`
				ContractID int64  `gorm:"not null;default:0"`
				CreatedAt  int64  `gorm:"not null;index:webhook_deliveries_log,priority:2"`
				FinishedAt int64  `gorm:"not null;default:0"`
			}
			type webhookOutbox struct {
				ID         int64  `gorm:"primaryKey"`
				EventID    string `gorm:"size:100;not null;uniqueIndex:webhook_outbox_event"`
				Kind       int32  `gorm:"not null"`
				Body       string `gorm:"type:text;not null"`
				TaskID     int64  `gorm:"not null;default:0"`
				ContractID int64  `gorm:"not null;default:0"`
				At         int64  `gorm:"not null"`
			}
			for name, model := range map[string]any{"webhooks": &webhook{}, "webhook_deliveries": &webhookDelivery{}, "webhook_outbox": &webhookOutbox{}} {
				if err := tx.Table(name).Migrator().CreateTable(model); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// Working-time calendars, and the Russian production calendar
		// seeded, assigned to no group: SLAs stay round the clock until an
		// admin gives a group a calendar.
		ID:      "0019_calendars",
		Migrate: seedCalendars,
	},
	{
		// The reports read a period's tasks and steps by time.
		ID: "0020_report_indexes",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				`CREATE INDEX task_events_at ON task_events (at)`,
				`CREATE INDEX tasks_created_at ON tasks (created_at)`,
				`CREATE INDEX tasks_closed_at ON tasks (closed_at)`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// The work queues list by priority (store.go's byPriority): a
		// group's open tasks and a person's are read off these in that
		// order, each page from the last one's key on, without a sort.
		ID: "0021_queue_priority_indexes",
		Migrate: func(tx *gorm.DB) error {
			const key = `(-priority), (CASE WHEN sla_due_at = 0 THEN 9223372036854775807 ELSE sla_due_at END), id`
			for _, q := range []string{
				`CREATE INDEX tasks_open_group_priority ON tasks (process_group_id, ` + key + `) WHERE state = 1`,
				`CREATE INDEX tasks_open_assignee_priority ON tasks (assignee_id, ` + key + `) WHERE state = 1`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// The reports count a period's rows off covering indexes instead
		// of reading them: each entry step keeps when its stay ended
		// (settleStays), so the stays are counted without ordering a
		// period's steps by task.
		ID: "0022_report_stays",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				`ALTER TABLE task_events ADD COLUMN left_at BIGINT NOT NULL DEFAULT 0`,
				`UPDATE task_events SET left_at = ` + leftAt + ` WHERE ` + entrySteps,
				`DROP INDEX task_events_at`,
				`CREATE INDEX task_events_entries ON task_events (at, process_id, left_at) WHERE ` + entrySteps,
				`CREATE INDEX task_events_breaches ON task_events (at, process_id) WHERE kind = ` + strconv.Itoa(int(taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED)),
				`DROP INDEX tasks_created_at`,
				`CREATE INDEX tasks_created_at ON tasks (created_at, route_id, kind, state, closed_at, id)`,
				`CREATE INDEX task_events_cancels ON task_events (task_id, sequence, resolution) WHERE kind = ` + strconv.Itoa(int(taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED)),
				`DROP INDEX tasks_closed_at`,
				`CREATE INDEX tasks_closed_at ON tasks (closed_at, route_id, state, created_at)`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// A step a workflow's local activity writes is pending until its
		// workflow's history is known to hold it (store.confirm): until
		// then the timeline does not show it and its notice and webhook
		// event wait, so a step whose workflow task was lost is never seen.
		// A step keeps the task's state after it, for its notice.
		ID: "0023_pending_steps",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				`ALTER TABLE task_events ADD COLUMN pending boolean NOT NULL DEFAULT false`,
				`ALTER TABLE task_events ADD COLUMN state integer NOT NULL DEFAULT 0`,
				`ALTER TABLE webhook_outbox ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0`,
				`ALTER TABLE webhook_outbox ADD COLUMN held boolean NOT NULL DEFAULT false`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
}

// foldEach fills a folded column of every row, a thousand rows at a time:
// the fold is Go's (the database's lower() depends on its locale).
func foldEach(tx *gorm.DB, table, cols, into string, fold func([]string) string) error {
	type folded struct {
		id   int64
		text string
	}
	for after := int64(0); ; {
		rows, err := tx.Raw(`SELECT id, `+cols+` FROM `+table+` WHERE id > ? ORDER BY id LIMIT 1000`, after).Rows()
		if err != nil {
			return err
		}
		var batch []folded
		for rows.Next() {
			var id int64
			vals := make([]string, strings.Count(cols, ",")+1)
			dest := []any{&id}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, folded{id, fold(vals)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, b := range batch {
			if err := tx.Exec(`UPDATE `+table+` SET `+into+` = ? WHERE id = ?`, b.text, b.id).Error; err != nil {
				return err
			}
		}
		after = batch[len(batch)-1].id
	}
}

// pgSequence names the sequence behind a table's id on PostgreSQL.
func pgSequence(tx *gorm.DB, table string) string {
	var name string
	_ = tx.Raw(`SELECT pg_get_serial_sequence(?, 'id')`, table).Scan(&name).Error
	return name
}
