package task

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// BenchmarkReportsAtScale measures the report pages a supervisor opens, at
// CRM_BENCH_TASKS tasks (ten steps each, spread over the 1,000 days up to
// today), on the PostgreSQL of CRM_TEST_DATABASE_URL. Each page is asked of
// the report service (authentication on, over a loopback connection) and
// run as the bare SQL it is built on, in the same run; the ratio of the two
// is what to watch. CRM_BENCH_DATABASE names a database to keep between
// runs (seeded when empty).
//
//	CRM_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	CRM_BENCH_TASKS=1000000 go test -run '^$' -bench ReportsAtScale -benchtime 20x ./task/
func BenchmarkReportsAtScale(b *testing.B) {
	n, common := servicetest.ScaleDatabase(b, "CRM_BENCH_TASKS")
	ctx := context.Background()
	db, err := OpenDB(ctx, common, servicetest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	defer database.Close(db)
	// The reports read rows only: no workflow is ever asked.
	srv, err := NewServer(db, Config{}, Deps{Key: servicetest.Key, Flows: &flows{}, Log: servicetest.Logger()})
	if err != nil {
		b.Fatal(err)
	}
	zone := "Europe/Moscow"
	loc, _ := time.LoadLocation(zone)
	today := time.Now().In(loc)
	if servicetest.Empty(b, common.DatabaseURL, "task.tasks") {
		seedHistory(b, srv, common.DatabaseURL, n, today)
	}
	addr := servicetest.Serve(b, func(s *grpcserver.Server) {
		taskv1.RegisterReportServiceServer(s, NewReportServer(srv, zone))
	})
	reports := taskv1.NewReportServiceClient(servicetest.Dial(b, addr))
	user := servicetest.User(ctx, 1, servicetest.Admin)
	cfg, err := pgx.ParseConfig(common.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = Name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)

	// Each page ends on one of the last seven days, in turn.
	page := func(days int, route int64) func(i int) *taskv1.GetTaskReportRequest {
		return func(i int) *taskv1.GetTaskReportRequest {
			last := today.AddDate(0, 0, -(i % 7))
			return &taskv1.GetTaskReportRequest{
				From: last.AddDate(0, 0, 1-days).Format(time.DateOnly), To: last.Format(time.DateOnly), RouteId: route, TimeZone: zone,
			}
		}
	}
	pages := []struct {
		name string
		req  func(i int) *taskv1.GetTaskReportRequest
	}{
		{"30-days", page(30, 0)},
		{"30-days-route-1", page(30, 1)},
		{"quarter", page(91, 0)},
		{"year", page(365, 0)},
	}
	var races []servicetest.Race
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			r := servicetest.RunRace(b, p.name, 2,
				func(i int) error { return bareReport(ctx, conn, p.req(i), loc) },
				func(i int) error {
					resp, err := reports.GetTaskReport(user, p.req(i))
					if err == nil && resp.GetFunnel().GetOpened() == 0 && p.req(i).GetRouteId() <= 1 {
						err = fmt.Errorf("the report of %v found no connection", p.req(i))
					}
					return err
				})
			races = append(slices.DeleteFunc(races, func(o servicetest.Race) bool { return o.Name == p.name }), r)
		})
	}
	servicetest.PrintRaces(fmt.Sprintf("report pages at %d tasks, one client", n), races)
}

// seedHistory writes n tasks of the default routes as their workflows
// would have, ten steps each on average: created in order over the 1,000
// days up to today, a process's stay a few hours long, one task in ten past
// its SLA somewhere, one connection in twelve cancelled; the last days'
// tasks partly still open.
func seedHistory(b *testing.B, srv *Server, dbURL string, n int, today time.Time) {
	ctx := context.Background()
	var routes []routeRow
	if err := srv.store.db.Order("id").Find(&routes).Error; err != nil {
		b.Fatal(err)
	}
	defs := make([]routeDef, len(routes))
	for i, r := range routes {
		d, err := srv.routes.definition(ctx, r.ID, r.Version)
		if err != nil {
			b.Fatal(err)
		}
		defs[i] = d
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)

	rng := rand.New(rand.NewPCG(3, 4))
	now := today.UnixMicro()
	span := int64(1000 * 24 * time.Hour / time.Microsecond)
	hour := float64(time.Hour / time.Microsecond)
	var tasks, events [][]any
	flush := func() {
		for _, c := range []struct {
			table string
			cols  []string
			rows  *[][]any
		}{
			{"tasks", []string{"id", "number", "kind", "state", "title", "route_id", "route_version", "route_name", "process_id", "process_name",
				"process_group_id", "process_position", "contract_id", "contract_number", "customer_id", "customer_name", "created_by", "created_at",
				"updated_at", "closed_at", "workflow_id", "sequence", "priority"}, &tasks},
			{"task_events", []string{"task_id", "sequence", "kind", "at", "process_id", "resolution", "notice_sent"}, &events},
		} {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"task", c.table}, c.cols, pgx.CopyFromRows(*c.rows)); err != nil {
				b.Fatalf("copying %s: %v", c.table, err)
			}
			*c.rows = (*c.rows)[:0]
		}
	}
	start := time.Now()
	for i := range n {
		id := int64(i + 1)
		// route 1 (connections) for six tasks in ten, the others in turn
		ri := 0
		if i%10 >= 6 {
			ri = 1 + i%(len(defs)-1)
		}
		r, def := routes[ri], defs[ri]
		kind := int32(taskv1.TaskKind_TASK_KIND_SERVICE)
		if r.Connection {
			kind = int32(taskv1.TaskKind_TASK_KIND_CONNECTION)
		}
		at := now - span + int64(float64(span)*float64(i)/float64(n)) + rng.Int64N(int64(hour))
		created := at
		var seq int64
		step := func(k taskv1.TaskEventKind, process int64, resolution string) {
			seq++
			events = append(events, []any{id, seq, int32(k), at, process, resolution, true})
		}
		state := taskv1.TaskState_TASK_STATE_CLOSED
		last := len(def.Processes)
		if kind == int32(taskv1.TaskKind_TASK_KIND_CONNECTION) && rng.IntN(12) == 0 {
			state, last = taskv1.TaskState_TASK_STATE_CANCELLED, rng.IntN(len(def.Processes))
		}
		breach := -1
		if rng.IntN(10) == 0 {
			breach = rng.IntN(len(def.Processes))
		}
		// comments fill the steps up to ten
		comments := max(0, 11-2-len(def.Processes))
		var p processDef
		for j := 0; j <= min(last, len(def.Processes)-1) && at < now; j++ {
			p = def.Processes[j]
			if j == 0 {
				step(taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, p.ID, "")
			} else {
				step(taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, p.ID, "")
			}
			stay := int64(rng.ExpFloat64() * 6 * hour)
			for c := comments * (j + 1) / len(def.Processes); c > comments*j/len(def.Processes); c-- {
				at += stay / 4
				step(taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, p.ID, "")
			}
			if j == breach {
				step(taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED, p.ID, "")
			}
			at += stay / 2
		}
		closedAt := int64(0)
		switch {
		case at >= now:
			state = taskv1.TaskState_TASK_STATE_OPEN
		case state == taskv1.TaskState_TASK_STATE_CANCELLED:
			step(taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED, 0, []string{"not_feasible", "customer_refused"}[rng.IntN(2)])
			closedAt = at
		default:
			step(taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, 0, "")
			closedAt = at
		}
		tasks = append(tasks, []any{id, fmt.Sprintf("T-%07d", id), kind, int32(state), "Task", r.ID, r.Version, def.Name, p.ID, p.Name,
			p.GroupID, int32(0), id, fmt.Sprintf("C-%07d", id), id, "Customer", int64(1), created, at, closedAt, fmt.Sprintf("task-%d", id), seq,
			int32(taskv1.TaskPriority_TASK_PRIORITY_NORMAL)})
		if len(tasks) == 10_000 {
			flush()
		}
	}
	flush()
	if _, err := conn.Exec(ctx, `ANALYZE task.tasks; ANALYZE task.task_events`); err != nil {
		b.Fatal(err)
	}
	var steps int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM task.task_events`).Scan(&steps); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("seeded %d tasks and %d steps in %s\n", n, steps, time.Since(start).Round(time.Second))
}

// bareReport runs the statements a report page is read with, as bare
// queries over the benchmark's own connection, and reads their rows.
func bareReport(ctx context.Context, conn *pgx.Conn, req *taskv1.GetTaskReportRequest, loc *time.Location) error {
	from, _ := time.ParseInLocation(time.DateOnly, req.GetFrom(), loc)
	last, _ := time.ParseInLocation(time.DateOnly, req.GetTo(), loc)
	q, err := newReportQuery(from, last, req.GetRouteId())
	if err != nil {
		return err
	}
	for _, stmt := range q.statements() {
		if err := servicetest.Drain(conn.Query(ctx, stmt)); err != nil {
			return err
		}
	}
	return nil
}
