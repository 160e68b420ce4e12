package contract

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

func TestANewDatabaseOffersTariffsForPersonsAndCompanies(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	resp, err := s.contracts.ListTariffs(s.viewer, &contractv1.ListTariffsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[customerv1.CustomerKind]int{}
	for _, tf := range resp.GetTariffs() {
		kinds[tf.GetCustomerKind()]++
		if !tf.GetActive() || tf.GetMonthlyFee().GetCurrency() != "RUB" || tf.GetEtag() == "" {
			t.Fatalf("default tariff %v", tf)
		}
	}
	if kinds[customerv1.CustomerKind_CUSTOMER_KIND_PERSON] < 3 || kinds[customerv1.CustomerKind_CUSTOMER_KIND_COMPANY] < 2 {
		t.Fatalf("default tariffs by kind: %v", kinds)
	}
	home := s.tariff(t, "Home 100")
	if home.GetTechnology() != "FTTB" || home.GetSpeedMbps() != 100 || home.GetMonthlyFee().GetAmountMinor() != 50000 {
		t.Fatalf("Home 100 is %v", home)
	}
}

func TestCreateTariffNormalisesAndIsActiveUnlessSaidOtherwise(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	resp, err := s.contracts.CreateTariff(s.admin, &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{
		Name: " Home DOCSIS 300 ", Technology: "docsis", SpeedMbps: 300, MonthlyFee: &contractv1.Money{AmountMinor: 65000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tf := resp.GetTariff()
	if tf.GetId() == 0 || tf.GetName() != "Home DOCSIS 300" || tf.GetTechnology() != "DOCSIS" || !tf.GetActive() ||
		tf.GetCustomerKind() != customerv1.CustomerKind_CUSTOMER_KIND_PERSON || tf.GetMonthlyFee().GetCurrency() != "RUB" {
		t.Fatalf("created %v", tf)
	}
	off, err := s.contracts.CreateTariff(s.admin, &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{
		Name: "Draft", Technology: "LTE", SpeedMbps: 10, MonthlyFee: &contractv1.Money{AmountMinor: 1}, Active: proto.Bool(false),
	}})
	if err != nil || off.GetTariff().GetActive() {
		t.Fatalf("an inactive create gave %v, %v", off.GetTariff(), err)
	}
	got, err := s.contracts.GetTariff(s.viewer, &contractv1.GetTariffRequest{Id: tf.GetId()})
	if err != nil || !proto.Equal(got.GetTariff(), tf) {
		t.Fatalf("read back %v, %v; want %v", got.GetTariff(), err, tf)
	}
}

func TestCreateTariffRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	before := s.count(t, "tariffs")
	good := func() *contractv1.Tariff {
		return &contractv1.Tariff{Name: "T", Technology: "FTTB", SpeedMbps: 100, MonthlyFee: &contractv1.Money{AmountMinor: 100}}
	}
	for _, tc := range []struct {
		name   string
		change func(*contractv1.Tariff)
		field  string
	}{
		{"empty name", func(t *contractv1.Tariff) { t.Name = " " }, "name"},
		{"no technology", func(t *contractv1.Tariff) { t.Technology = "" }, "technology"},
		{"technology with punctuation", func(t *contractv1.Tariff) { t.Technology = "x-DSL" }, "technology"},
		{"zero speed", func(t *contractv1.Tariff) { t.SpeedMbps = 0 }, "speedMbps"},
		{"negative fee", func(t *contractv1.Tariff) { t.MonthlyFee.AmountMinor = -1 }, "monthlyFee.amountMinor"},
		{"bad currency", func(t *contractv1.Tariff) { t.MonthlyFee.Currency = "rubles" }, "monthlyFee.currency"},
		{"no fee", func(t *contractv1.Tariff) { t.MonthlyFee = nil }, "monthlyFee"},
		{"unknown kind", func(t *contractv1.Tariff) { t.CustomerKind = 5 }, "customerKind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := good()
			tc.change(tf)
			_, err := s.contracts.CreateTariff(s.admin, &contractv1.CreateTariffRequest{Tariff: tf})
			f := wantCode(t, err, codes.InvalidArgument)
			if f.fields[tc.field] == "" {
				t.Fatalf("violations %v, want one on %s", f.fields, tc.field)
			}
		})
	}
	if after := s.count(t, "tariffs"); after != before {
		t.Fatalf("%d tariffs written by refused creates", after-before)
	}
}

func TestTariffChangesNeedSettingsWrite(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.contracts.CreateTariff(s.operator, &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{Name: "T"}})
	wantCode(t, err, codes.PermissionDenied)
	_, err = s.contracts.UpdateTariff(s.operator, &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: 1, Active: proto.Bool(false)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}}})
	wantCode(t, err, codes.PermissionDenied)
	if !s.tariff(t, "Home 100").GetActive() {
		t.Fatal("a refused update deactivated the tariff")
	}
}

func TestUpdateTariffChangesTheMaskedFieldsAndDeactivates(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	home := s.tariff(t, "Home 100")
	resp, err := s.contracts.UpdateTariff(s.admin, &contractv1.UpdateTariffRequest{
		Tariff:     &contractv1.Tariff{Id: home.GetId(), Name: "ignored", MonthlyFee: &contractv1.Money{AmountMinor: 55000}, SpeedMbps: 150, Etag: home.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"monthly_fee.amount_minor", "speed_mbps", "id", "etag"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	u := resp.GetTariff()
	if u.GetName() != "Home 100" || u.GetMonthlyFee().GetAmountMinor() != 55000 || u.GetMonthlyFee().GetCurrency() != "RUB" || u.GetSpeedMbps() != 150 || u.GetEtag() == home.GetEtag() {
		t.Fatalf("updated %v", u)
	}
	off, err := s.contracts.UpdateTariff(s.admin, &contractv1.UpdateTariffRequest{
		Tariff:     &contractv1.Tariff{Id: home.GetId(), Active: proto.Bool(false)},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}},
	})
	if err != nil || off.GetTariff().GetActive() {
		t.Fatalf("deactivating gave %v, %v", off.GetTariff(), err)
	}
	listed, err := s.contracts.ListTariffs(s.viewer, &contractv1.ListTariffsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range listed.GetTariffs() {
		if tf.GetId() == home.GetId() {
			t.Fatal("a deactivated tariff is listed among the active ones")
		}
	}
}

func TestUpdateTariffWithAStaleEtagIsAbortedAndChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	home := s.tariff(t, "Home 100")
	mask := &fieldmaskpb.FieldMask{Paths: []string{"name"}}
	first, err := s.contracts.UpdateTariff(s.admin, &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId(), Name: "Home 100+", Etag: home.GetEtag()}, UpdateMask: mask})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.contracts.UpdateTariff(s.admin, &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId(), Name: "Home stale", Etag: home.GetEtag()}, UpdateMask: mask})
	f := wantCode(t, err, codes.Aborted)
	if f.reason != "STALE_ETAG" {
		t.Fatalf("reason %q", f.reason)
	}
	now, err := s.contracts.GetTariff(s.viewer, &contractv1.GetTariffRequest{Id: home.GetId()})
	if err != nil || now.GetTariff().GetName() != "Home 100+" || now.GetTariff().GetEtag() != first.GetTariff().GetEtag() {
		t.Fatalf("after the stale update: %v, %v", now.GetTariff(), err)
	}
}

func TestUpdateTariffRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	home := s.tariff(t, "Home 100")
	mask := func(p ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: p} }
	for _, tc := range []struct {
		name string
		req  *contractv1.UpdateTariffRequest
		code codes.Code
	}{
		{"empty name", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId()}, UpdateMask: mask("name")}, codes.InvalidArgument},
		{"zero speed", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId()}, UpdateMask: mask("speed_mbps")}, codes.InvalidArgument},
		{"no mask", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId(), Name: "x"}}, codes.InvalidArgument},
		{"unknown field", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId()}, UpdateMask: mask("colour")}, codes.InvalidArgument},
		{"bad etag", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: home.GetId(), Name: "x", Etag: "v1"}, UpdateMask: mask("name")}, codes.InvalidArgument},
		{"no id", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Name: "x"}, UpdateMask: mask("name")}, codes.InvalidArgument},
		{"unknown tariff", &contractv1.UpdateTariffRequest{Tariff: &contractv1.Tariff{Id: 9999, Name: "x"}, UpdateMask: mask("name")}, codes.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.contracts.UpdateTariff(s.admin, tc.req)
			wantCode(t, err, tc.code)
		})
	}
	if now := s.tariff(t, "Home 100"); !proto.Equal(now, home) {
		t.Fatalf("refused updates changed the tariff: %v", now)
	}
}

func TestSuggestTariffsRanksTheActiveOnesThatFitCheapestFirst(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// An inactive bargain is never suggested.
	if _, err := s.contracts.CreateTariff(s.admin, &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{
		Name: "Retired", Technology: "FTTB", SpeedMbps: 1000, MonthlyFee: &contractv1.Money{AmountMinor: 1}, Active: proto.Bool(false),
	}}); err != nil {
		t.Fatal(err)
	}
	fee := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		req  *contractv1.SuggestTariffsRequest
		want string
	}{
		{"person, anything", &contractv1.SuggestTariffsRequest{}, "Home DSL 20,Home LTE 50,Home 100,Home 500,Home GPON 1000"},
		{"person on FTTB at 200 Mbit/s or more", &contractv1.SuggestTariffsRequest{Technology: "fttb", MinSpeedMbps: 200}, "Home 500"},
		{"person paying at most 500 roubles", &contractv1.SuggestTariffsRequest{MaxMonthlyFee: fee(50000)}, "Home DSL 20,Home LTE 50,Home 100"},
		{"company", &contractv1.SuggestTariffsRequest{CustomerKind: customerv1.CustomerKind_CUSTOMER_KIND_COMPANY}, "Business DSL 50,Business 200,Business 1000"},
		{"nothing fits", &contractv1.SuggestTariffsRequest{Technology: "GPON", MaxMonthlyFee: fee(100)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.contracts.SuggestTariffs(s.viewer, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tf := range resp.GetTariffs() {
				got = append(got, tf.GetName())
			}
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("suggested %v, want %s", got, tc.want)
			}
		})
	}
	for _, bad := range []*contractv1.SuggestTariffsRequest{
		{Technology: "x-dsl"}, {MinSpeedMbps: -1}, {MaxMonthlyFee: fee(-1)}, {Currency: "roubles"}, {CustomerKind: 9},
	} {
		_, err := s.contracts.SuggestTariffs(s.viewer, bad)
		wantCode(t, err, codes.InvalidArgument)
	}
}

func TestCreateContractWritesItPendingNumberedAndStartsItsConnection(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	home := s.tariff(t, "Home 100")
	resp, err := s.contracts.CreateContract(s.operator, &contractv1.CreateContractRequest{CustomerId: c.GetId(), TariffId: home.GetId(), Address: "  Москва, Тверская, 1, кв. 5 "})
	if err != nil {
		t.Fatal(err)
	}
	k := resp.GetContract()
	if k.GetStatus() != contractv1.ContractStatus_CONTRACT_STATUS_PENDING || k.GetNumber() != fmt.Sprintf("C-%06d", k.GetId()) ||
		k.GetCustomerId() != c.GetId() || k.GetTariffId() != home.GetId() || k.GetAddress() != "Москва, Тверская, 1, кв. 5" {
		t.Fatalf("created %v", k)
	}
	if k.GetConnectionTaskId() != 100+k.GetId() || k.GetActivateTime() != nil {
		t.Fatalf("task %d, activated %v", k.GetConnectionTaskId(), k.GetActivateTime())
	}
	// The starter was given the contract before any row of it existed:
	// its workflow writes it.
	if seen := s.starter.started(); len(seen) != 1 || seen[0].GetId() != k.GetId() || seen[0].GetAddress() != k.GetAddress() || s.starter.existed[0] {
		t.Fatalf("the starter saw %+v (written before: %v)", seen, s.starter.existed)
	}
	// A person opened it: it goes before bulk work on the task queue.
	if keys, bulk := s.starter.priorities(), queueorder.Bulk.PriorityKey; len(keys) != 1 || keys[0] >= bulk {
		t.Fatalf("started with priority keys %v; a person's must go before bulk work's (%d)", keys, bulk)
	}
	got, err := s.contracts.GetContract(s.viewer, &contractv1.GetContractRequest{Id: k.GetId()})
	if err != nil || !proto.Equal(got.GetContract(), k) {
		t.Fatalf("read back %v, %v; want %v", got.GetContract(), err, k)
	}
}

func TestCreateContractRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	person := s.person(t, "Иванов", "+79120000001")
	firm := s.company(t, "ООО «Ромашка»", "+79120000002")
	home, business := s.tariff(t, "Home 100"), s.tariff(t, "Business 200")
	retired, err := s.contracts.CreateTariff(s.admin, &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{
		Name: "Retired", Technology: "FTTB", SpeedMbps: 10, MonthlyFee: &contractv1.Money{AmountMinor: 1}, Active: proto.Bool(false),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		req   *contractv1.CreateContractRequest
		field string
		says  string
	}{
		{"unknown customer", &contractv1.CreateContractRequest{CustomerId: 9999, TariffId: home.GetId(), Address: "a"}, "customerId", "does not exist"},
		{"no customer", &contractv1.CreateContractRequest{TariffId: home.GetId(), Address: "a"}, "customerId", "must be a positive number"},
		{"unknown tariff", &contractv1.CreateContractRequest{CustomerId: person.GetId(), TariffId: 9999, Address: "a"}, "tariffId", "does not exist"},
		{"inactive tariff", &contractv1.CreateContractRequest{CustomerId: person.GetId(), TariffId: retired.GetTariff().GetId(), Address: "a"}, "tariffId", "no longer offered"},
		{"company on a person tariff", &contractv1.CreateContractRequest{CustomerId: firm.GetId(), TariffId: home.GetId(), Address: "a"}, "tariffId", "is for persons, and customer"},
		{"person on a company tariff", &contractv1.CreateContractRequest{CustomerId: person.GetId(), TariffId: business.GetId(), Address: "a"}, "tariffId", "is for companies"},
		{"empty address", &contractv1.CreateContractRequest{CustomerId: person.GetId(), TariffId: home.GetId(), Address: "   "}, "address", "give the service address"},
		{"address of 501 characters", &contractv1.CreateContractRequest{CustomerId: person.GetId(), TariffId: home.GetId(), Address: strings.Repeat("д", 501)}, "address", "longer than 500 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.contracts.CreateContract(s.operator, tc.req)
			f := wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(f.fields[tc.field], tc.says) {
				t.Fatalf("violations %v, want %s saying %q", f.fields, tc.field, tc.says)
			}
		})
	}
	if n := s.count(t, "contracts"); n != 0 || len(s.starter.started()) != 0 {
		t.Fatalf("%d contracts written, %d connections started by refused creates", n, len(s.starter.started()))
	}
}

func TestCreateContractNeedsContractsWriteAndTheCallerMayReadTheCustomer(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	_, err := s.contracts.CreateContract(s.viewer, &contractv1.CreateContractRequest{CustomerId: c.GetId(), TariffId: 1, Address: "a"})
	wantCode(t, err, codes.PermissionDenied)
	// The caller's principal goes on to the customer service, which
	// decides by the caller's own permissions.
	_, err = s.contracts.CreateContract(servicetest.User(context.Background(), 4, []string{"contracts.write"}), &contractv1.CreateContractRequest{CustomerId: c.GetId(), TariffId: 1, Address: "a"})
	wantCode(t, err, codes.PermissionDenied)
	if n := s.count(t, "contracts"); n != 0 {
		t.Fatalf("%d contracts written", n)
	}
}

func TestCreateContractWhoseConnectionCannotStartLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		code codes.Code
	}{
		{"task service unreachable", status.Error(codes.Unavailable, "connection refused"), codes.Unavailable},
		{"task service too slow", status.Error(codes.DeadlineExceeded, "deadline"), codes.Unavailable},
		{"workflow service unreachable, as its client reports it", fmt.Errorf("update with start: %w", statusCarrier{status.New(codes.Unavailable, "dial tcp: connection refused")}), codes.Unavailable},
		{"network error", fmt.Errorf("starting: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), codes.Unavailable},
		{"starter refuses", status.Error(codes.FailedPrecondition, "route 1 has no processes"), codes.FailedPrecondition},
		{"starter breaks", errors.New("boom"), codes.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			c := s.person(t, "Иванов", "+79120000001")
			s.starter.answer(0, tc.err)
			_, err := s.contracts.CreateContract(s.operator, &contractv1.CreateContractRequest{CustomerId: c.GetId(), TariffId: 1, Address: "a"})
			wantCode(t, err, tc.code)
			if n := s.count(t, "contracts"); n != 0 {
				t.Fatalf("%d contracts left behind", n)
			}
		})
	}
}

func TestCreateContractWhoseConnectionStartedDespiteAnErrorKeepsIt(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	// The workflow made the task and the task service recorded it on the
	// contract, but the start's answer was an error (a timeout, a lost
	// workflow task): the contract stays, with its task.
	s.starter.mu.Lock()
	s.starter.next = func(k *contractv1.Contract) (int64, error) {
		if err := s.starter.write(t.Context(), k); err != nil {
			t.Error(err)
		}
		if _, err := s.contracts.SetConnectionTask(s.workflow, &contractv1.SetConnectionTaskRequest{ContractId: k.GetId(), TaskId: 55}); err != nil {
			t.Error(err)
		}
		return 0, status.Error(codes.DeadlineExceeded, "deadline")
	}
	s.starter.mu.Unlock()
	resp, err := s.contracts.CreateContract(s.operator, &contractv1.CreateContractRequest{CustomerId: c.GetId(), TariffId: 1, Address: "a"})
	if err != nil {
		t.Fatalf("a contract whose connection did start: %v", err)
	}
	if k := resp.GetContract(); k.GetConnectionTaskId() != 55 || k.GetStatus() != contractv1.ContractStatus_CONTRACT_STATUS_PENDING {
		t.Fatalf("answered %v, want the pending contract with task 55", k)
	}
	if n := s.count(t, "contracts"); n != 1 {
		t.Fatalf("%d contracts, want 1", n)
	}
}

// statusCarrier is an error that carries a gRPC status without being one,
// as the workflow service's client errors do.
type statusCarrier struct{ st *status.Status }

func (e statusCarrier) Error() string          { return e.st.Message() }
func (e statusCarrier) Status() *status.Status { return e.st }

func TestConcurrentCreatesGetDistinctNumbers(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	const racers = 12
	var wg sync.WaitGroup
	numbers := make([]string, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.contracts.CreateContract(s.operator, &contractv1.CreateContractRequest{CustomerId: c.GetId(), TariffId: 1, Address: fmt.Sprintf("дом %d", i)})
			numbers[i], errs[i] = resp.GetContract().GetNumber(), err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, n := range numbers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[n] || !strings.HasPrefix(n, "C-") {
			t.Fatalf("number %q given twice or malformed: %v", n, numbers)
		}
		seen[n] = true
	}
}

func TestListContractsOfACustomerPagesNewestFirst(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.person(t, "Антонов", "+79120000001")
	b := s.person(t, "Борисов", "+79120000002")
	var ids []int64
	for range 5 {
		ids = append(ids, s.contract(t, a.GetId(), 1).GetId())
		s.contract(t, b.GetId(), 1)
	}
	var got []int64
	token := ""
	for {
		resp, err := s.contracts.ListContracts(s.viewer, &contractv1.ListContractsRequest{CustomerId: a.GetId(), PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range resp.GetContracts() {
			got = append(got, k.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	want := []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	all, err := s.contracts.ListContracts(s.viewer, &contractv1.ListContractsRequest{PageSize: 100})
	if err != nil || len(all.GetContracts()) != 10 {
		t.Fatalf("all contracts: %d, %v", len(all.GetContracts()), err)
	}
}

func TestListingsRefuseTamperedPageTokens(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.person(t, "Антонов", "+79120000001")
	s.contract(t, a.GetId(), 1)
	s.contract(t, a.GetId(), 1)
	first, err := s.contracts.ListContracts(s.viewer, &contractv1.ListContractsRequest{CustomerId: a.GetId(), PageSize: 1})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("first page %v, %v", first, err)
	}
	tariffs, err := s.contracts.ListTariffs(s.viewer, &contractv1.ListTariffsRequest{PageSize: 1})
	if err != nil || tariffs.GetNextPageToken() == "" {
		t.Fatalf("first tariff page %v, %v", tariffs, err)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"contracts: a flipped character", func() error {
			_, err := s.contracts.ListContracts(s.viewer, &contractv1.ListContractsRequest{CustomerId: a.GetId(), PageToken: flip(first.GetNextPageToken())})
			return err
		}},
		{"contracts: another customer's token", func() error {
			_, err := s.contracts.ListContracts(s.viewer, &contractv1.ListContractsRequest{CustomerId: a.GetId() + 1, PageToken: first.GetNextPageToken()})
			return err
		}},
		{"tariffs: a contracts token", func() error {
			_, err := s.contracts.ListTariffs(s.viewer, &contractv1.ListTariffsRequest{PageToken: first.GetNextPageToken()})
			return err
		}},
		{"tariffs: a flipped character", func() error {
			_, err := s.contracts.ListTariffs(s.viewer, &contractv1.ListTariffsRequest{PageToken: flip(tariffs.GetNextPageToken())})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := wantCode(t, tc.call(), codes.InvalidArgument)
			if f.fields["pageToken"] == "" {
				t.Fatalf("violations %v", f.fields)
			}
		})
	}
}

func flip(token string) string {
	b := []byte(token)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestStatusChangesFollowTheLifecycleAndRepeatHarmlessly(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	type step struct {
		call string
		want contractv1.ContractStatus
		code codes.Code
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"activate, twice", []step{{"activate", active, codes.OK}, {"activate", active, codes.OK}}},
		{"cancel, twice", []step{{"cancel", cancelled, codes.OK}, {"cancel", cancelled, codes.OK}}},
		{"a cancelled contract cannot be activated", []step{{"cancel", cancelled, codes.OK}, {"activate", cancelled, codes.FailedPrecondition}}},
		{"an active contract cannot be cancelled", []step{{"activate", active, codes.OK}, {"cancel", active, codes.FailedPrecondition}}},
		{"a pending contract cannot be suspended", []step{{"suspend", pending, codes.FailedPrecondition}}},
		{"a pending contract cannot be terminated", []step{{"terminate", pending, codes.FailedPrecondition}}},
		{"suspend and resume, each twice", []step{{"activate", active, codes.OK}, {"suspend", suspended, codes.OK}, {"suspend", suspended, codes.OK}, {"resume", active, codes.OK}, {"resume", active, codes.OK}}},
		{"a suspended contract is resumed, not activated", []step{{"activate", active, codes.OK}, {"suspend", suspended, codes.OK}, {"activate", suspended, codes.FailedPrecondition}}},
		{"terminate a suspended contract, twice", []step{{"activate", active, codes.OK}, {"suspend", suspended, codes.OK}, {"terminate", terminated, codes.OK}, {"terminate", terminated, codes.OK}}},
		{"nothing comes back from terminated", []step{{"activate", active, codes.OK}, {"terminate", terminated, codes.OK}, {"resume", terminated, codes.FailedPrecondition}, {"activate", terminated, codes.FailedPrecondition}, {"suspend", terminated, codes.FailedPrecondition}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := s.contract(t, c.GetId(), 1)
			var activated string
			for i, st := range tc.steps {
				got, err := s.change(st.call, k.GetId())
				if st.code != codes.OK {
					f := wantCode(t, err, st.code)
					if f.reason != "CONTRACT_STATUS" {
						t.Fatalf("step %d: reason %q", i, f.reason)
					}
				} else if err != nil {
					t.Fatalf("step %d (%s): %v", i, st.call, err)
				} else if got.GetStatus() != st.want {
					t.Fatalf("step %d (%s): status %s, want %s", i, st.call, got.GetStatus(), st.want)
				} else if got.GetActivateTime() != nil {
					// The first activation time is kept through repeats and resumes.
					if activated == "" {
						activated = got.GetActivateTime().String()
					} else if got.GetActivateTime().String() != activated {
						t.Fatalf("step %d: activation time moved from %s to %s", i, activated, got.GetActivateTime())
					}
				}
				now, err := s.contracts.GetContract(s.viewer, &contractv1.GetContractRequest{Id: k.GetId()})
				if err != nil || now.GetContract().GetStatus() != st.want {
					t.Fatalf("step %d (%s): stored status %s, want %s (%v)", i, st.call, now.GetContract().GetStatus(), st.want, err)
				}
			}
		})
	}
	_, err := s.change("activate", 9999)
	wantCode(t, err, codes.NotFound)
}

func TestChangeTariffMovesOnlyActiveOrSuspendedContractsToOfferedTariffs(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	home := s.tariff(t, "Home 100")
	other := s.createTariff(t, "Home 700", true)
	closed := s.createTariff(t, "Home 50 (closed)", false)
	change := func(id, tariff int64) (*contractv1.Contract, error) {
		r, err := s.contracts.ChangeTariff(s.workflow, &contractv1.ChangeTariffRequest{Id: id, TariffId: tariff})
		return r.GetContract(), err
	}
	stored := func(id int64) *contractv1.Contract {
		r, err := s.contracts.GetContract(s.viewer, &contractv1.GetContractRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetContract()
	}

	pendingOne := s.contract(t, c.GetId(), home.GetId())
	f := wantCode(t, second(change(pendingOne.GetId(), other.GetId())), codes.FailedPrecondition)
	if f.reason != "CONTRACT_STATUS" || stored(pendingOne.GetId()).GetTariffId() != home.GetId() {
		t.Fatalf("a pending contract changed its tariff: %+v", f)
	}

	k := s.contract(t, c.GetId(), home.GetId())
	if _, err := s.change("activate", k.GetId()); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // a retry after success is answered as done
		got, err := change(k.GetId(), other.GetId())
		if err != nil || got.GetTariffId() != other.GetId() || stored(k.GetId()).GetTariffId() != other.GetId() {
			t.Fatalf("change %d: %v, %v", i, got, err)
		}
	}
	wantCode(t, second(change(k.GetId(), 9999)), codes.InvalidArgument)
	if f := wantCode(t, second(change(k.GetId(), closed.GetId())), codes.InvalidArgument); f.reason != "TARIFF_INACTIVE" {
		t.Fatalf("closed tariff: %+v", f)
	}
	if _, err := s.change("suspend", k.GetId()); err != nil {
		t.Fatal(err)
	}
	if got, err := change(k.GetId(), home.GetId()); err != nil || got.GetTariffId() != home.GetId() || got.GetStatus() != suspended {
		t.Fatalf("suspended: %v, %v", got, err)
	}
	if _, err := s.change("terminate", k.GetId()); err != nil {
		t.Fatal(err)
	}
	if f := wantCode(t, second(change(k.GetId(), other.GetId())), codes.FailedPrecondition); f.reason != "CONTRACT_STATUS" {
		t.Fatalf("terminated: %+v", f)
	}
	if got := stored(k.GetId()); got.GetTariffId() != home.GetId() {
		t.Fatalf("a terminated contract changed its tariff to %d", got.GetTariffId())
	}
	wantCode(t, second(change(9999, other.GetId())), codes.NotFound)
}

func second[T any](_ T, err error) error { return err }

func (s *stack) createTariff(t *testing.T, name string, active bool) *contractv1.Tariff {
	t.Helper()
	r, err := s.contracts.CreateTariff(s.admin, &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{
		Name: name, Technology: "FTTB", SpeedMbps: 500, MonthlyFee: &contractv1.Money{AmountMinor: 90000}, Active: &active,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetTariff()
}

func TestConcurrentActivateAndCancelLetExactlyOneWin(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	for round := range 5 {
		k := s.contract(t, c.GetId(), 1)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, call := range []string{"activate", "cancel"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.change(call, k.GetId())
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: activate %v, cancel %v; want exactly one to win", round, errs[0], errs[1])
		}
	}
}

func (s *stack) change(call string, id int64) (*contractv1.Contract, error) {
	ctx := s.workflow
	switch call {
	case "activate":
		r, err := s.contracts.ActivateContract(ctx, &contractv1.ActivateContractRequest{Id: id})
		return r.GetContract(), err
	case "cancel":
		r, err := s.contracts.CancelContract(ctx, &contractv1.CancelContractRequest{Id: id})
		return r.GetContract(), err
	case "suspend":
		r, err := s.contracts.SuspendContract(ctx, &contractv1.SuspendContractRequest{Id: id})
		return r.GetContract(), err
	case "resume":
		r, err := s.contracts.ResumeContract(ctx, &contractv1.ResumeContractRequest{Id: id})
		return r.GetContract(), err
	case "terminate":
		r, err := s.contracts.TerminateContract(ctx, &contractv1.TerminateContractRequest{Id: id})
		return r.GetContract(), err
	}
	panic("unknown call " + call)
}

func TestInternalCallsAreRefusedToUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	k := s.contract(t, c.GetId(), 1)
	for name, call := range map[string]func() error{
		"activate": func() error {
			_, err := s.contracts.ActivateContract(s.admin, &contractv1.ActivateContractRequest{Id: k.GetId()})
			return err
		},
		"cancel": func() error {
			_, err := s.contracts.CancelContract(s.admin, &contractv1.CancelContractRequest{Id: k.GetId()})
			return err
		},
		"set connection task": func() error {
			_, err := s.contracts.SetConnectionTask(s.admin, &contractv1.SetConnectionTaskRequest{ContractId: k.GetId(), TaskId: 5})
			return err
		},
		"find by number": func() error {
			_, err := s.contracts.FindCustomersByContractNumber(s.admin, &contractv1.FindCustomersByContractNumberRequest{Number: k.GetNumber()})
			return err
		},
		"delete": func() error {
			_, err := s.contracts.DeleteContract(s.admin, &contractv1.DeleteContractRequest{Id: k.GetId()})
			return err
		},
		"change tariff": func() error {
			_, err := s.contracts.ChangeTariff(s.admin, &contractv1.ChangeTariffRequest{Id: k.GetId(), TariffId: 2})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), codes.PermissionDenied) })
	}
	now, _ := s.contracts.GetContract(s.viewer, &contractv1.GetContractRequest{Id: k.GetId()})
	if now.GetContract().GetStatus() != pending {
		t.Fatalf("status %s after refused calls", now.GetContract().GetStatus())
	}
}

func TestSetConnectionTaskRecordsTheFirstTaskOnly(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	s.starter.answer(0, nil)
	k := s.contract(t, c.GetId(), 1)
	if k.GetConnectionTaskId() != 0 {
		t.Fatalf("task %d before any was set", k.GetConnectionTaskId())
	}
	for range 2 {
		r, err := s.contracts.SetConnectionTask(s.workflow, &contractv1.SetConnectionTaskRequest{ContractId: k.GetId(), TaskId: 77})
		if err != nil || r.GetContract().GetConnectionTaskId() != 77 {
			t.Fatalf("setting task 77: %v, %v", r.GetContract(), err)
		}
	}
	_, err := s.contracts.SetConnectionTask(s.workflow, &contractv1.SetConnectionTaskRequest{ContractId: k.GetId(), TaskId: 78})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = s.contracts.SetConnectionTask(s.workflow, &contractv1.SetConnectionTaskRequest{ContractId: k.GetId()})
	wantCode(t, err, codes.InvalidArgument)
	_, err = s.contracts.SetConnectionTask(s.workflow, &contractv1.SetConnectionTaskRequest{ContractId: 9999, TaskId: 1})
	wantCode(t, err, codes.NotFound)
}

func TestFindCustomersByContractNumberNormalisesTheNumber(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	k := s.contract(t, c.GetId(), 1)
	digits := strings.TrimLeft(strings.TrimPrefix(k.GetNumber(), "C-"), "0")
	for _, q := range []string{k.GetNumber(), "c-" + digits, "C" + digits, "С-" + digits} {
		r, err := s.contracts.FindCustomersByContractNumber(s.workflow, &contractv1.FindCustomersByContractNumberRequest{Number: q})
		if err != nil || fmt.Sprint(r.GetCustomerIds()) != fmt.Sprint([]int64{c.GetId()}) {
			t.Fatalf("%q found %v, %v", q, r.GetCustomerIds(), err)
		}
	}
	r, err := s.contracts.FindCustomersByContractNumber(s.workflow, &contractv1.FindCustomersByContractNumberRequest{Number: "C-999999"})
	if err != nil || len(r.GetCustomerIds()) != 0 {
		t.Fatalf("an unknown number found %v, %v", r.GetCustomerIds(), err)
	}
	_, err = s.contracts.FindCustomersByContractNumber(s.workflow, &contractv1.FindCustomersByContractNumberRequest{Number: "Иванов"})
	wantCode(t, err, codes.InvalidArgument)
}

func TestDeleteContractRemovesOnlyAPendingContractWithoutAConnection(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	s.starter.answer(0, nil)
	bare := s.contract(t, c.GetId(), 1)
	for range 2 { // a compensation may run twice
		if _, err := s.contracts.DeleteContract(s.workflow, &contractv1.DeleteContractRequest{Id: bare.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.contracts.GetContract(s.viewer, &contractv1.GetContractRequest{Id: bare.GetId()})
	wantCode(t, err, codes.NotFound)

	withTask := s.contract(t, c.GetId(), 1)
	if _, err := s.contracts.SetConnectionTask(s.workflow, &contractv1.SetConnectionTaskRequest{ContractId: withTask.GetId(), TaskId: 9}); err != nil {
		t.Fatal(err)
	}
	_, err = s.contracts.DeleteContract(s.workflow, &contractv1.DeleteContractRequest{Id: withTask.GetId()})
	wantCode(t, err, codes.FailedPrecondition)

	activeOne := s.contract(t, c.GetId(), 1)
	if _, err := s.change("activate", activeOne.GetId()); err != nil {
		t.Fatal(err)
	}
	_, err = s.contracts.DeleteContract(s.workflow, &contractv1.DeleteContractRequest{Id: activeOne.GetId()})
	wantCode(t, err, codes.FailedPrecondition)
	if n := s.count(t, "contracts"); n != 2 {
		t.Fatalf("%d contracts, want the two that may not be removed", n)
	}
}

func TestTheUpgradeRemovesOnceWhatTheSweepWouldHave(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	ctx := context.Background()
	st := &store{db: s.db}
	made := func(at time.Time, task int64) int64 {
		t.Helper()
		st.now = func() time.Time { return at }
		row := &contractRow{CustomerID: c.GetId(), TariffID: 1, Address: "a"}
		if err := st.createContract(ctx, row); err != nil {
			t.Fatal(err)
		}
		if task != 0 {
			if _, err := st.setConnectionTask(ctx, row.ID, task); err != nil {
				t.Fatal(err)
			}
		}
		return row.ID
	}
	old := time.Now().Add(-time.Hour)
	stranded := made(old, 0)
	withTask := made(old, 9)
	young := made(time.Now(), 0)
	var step *database.Migration
	for _, m := range migrations {
		if m.ID == "0005_stranded_pending_contracts" {
			step = m
		}
	}
	if step == nil {
		t.Fatal("no migration 0005_stranded_pending_contracts")
	}
	if err := step.Migrate(s.db); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{stranded: false, withTask: true, young: true} {
		_, err := st.contract(ctx, id)
		if kept := err == nil; kept != want {
			t.Errorf("contract %d kept %v, want %v (%v)", id, kept, want, err)
		}
	}
}
