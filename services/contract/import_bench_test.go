package contract

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// BenchmarkImport checks and runs an import of CRM_BENCH_IMPORT_ROWS rows
// (10,000 by default) — a customer with two phones and a contract in force
// each — through the services on the PostgreSQL of CRM_TEST_DATABASE_URL,
// and in the same run COPYs the same rows into tables made like the
// import's (with their indexes): the floor an import cannot beat. Batches
// are written as the import workflow writes them, one call each; the
// workflow adds one activity per thousand rows.
//
//	CRM_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	CRM_BENCH_IMPORT_ROWS=100000 go test -run '^$' -bench Import -benchtime 1x ./contract/
func BenchmarkImport(b *testing.B) {
	if !servicetest.OnPostgres() {
		b.Skip("set CRM_TEST_DATABASE_URL: the figure is PostgreSQL's")
	}
	rows, _ := strconv.Atoi(os.Getenv("CRM_BENCH_IMPORT_ROWS"))
	if rows <= 0 {
		rows = 10_000
	}
	importLimit = 1 << 30
	s := newStack(b)
	var check, run, copying time.Duration
	for i := range b.N {
		file := benchFile(i, rows)
		start := time.Now()
		imp, err := s.check(s.admin, "bench.csv", file)
		if err != nil || imp.GetProblemRows() != 0 {
			b.Fatalf("check: %v %v", imp, err)
		}
		check += time.Since(start)
		start = time.Now()
		if done := s.run(b, imp.GetId()); done.GetCustomersCreated() != int32(rows) || done.GetContractsCreated() != int32(rows) {
			b.Fatalf("run: %v", done)
		}
		run += time.Since(start)
		start = time.Now()
		copyRows(b, s, i, rows)
		copying += time.Since(start)
	}
	total := float64(b.N * rows)
	rate := func(d time.Duration) float64 { return total / d.Seconds() }
	b.ReportMetric(rate(check), "check_rows/s")
	b.ReportMetric(rate(run), "run_rows/s")
	b.ReportMetric(rate(copying), "copy_rows/s")
	b.ReportMetric(copying.Seconds()/run.Seconds(), "run/copy")
	fmt.Fprintf(os.Stderr, "import of %d rows: check %.0f rows/s, run %.0f rows/s, COPY of the same rows %.0f rows/s; run/COPY %.2f\n",
		rows, rate(check), rate(run), rate(copying), copying.Seconds()/run.Seconds())
}

// benchFile is rows customers of the i-th run, each with two numbers of
// its own and a contract in force.
func benchFile(i, rows int) string {
	var f strings.Builder
	f.WriteString("Внешний код,Имя,Телефоны,Адрес,Тариф,Состояние договора\n")
	for r := range rows {
		n := i*rows + r
		fmt.Fprintf(&f, "A%d,Абонент %d,\"+7916%07d, +7926%07d\",\"Москва, Ленина, %d\",Home 100,действует\n", n, n, n, n, n)
	}
	return f.String()
}

// copyRows COPYs what the i-th run imported into tables made like the
// services' own: the customers, their phones, their contracts.
func copyRows(b *testing.B, s *stack, i, rows int) {
	b.Helper()
	sqlDB, err := s.customerDB.DB()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS bench_customers (LIKE customers INCLUDING ALL)`,
		`CREATE TABLE IF NOT EXISTS bench_phones (LIKE phones INCLUDING ALL)`,
		`CREATE TABLE IF NOT EXISTS bench_contracts (LIKE contract.contracts INCLUDING ALL)`,
	} {
		if _, err := sqlDB.ExecContext(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().UnixMicro()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pg := dc.(*stdlib.Conn).Conn()
		base := int64(i*rows) + 1
		copyIn := func(table string, cols []string, row func(n int64) []any, count int) error {
			k := 0
			_, err := pg.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
				if k == count {
					return nil, nil
				}
				k++
				return row(base + int64(k-1)/int64(count/rows)), nil
			}))
			return err
		}
		if err := copyIn("bench_customers", []string{"id", "kind", "name", "name_lower", "email", "address", "version", "created_at", "updated_at"}, func(n int64) []any {
			return []any{n, 1, fmt.Sprintf("Абонент %d", n), fmt.Sprintf("абонент %d", n), "", fmt.Sprintf("Москва, Ленина, %d", n), 1, now, now}
		}, rows); err != nil {
			return err
		}
		phone := 0
		if err := copyIn("bench_phones", []string{"id", "customer_id", "number", "label"}, func(n int64) []any {
			phone++
			return []any{int64(2*i*rows + phone), n, fmt.Sprintf("+79%d6%07d", 1+phone%2, n-1), ""}
		}, 2*rows); err != nil {
			return err
		}
		return copyIn("bench_contracts", []string{"id", "number", "customer_id", "tariff_id", "address", "status", "connection_task_id", "version", "created_at", "updated_at", "activated_at"}, func(n int64) []any {
			return []any{n, formatNumber(n), n, 1, fmt.Sprintf("Москва, Ленина, %d", n), 2, 0, 1, now, now, 0}
		}, rows)
	})
	if err != nil {
		b.Fatal(err)
	}
}
