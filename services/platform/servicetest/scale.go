package servicetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/telecomcrm/crm/services/platform/config"
)

// What the benchmarks at scale share: a seeded database kept between runs,
// and the race of a service call against the bare query it is built on.

// ScaleDatabase returns the size a benchmark at scale is asked for (the
// number in the variable sizeEnv) and the configuration of its database on
// the PostgreSQL of CRM_TEST_DATABASE_URL: the one CRM_BENCH_DATABASE
// names, kept between runs (created when missing), or a throwaway one. The
// benchmark is skipped unless both variables are set.
func ScaleDatabase(b *testing.B, sizeEnv string) (int, config.Common) {
	admin := os.Getenv(PostgresEnv)
	n, _ := strconv.Atoi(os.Getenv(sizeEnv))
	if admin == "" || n <= 0 {
		b.Skip("set " + PostgresEnv + " and " + sizeEnv + " to run")
	}
	name := os.Getenv("CRM_BENCH_DATABASE")
	if name == "" {
		return n, Common(b)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			b.Fatal(err)
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	return n, config.Common{DataDir: b.TempDir(), DatabaseURL: u.String(), LogFormat: "text"}
}

// Empty tells whether the table (schema-qualified) of the database at
// dbURL has no row yet: a kept database is seeded once.
func Empty(b *testing.B, dbURL, table string) bool {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var found bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+`)`).Scan(&found); err != nil {
		b.Fatal(err)
	}
	return !found
}

// Drain reads a query's rows to the end, as a client of the bare query
// would.
func Drain(rows pgx.Rows, err error) error {
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// Latency is a run's median and 99th percentile.
type Latency struct {
	P50, P99 time.Duration
	Samples  int
}

// Summarize sorts times and reads their percentiles.
func Summarize(times []time.Duration) Latency {
	if len(times) == 0 {
		return Latency{}
	}
	slices.Sort(times)
	at := func(q float64) time.Duration { return times[min(len(times)-1, int(q*float64(len(times))))] }
	return Latency{P50: at(0.50), P99: at(0.99), Samples: len(times)}
}

// Race is one line of a race's table: a service call and its bare query.
type Race struct {
	Name          string
	Bare, Service Latency
}

// RunRace times bare and service b.N times each, after warm untimed calls
// of both. Each iteration runs both, taking turns at going first: a
// machine busy with something else slows both alike, and the ratio holds.
// i counts from 0 over the warm calls and on over the timed ones; each
// function picks its input from it.
func RunRace(b *testing.B, name string, warm int, bare, service func(i int) error) Race {
	for i := range warm {
		if err := bare(i); err != nil {
			b.Fatal(err)
		}
		if err := service(i); err != nil {
			b.Fatal(err)
		}
	}
	bareTimes := make([]time.Duration, 0, b.N)
	serviceTimes := make([]time.Duration, 0, b.N)
	timed := func(run func(int) error, i int, into *[]time.Duration) {
		t0 := time.Now()
		if err := run(i); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(t0))
	}
	b.ResetTimer()
	for n := range b.N {
		i := warm + n
		if n%2 == 0 {
			timed(bare, i, &bareTimes)
			timed(service, i, &serviceTimes)
		} else {
			timed(service, i, &serviceTimes)
			timed(bare, i, &bareTimes)
		}
	}
	b.StopTimer()
	r := Race{Name: name, Bare: Summarize(bareTimes), Service: Summarize(serviceTimes)}
	b.ReportMetric(float64(r.Bare.P50.Microseconds()), "sql-p50-µs")
	b.ReportMetric(float64(r.Bare.P99.Microseconds()), "sql-p99-µs")
	b.ReportMetric(float64(r.Service.P50.Microseconds()), "grpc-p50-µs")
	b.ReportMetric(float64(r.Service.P99.Microseconds()), "grpc-p99-µs")
	b.ReportMetric(float64(r.Service.P50)/float64(r.Bare.P50), "p50-ratio")
	b.ReportMetric(float64(r.Service.P99)/float64(r.Bare.P99), "p99-ratio")
	return r
}

// PrintRaces writes the races under a title, one line each.
func PrintRaces(title string, races []Race) {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "query\tsamples\tSQL p50\tSQL p99\tgRPC p50\tgRPC p99\tp50 ratio\tp99 ratio\t\n")
	for _, r := range races {
		if r.Bare.Samples == 0 || r.Service.Samples == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t\n", r.Name, r.Service.Samples, ms(r.Bare.P50), ms(r.Bare.P99), ms(r.Service.P50), ms(r.Service.P99),
			float64(r.Service.P50)/float64(r.Bare.P50), float64(r.Service.P99)/float64(r.Bare.P99))
	}
	w.Flush()
	fmt.Fprintf(os.Stdout, "\n%s:\n%s\n", title, sb.String())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
