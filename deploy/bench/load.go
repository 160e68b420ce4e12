package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/restclient"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/database"
)

// LoadOptions size the load run.
type LoadOptions struct {
	Customers     int           // seeded through the customer service, two phones each
	ClosedTasks   int           // bulk-loaded closed history (rows, no workflows)
	OpenTasks     int           // real service tasks with running workflows
	BurstTasks    int           // connection tasks an import opens while onboarding and reads are measured
	Rate          int           // requests per second of each read phase
	MixRate       int           // requests per second of the mixed load
	Phase         time.Duration // how long each phase runs
	SeedWorkers   int
	AdminPassword string
	// Topology is the stack measured; nil: Embedded, on CRM_DATABASE_URL.
	Topology Topology
}

// readOp is one kind of read, asked through REST and as bare SQL.
type readOp struct {
	name string
	rest func(r *rand.Rand) string
	sql  func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error
}

func readOps(customers int) []readOp {
	nat := func(r *rand.Rand) (int, string) {
		i := r.IntN(customers)
		return i, strings.TrimPrefix(phoneOf(i, r.IntN(2)), "+7")
	}
	scan := func(rows pgx.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
		}
		return rows.Err()
	}
	return []readOp{
		{"phone lookup (8 9xx xxx-xx-xx)",
			func(r *rand.Rand) string {
				_, n := nat(r)
				return "/api/v1/customers?query=" + url.QueryEscape(fmt.Sprintf("8 %s %s-%s-%s", n[:3], n[3:6], n[6:8], n[8:]))
			},
			func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error {
				_, n := nat(r)
				return scan(db.Query(ctx, `SELECT c.id, c.name, q.number FROM customer.phones p JOIN customer.customers c ON c.id = p.customer_id JOIN customer.phones q ON q.customer_id = c.id WHERE p.number = $1`, "+7"+n))
			}},
		{"phone prefix (first 6 digits)",
			func(r *rand.Rand) string { _, n := nat(r); return "/api/v1/customers?query=8" + n[:5] },
			func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error {
				_, n := nat(r)
				lo := "+7" + n[:5]
				return scan(db.Query(ctx, `SELECT c.id, c.name, p.number FROM (SELECT customer_id, number FROM customer.phones WHERE number >= $1 AND number < $2 ORDER BY number LIMIT 20) p JOIN customer.customers c ON c.id = p.customer_id`, lo, prefixEnd(lo)))
			}},
		{"phone part (last 4 digits)",
			func(r *rand.Rand) string { _, n := nat(r); return "/api/v1/customers?query=" + n[len(n)-4:] },
			func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error {
				// The numbers ending with the digits, read on the index of
				// reversed numbers as the service asks (docs/SEARCH.md).
				_, n := nat(r)
				from := database.Reverse(n[len(n)-4:])
				return scan(db.Query(ctx, `SELECT c.id, c.name, h.number FROM (SELECT customer_id, number FROM customer.phones WHERE reverse(number) >= $1 AND reverse(number) < $2 ORDER BY reverse(number) LIMIT 20) h JOIN customer.customers c ON c.id = h.customer_id`, from, prefixEnd(from)))
			}},
		{"customer by id",
			func(r *rand.Rand) string { return fmt.Sprintf("/api/v1/customers/%d", r.IntN(customers)+1) },
			func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error {
				return scan(db.Query(ctx, `SELECT c.id, c.name, p.number FROM customer.customers c JOIN customer.phones p ON p.customer_id = c.id WHERE c.id = $1`, r.IntN(customers)+1))
			}},
		{"name search (6 letters)",
			func(r *rand.Rand) string {
				return "/api/v1/customers?query=" + url.QueryEscape(namePart(r))
			},
			func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error {
				part := strings.ToLower(namePart(r))
				return scan(db.Query(ctx, `SELECT id, name FROM customer.customers WHERE name_lower LIKE $1 LIMIT 20`, "%"+part+"%"))
			}},
		{"name search, ё typed as е (6 letters)",
			func(r *rand.Rand) string {
				return "/api/v1/customers?query=" + url.QueryEscape(yoPart(r))
			},
			func(ctx context.Context, db *pgxpool.Pool, r *rand.Rand) error {
				return scan(db.Query(ctx, `SELECT id, name FROM customer.customers WHERE name_lower LIKE $1 LIMIT 20`, "%"+strings.ToLower(yoPart(r))+"%"))
			}},
		{"queue page (group, open, 50)",
			func(*rand.Rand) string { return "/api/v1/tasks?groupId=5&state=TASK_STATE_OPEN&pageSize=50" },
			func(ctx context.Context, db *pgxpool.Pool, _ *rand.Rand) error {
				return scan(db.Query(ctx, `SELECT * FROM task.tasks WHERE state = 1 AND process_group_id = 5 ORDER BY id DESC LIMIT 51`))
			}},
	}
}

// namePart is what a person types to find a customer by name: the first
// six letters of a common surname, or all of a shorter one.
func namePart(r *rand.Rand) string {
	name := []rune(surnames[r.IntN(len(surnames))])
	return string(name[:min(6, len(name))])
}

// yoPart is a surname with ё as a person types it, with е: "Федоро"
// must find "Фёдоров" (the stored names are folded the same way).
func yoPart(r *rand.Rand) string {
	name := []rune(strings.ReplaceAll(yoSurnames[r.IntN(len(yoSurnames))], "ё", "е"))
	return string(name[:min(6, len(name))])
}

var yoSurnames = func() (with []string) {
	for _, s := range surnames {
		if strings.Contains(s, "ё") {
			with = append(with, s)
		}
	}
	return with
}()

func prefixEnd(p string) string {
	b := []byte(p)
	b[len(b)-1]++
	return string(b)
}

// RunLoad seeds the stack's PostgreSQL through the services and measures
// the read mix at a steady rate through REST beside bare SQL, onboarding,
// and a mixed load with commands.
func RunLoad(ctx context.Context, cfg localstack.Config, opt LoadOptions, out io.Writer) error {
	if opt.Topology == nil && !cfg.UsesPostgres() {
		return fmt.Errorf("the load run needs PostgreSQL: set CRM_DATABASE_URL")
	}
	r, err := start(ctx, opt.Topology, cfg, opt.AdminPassword, out)
	if err != nil {
		return err
	}
	defer r.stop()
	api, tg := r.api, r.tg
	stack, ok := r.stack.(*localstack.Stack)
	if !ok {
		return errors.New("the load run seeds the services through their gRPC: it runs on the embedded and production topologies")
	}
	dialer, err := stack.Dialer()
	if err != nil {
		return err
	}
	conn, err := dialer.Dial("customer", stack.Endpoints().Customer)
	if err != nil {
		return err
	}
	defer conn.Close()
	database := stack.DatabaseURL()
	fmt.Fprintf(out, "seeding %d customers…\n", opt.Customers)
	if err := seedCustomers(ctx, out, customerv1.NewCustomerServiceClient(conn), opt.Customers, opt.SeedWorkers); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, database)
	if err != nil {
		return err
	}
	defer pool.Close()
	for _, t := range []string{"customer.customers", "customer.phones"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "opening %d service tasks (running workflows)…\n", opt.OpenTasks)
	w, err := prepare(api)
	if err != nil {
		return err
	}
	open, err := openMany(ctx, api, w, opt.OpenTasks, 8)
	if err != nil {
		return err
	}
	if opt.ClosedTasks > 0 {
		fmt.Fprintf(out, "bulk-loading %d closed tasks as read-model rows (no workflows)…\n", opt.ClosedTasks)
		c, err := pgx.Connect(ctx, database)
		if err != nil {
			return err
		}
		err = seedClosedTasks(ctx, c, opt.ClosedTasks, opt.Customers, 1)
		c.Close(ctx)
		if err != nil {
			return err
		}
	}

	// The reads start on a settled database: the bulk load's rows
	// analysed and written out now rather than by autovacuum and the
	// checkpointer in the middle of a phase.
	for _, q := range []string{"VACUUM ANALYZE task.tasks", "CHECKPOINT"} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return err
		}
	}

	var rows []Row
	for _, op := range readOps(opt.Customers) {
		fmt.Fprintf(out, "measuring %s at %d/s…\n", op.name, opt.Rate)
		pick := picker(1, 2)
		bare := paced(ctx, "SQL   "+op.name, opt.Rate, opt.Phase, func(int) error { return op.sql(ctx, pool, pick()) })
		rest := paced(ctx, "REST  "+op.name, opt.Rate, opt.Phase, func(int) error { return api.Call(http.MethodGet, op.rest(pick()), nil, nil) })
		rows = append(rows, Row{Sample: bare}, Row{Sample: rest, Baseline: bare})
	}

	newcomers, err := newCustomers(api, "+7998", onboardRate*int(opt.Phase/time.Second)+1)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "measuring onboarding (POST /api/v1/contracts → task at process 1) at %d/s…\n", onboardRate)
	rows = append(rows, Row{Sample: paced(ctx, "REST  onboarding: new contract + its task", onboardRate, opt.Phase, onboarding(api, newcomers))})

	if opt.BurstTasks > 0 {
		fmt.Fprintf(out, "measuring onboarding and reads while an import opens %d connection tasks…\n", opt.BurstTasks)
		burst, err := duringImport(ctx, out, api, readOps(opt.Customers), opt.BurstTasks, opt.Phase)
		if err != nil {
			return err
		}
		rows = append(rows, burst...)
	}

	fmt.Fprintf(out, "measuring a mixed load at %d/s (reads, comments, advances)…\n", opt.MixRate)
	mix := mixed(ctx, api, readOps(opt.Customers), w, open, opt.MixRate, opt.Phase)
	rows = append(rows, mix...)

	fmt.Fprintf(out, "\n%s, %d cores, %d customers, %d phones, %d open tasks with workflows, %d closed tasks as rows\n",
		time.Now().UTC().Format(time.RFC3339), numCPU(), opt.Customers, 2*opt.Customers, opt.OpenTasks, opt.ClosedTasks)
	Report(out, rows)
	reportTelegram(out, tg)
	return nil
}

// picker hands each concurrent request a generator of its own, seeded in
// turn from one seeded source, so a run asks the same things each time.
func picker(seed1, seed2 uint64) func() *rand.Rand {
	r := rand.New(rand.NewPCG(seed1, seed2))
	var mu sync.Mutex
	return func() *rand.Rand {
		mu.Lock()
		defer mu.Unlock()
		return rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	}
}

// onboardRate is new contracts a second: a busy sales desk's pace.
const onboardRate = 5

// newCustomers registers n customers, one phone each, numbered from prefix.
func newCustomers(api *restclient.Client, prefix string, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		var c struct{ ID string }
		if err := api.Call(http.MethodPost, "/api/v1/customers", map[string]any{"name": fmt.Sprintf("Новый клиент %s %d", prefix, i), "phones": []map[string]string{{"number": fmt.Sprintf("%s%07d", prefix, i)}}}, &c); err != nil {
			return nil, err
		}
		ids[i] = c.ID
	}
	return ids, nil
}

// onboarding opens the i-th customer's contract, as the console does, and
// checks it came with its connection task.
func onboarding(api *restclient.Client, customers []string) func(i int) error {
	return func(i int) error {
		var k struct {
			ConnectionTaskID string `json:"connectionTaskId"`
		}
		if err := api.Call(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": customers[i], "tariffId": "1", "address": "Load"}, &k); err != nil {
			return err
		}
		if k.ConnectionTaskID == "" || k.ConnectionTaskID == "0" {
			return fmt.Errorf("contract without its task")
		}
		return nil
	}
}

// duringImport runs an import of n customers, each with a contract to
// connect — n new connection tasks, the bulk work an operator moving to
// the CRM starts — and measures onboarding, a phone lookup and a queue
// page while it runs: what the people at the desk feel of it (P4). Then
// it stops the import and reports its pace.
func duringImport(ctx context.Context, out io.Writer, api *restclient.Client, ops []readOp, n int, d time.Duration) ([]Row, error) {
	var file strings.Builder
	file.WriteString("Имя;Телефоны;Тариф;Адрес подключения\n")
	for i := range n {
		fmt.Fprintf(&file, "Импорт %d;+7997%07d;1;Load\n", i, i)
	}
	resp, err := api.Send(http.MethodPost, "/api/v1/imports?fileName=burst.csv", "text/csv", strings.NewReader(file.String()))
	if err != nil {
		return nil, err
	}
	var imp struct {
		ID, State, Error                                  string
		ProblemRows, ContractsToConnect, ContractsCreated int
	}
	if resp.Status != http.StatusCreated {
		return nil, fmt.Errorf("checking the import: %d %s", resp.Status, resp.Raw)
	}
	if err := json.Unmarshal(resp.Raw, &imp); err != nil {
		return nil, err
	}
	if imp.ProblemRows != 0 || imp.ContractsToConnect != n {
		return nil, fmt.Errorf("the import's check: %s", resp.Raw)
	}
	newcomers, err := newCustomers(api, "+7995", onboardRate*int(d/time.Second)+1)
	if err != nil {
		return nil, err
	}
	lookup, queue := ops[0], ops[len(ops)-1]
	pick := picker(5, 6)
	read := func(op readOp) func(int) error {
		return func(int) error { return api.Call(http.MethodGet, op.rest(pick()), nil, nil) }
	}

	if err := api.Call(http.MethodPost, "/api/v1/imports/"+imp.ID+":run", map[string]any{}, nil); err != nil {
		return nil, err
	}
	start := time.Now()
	samples := make([]*Sample, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		samples[0] = paced(ctx, "burst onboarding: new contract + its task", onboardRate, d, onboarding(api, newcomers))
	})
	wg.Go(func() { samples[1] = paced(ctx, "burst "+lookup.name, 50, d, read(lookup)) })
	wg.Go(func() { samples[2] = paced(ctx, "burst "+queue.name, 50, d, read(queue)) })
	wg.Wait()
	// The import is stopped rather than waited for: at the pace of new
	// connections it takes far longer than the phase, and the mix after
	// it is to start on a stack without it. What it did meanwhile is its
	// pace under the measured load.
	if err := api.Call(http.MethodPost, "/api/v1/imports/"+imp.ID+":cancel", map[string]any{}, nil); err != nil {
		return nil, err
	}
	for imp.State != "IMPORT_STATE_CANCELLED" && imp.State != "IMPORT_STATE_DONE" {
		if imp.State == "IMPORT_STATE_FAILED" {
			return nil, fmt.Errorf("the import failed: %s", imp.Error)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		if err := api.Call(http.MethodGet, "/api/v1/imports/"+imp.ID, nil, &imp); err != nil {
			return nil, err
		}
	}
	took := time.Since(start)
	fmt.Fprintf(out, "import: %d of %d contracts to connect written in %s (%.1f a second), stopped after the phase\n",
		imp.ContractsCreated, n, took.Round(time.Second), float64(imp.ContractsCreated)/took.Seconds())
	var rows []Row
	for _, s := range samples {
		rows = append(rows, Row{Sample: s})
	}
	return rows, nil
}

// openMany opens n service tasks with workers parallel clients.
func openMany(ctx context.Context, api *restclient.Client, w *world, n, workers int) ([]string, error) {
	ids := make([]string, n)
	err := forEach(ctx, n, workers, func(_ context.Context, i int) error {
		var t taskView
		if err := api.Call(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": w.contract, "routeId": w.route, "title": fmt.Sprintf("load %d", i)}, &t); err != nil {
			return err
		}
		ids[i] = t.ID
		return nil
	})
	return ids, err
}

// mixed runs reads, comments and advances together at one rate: 16 reads,
// 3 comments and 1 advance in every 20 requests.
func mixed(ctx context.Context, api *restclient.Client, ops []readOp, w *world, open []string, rate int, d time.Duration) []Row {
	samples := map[string]*Sample{}
	names := []string{}
	for _, op := range ops {
		samples[op.name] = &Sample{Name: "mix   " + op.name}
		names = append(names, op.name)
	}
	samples["comment"] = &Sample{Name: "mix   comment"}
	samples["advance"] = &Sample{Name: "mix   advance"}
	var mu sync.Mutex
	pos := map[string]int{}
	nextTask := 0
	pick := picker(3, 4)
	total := paced(ctx, "mix   all requests", rate, d, func(i int) error {
		rr := pick()
		start := time.Now()
		var kind string
		var err error
		switch slot := i % 20; {
		case slot < 16:
			op := ops[slot%len(ops)]
			kind = op.name
			err = api.Call(http.MethodGet, op.rest(rr), nil, nil)
		case slot < 19:
			kind = "comment"
			err = api.Call(http.MethodPost, "/api/v1/tasks/"+open[rr.IntN(len(open))]+"/comments", map[string]string{"text": "called the customer"}, nil)
		default:
			kind = "advance"
			mu.Lock()
			id := open[nextTask%len(open)]
			nextTask++
			p := pos[id]
			if p < len(w.processes)-1 {
				pos[id] = p + 1
			}
			mu.Unlock()
			err = api.Call(http.MethodPost, "/api/v1/tasks/"+id+":advance", map[string]any{"processId": w.processes[p].ID}, nil)
		}
		samples[kind].add(time.Since(start), err)
		return err
	})
	rows := []Row{{Sample: total}}
	for _, n := range append(names, "comment", "advance") {
		s := samples[n]
		s.elapsed = total.elapsed
		rows = append(rows, Row{Sample: s})
	}
	return rows
}
