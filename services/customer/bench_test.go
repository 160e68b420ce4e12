package customer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/contract"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// BenchmarkSearchAtScale measures the customer lookups operators make, at a
// size set by CRM_BENCH_CUSTOMERS (customers; twice as many phones, 1.2
// contracts each), on the PostgreSQL of CRM_TEST_DATABASE_URL. Each query
// runs through the gRPC service (the production server bootstrap with
// authentication on, over a loopback connection) and as the bare SQL
// query on the same data in the same run; the ratio of the two is what to
// watch. CRM_BENCH_DATABASE names a database to keep between runs (created
// and seeded when missing); otherwise a throwaway one is seeded.
//
//	CRM_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	CRM_BENCH_CUSTOMERS=1000000 go test -run '^$' -bench SearchAtScale -benchtime 2000x ./customer/
func BenchmarkSearchAtScale(b *testing.B) {
	n, common := servicetest.ScaleDatabase(b, "CRM_BENCH_CUSTOMERS")
	pop := population{Customers: n}
	ctx := context.Background()
	cdb, err := OpenDB(ctx, common, servicetest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	defer database.Close(cdb)
	kdb, err := contract.OpenDB(ctx, common, servicetest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	defer database.Close(kdb)
	if servicetest.Empty(b, common.DatabaseURL, "customer.customers") {
		pop.seed(b, common.DatabaseURL, true)
	}

	finder := &contractFinder{}
	customerAddr := servicetest.Serve(b, func(s *grpcserver.Server) {
		customerv1.RegisterCustomerServiceServer(s, newServer(b, cdb, finder))
	})
	customers := customerv1.NewCustomerServiceClient(servicetest.Dial(b, customerAddr))
	contractAddr := servicetest.Serve(b, func(s *grpcserver.Server) {
		asContract := customerv1.NewCustomerServiceClient(servicetest.DialAs(b, customerAddr, contract.Name))
		contractv1.RegisterContractServiceServer(s, contractServer(b, kdb, asContract))
	})
	contracts := contractv1.NewContractServiceClient(servicetest.Dial(b, contractAddr))
	finder.client = contractv1.NewContractServiceClient(servicetest.DialAs(b, contractAddr, Name))
	user := servicetest.User(ctx, 1, servicetest.Operator)

	conn, err := pgx.Connect(ctx, common.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)

	// Inputs: random customers, the same sequence for both paths.
	rng := rand.New(rand.NewPCG(1, 2))
	picks := make([]int, 8192)
	for i := range picks {
		picks[i] = rng.IntN(n)
	}
	nameParts := make([]string, len(picks))
	for i, c := range picks {
		nameParts[i] = namePart(pop.Name(c), rng)
	}
	pick := func(i int) int { return picks[i%len(picks)] }

	queries := []benchQuery{
		{
			name: "get-by-id",
			grpc: func(i int) error {
				_, err := customers.GetCustomer(user, &customerv1.GetCustomerRequest{Id: int64(pick(i) + 1)})
				return err
			},
			sql: func(i int) error {
				return servicetest.Drain(conn.Query(ctx, `SELECT c.id, c.kind, c.name, c.email, c.address, c.version, c.created_at, c.updated_at, p.id, p.number, p.label
					FROM customer.customers c JOIN customer.phones p ON p.customer_id = c.id WHERE c.id = $1 ORDER BY p.id`, int64(pick(i)+1)))
			},
		},
		{
			name: "phone-exact",
			grpc: func(i int) error {
				return expectHits(customers.SearchCustomers(user, &customerv1.SearchCustomersRequest{Query: localForm(pop.Mobile(pick(i)))}))
			},
			sql: func(i int) error {
				return servicetest.Drain(conn.Query(ctx, `SELECT c.id, c.kind, c.name, c.email, c.address, c.version, c.created_at, c.updated_at, p.id, p.number, p.label
					FROM customer.phones h JOIN customer.customers c ON c.id = h.customer_id JOIN customer.phones p ON p.customer_id = c.id
					WHERE h.number = $1 ORDER BY p.id`, pop.Mobile(pick(i))))
			},
		},
		{
			name: "phone-prefix",
			grpc: func(i int) error {
				return expectHits(customers.SearchCustomers(user, &customerv1.SearchCustomersRequest{Query: localForm(pop.Mobile(pick(i)))[:8]}))
			},
			sql: func(i int) error {
				// The customers of the first 20 numbers with the prefix, with
				// all their phones: what the service answers.
				prefix := pop.Mobile(pick(i))[:7]
				return servicetest.Drain(conn.Query(ctx, `SELECT c.id, c.kind, c.name, c.email, c.address, c.version, c.created_at, c.updated_at, p.id, p.number, p.label
					FROM (SELECT customer_id, number FROM customer.phones WHERE number >= $1 AND number < $2 ORDER BY number LIMIT 20) h
					JOIN customer.customers c ON c.id = h.customer_id JOIN customer.phones p ON p.customer_id = c.id
					ORDER BY h.number, p.id`, prefix, prefixUpperBound(prefix)))
			},
		},
		{
			name: "phone-last-4",
			grpc: func(i int) error {
				m := pop.Mobile(pick(i))
				return expectHits(customers.SearchCustomers(user, &customerv1.SearchCustomersRequest{Query: m[len(m)-4:]}))
			},
			sql: func(i int) error {
				// The customers of the first 20 numbers ending with the
				// digits, from the reversed numbers' index.
				m := pop.Mobile(pick(i))
				from := database.Reverse(m[len(m)-4:])
				return servicetest.Drain(conn.Query(ctx, `SELECT c.id, c.kind, c.name, c.email, c.address, c.version, c.created_at, c.updated_at, p.id, p.number, p.label
					FROM (SELECT customer_id, number FROM customer.phones WHERE reverse(number) >= $1 AND reverse(number) < $2 ORDER BY reverse(number) LIMIT 20) h
					JOIN customer.customers c ON c.id = h.customer_id JOIN customer.phones p ON p.customer_id = c.id
					ORDER BY reverse(h.number), p.id`, from, prefixUpperBound(from)))
			},
		},
		{
			name: "name-substring",
			grpc: func(i int) error {
				return expectHits(customers.SearchCustomers(user, &customerv1.SearchCustomersRequest{Query: nameParts[i%len(nameParts)]}))
			},
			sql: func(i int) error {
				// The floor of PERFORMANCE.md: the trigram index, any 20
				// matches (the service answers the newest 20).
				return servicetest.Drain(conn.Query(ctx, `SELECT id, kind, name FROM customer.customers WHERE name_lower LIKE $1 LIMIT 20`,
					"%"+textsearch.Fold(nameParts[i%len(nameParts)])+"%"))
			},
		},
		{
			name: "contracts-of-customer",
			grpc: func(i int) error {
				_, err := contracts.ListContracts(user, &contractv1.ListContractsRequest{CustomerId: int64(pick(i) + 1)})
				return err
			},
			sql: func(i int) error {
				return servicetest.Drain(conn.Query(ctx, `SELECT id, number, customer_id, tariff_id, address, status, connection_task_id, created_at, updated_at, activated_at
					FROM contract.contracts WHERE customer_id = $1 ORDER BY id DESC LIMIT 21`, int64(pick(i)+1)))
			},
		},
	}

	// The bare query and the service call each read inputs of their own,
	// so neither reads pages the other just brought in.
	half := len(picks) / 2
	input := func(i int) int { return 200 + (i-200)%(half-200) }
	var races []servicetest.Race
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			r := servicetest.RunRace(b, q.name, 200,
				func(i int) error { return q.sql(min(i, input(i))) },
				func(i int) error { return q.grpc(half + min(i, input(i))) })
			races = append(slices.DeleteFunc(races, func(o servicetest.Race) bool { return o.Name == q.name }), r)
		})
	}
	servicetest.PrintRaces(fmt.Sprintf("customer search at %d customers (%d phones), one client", n, 2*n), races)
}

type benchQuery struct {
	name      string
	grpc, sql func(i int) error
}

func expectHits(resp *customerv1.SearchCustomersResponse, err error) error {
	if err != nil {
		return err
	}
	if len(resp.GetCustomers()) == 0 {
		return fmt.Errorf("the search found nobody")
	}
	return nil
}

// localForm writes "+79123456789" as people type it: "8 912 345-67-89".
func localForm(e164 string) string {
	d := e164[2:]
	return "8 " + d[:3] + " " + d[3:6] + "-" + d[6:8] + "-" + d[8:]
}

// namePart is what an operator types to find a customer by name: the
// first six letters of one of its words (the surname, a first name, a
// patronymic, a word of a company's name), or the whole word when shorter.
func namePart(name string, rng *rand.Rand) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) })
	var long []string
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 3 {
			long = append(long, w)
		}
	}
	w := []rune(long[rng.IntN(len(long))])
	return string(w[:min(6, len(w))])
}
