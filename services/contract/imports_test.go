package contract

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// importLimit bounds the files of a stack's import service.
var importLimit int64 = 1 << 20

// fakeRunner stands in for the import workflow's runner: it records runs.
type fakeRunner struct {
	mu   sync.Mutex
	runs []int64
}

func (f *fakeRunner) Run(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, id)
	return nil
}

func (f *fakeRunner) Cancel(context.Context, int64) error { return nil }

// check uploads a file as the gateway does, in small chunks.
func (s *stack) check(ctx context.Context, name, file string) (*contractv1.Import, error) {
	stream, err := s.imports.CheckImport(ctx)
	if err != nil {
		return nil, err
	}
	// a send the service ended early (a refusal) says io.EOF; CloseAndRecv
	// says why
	err = stream.Send(&contractv1.CheckImportRequest{Part: &contractv1.CheckImportRequest_Header{Header: &contractv1.ImportHeader{FileName: name}}})
	for b := []byte(file); err == nil && len(b) > 0; {
		n := min(len(b), 7)
		err = stream.Send(&contractv1.CheckImportRequest{Part: &contractv1.CheckImportRequest_Chunk{Chunk: b[:n]}})
		b = b[n:]
	}
	resp, err := stream.CloseAndRecv()
	return resp.GetImport(), err
}

// run writes every batch as the workflow does, each twice (a batch
// repeated after a lost answer), and answers the import as it ends.
func (s *stack) run(t testing.TB, id int64) *contractv1.Import {
	t.Helper()
	imp, err := s.imports.SetImportState(s.workflow, &contractv1.SetImportStateRequest{ImportId: id, State: contractv1.ImportState_IMPORT_STATE_RUNNING})
	if err != nil {
		t.Fatal(err)
	}
	row := imp.GetImport().GetRowsDone() + 1
	for {
		var out *contractv1.ImportBatchResponse
		for range 2 {
			if out, err = s.imports.ImportBatch(s.workflow, &contractv1.ImportBatchRequest{ImportId: id, FromRow: row}); err != nil {
				t.Fatal(err)
			}
		}
		if out.GetDone() {
			break
		}
		row = out.GetNextRow()
	}
	done, err := s.imports.SetImportState(s.workflow, &contractv1.SetImportStateRequest{ImportId: id, State: contractv1.ImportState_IMPORT_STATE_DONE})
	if err != nil {
		t.Fatal(err)
	}
	return done.GetImport()
}

func (s *stack) problems(t *testing.T, id int64) []string {
	t.Helper()
	resp, err := s.imports.ListImportProblems(s.admin, &contractv1.ListImportProblemsRequest{ImportId: id, PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range resp.GetProblems() {
		out = append(out, fmt.Sprintf("%d %s %s %s", p.GetLine(), p.GetColumn(), p.GetCode(), p.GetValue()))
	}
	return out
}

func TestAnImportChecksEveryRowThenWritesTheGoodOnesOnce(t *testing.T) {
	s := newStack(t)
	s.person(t, "Holder", "+79130000001")
	// Semicolons as a Russian spreadsheet saves; a quoted address over two
	// lines; one customer (external id 7) with two contracts.
	file := "\uFEFFВнешний код;Имя;Тип;Телефоны;Адрес;Тариф;Состояние договора\n" +
		"7;Пётр Иванов;частное лицо;+7 913 000-00-10, 8 913 000 00 11;\"Ленина 1,\nкв. 2\";Home 100;действует\n" +
		"7;;;+79130000012;;Home 500;подключить\n" +
		";Ромашка;организация;+79130000020;Мира 5;Business 200;приостановлен\n" +
		";Без договора;;+79130000030;;;\n" +
		";Занятый номер;;+79130000001;Ленина 3;Home 100;действует\n" +
		";Плохой номер;;12;Ленина 4;;\n" +
		";Нет тарифа;;+79130000040;Ленина 5;Космос;действует\n" +
		";Повтор;;+79130000020;Ленина 6;;\n" +
		";Юрлицо на домашнем;организация;+79130000050;Ленина 7;Home 100;\n"
	imp, err := s.check(s.admin, "base.csv", file)
	if err != nil {
		t.Fatal(err)
	}
	if imp.GetState() != contractv1.ImportState_IMPORT_STATE_CHECKED || imp.GetTotalRows() != 9 || imp.GetProblemRows() != 5 ||
		imp.GetCustomers() != 3 || imp.GetContractsAsIs() != 2 || imp.GetContractsToConnect() != 1 {
		t.Fatalf("checked: %v", imp)
	}
	want := []string{
		"7 Телефоны PHONE_TAKEN +79130000001",
		"8 Телефоны PHONE_INVALID 12",
		"9 Тариф TARIFF_UNKNOWN Космос",
		"10 Телефоны PHONE_IN_FILE 5",
		"11 Тариф TARIFF_KIND Home 100",
	}
	if got := s.problems(t, imp.GetId()); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// nothing but the check is written
	if n := s.customerCount(t); n != 1 {
		t.Fatalf("%d customers after the check; want the one there was", n)
	}

	done := s.run(t, imp.GetId())
	if done.GetState() != contractv1.ImportState_IMPORT_STATE_DONE || done.GetRowsDone() != 9 || done.GetCustomersCreated() != 3 || done.GetContractsCreated() != 3 {
		t.Fatalf("done: %v", done)
	}
	found, err := s.customers.SearchCustomers(s.admin, &customerv1.SearchCustomersRequest{Query: "+79130000011"})
	if err != nil || len(found.GetCustomers()) != 1 {
		t.Fatalf("the imported customer by its second number: %v %v", found, err)
	}
	petr := found.GetCustomers()[0]
	if petr.GetName() != "Пётр Иванов" || len(petr.GetPhones()) != 3 || petr.GetAddress() != "Ленина 1,\nкв. 2" {
		t.Fatalf("imported customer: %v", petr)
	}
	list, err := s.contracts.ListContracts(s.admin, &contractv1.ListContractsRequest{CustomerId: petr.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, c := range list.GetContracts() {
		statuses = append(statuses, c.GetStatus().String()+" "+c.GetAddress())
		if !strings.HasPrefix(c.GetNumber(), "C-") {
			t.Errorf("contract without its number: %v", c)
		}
	}
	slices.Sort(statuses)
	if want := []string{"CONTRACT_STATUS_ACTIVE Ленина 1,\nкв. 2", "CONTRACT_STATUS_PENDING Ленина 1,\nкв. 2"}; !slices.Equal(statuses, want) {
		t.Fatalf("contracts %q, want %q", statuses, want)
	}
	// the contract to connect was started once although its batch ran twice
	if started := s.starter.started(); len(started) != 1 {
		t.Fatalf("connections started: %v", started)
	}
	// as bulk work, behind what people open meanwhile
	if keys := s.starter.priorities(); len(keys) != 1 || keys[0] != queueorder.Bulk.PriorityKey {
		t.Fatalf("the import's connection started with priority keys %v, not bulk work's", keys)
	}
	// a done import is not run again
	if _, err := s.imports.RunImport(s.admin, &contractv1.RunImportRequest{Id: imp.GetId()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("running a done import: %v", err)
	}
}

func (s *stack) customerCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := s.customerDB.Table("customers").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestANumberRegisteredAfterTheCheckIsTheRowsProblemAtTheRun(t *testing.T) {
	s := newStack(t)
	file := "Name,Phones,Address,Tariff,Contract status\nFirst,+79140000001,Lenina 1,Home 100,active\nSecond,+79140000002,Lenina 2,Home 100,active\n"
	imp, err := s.check(s.admin, "late.csv", file)
	if err != nil || imp.GetProblemRows() != 0 {
		t.Fatalf("check: %v %v %q", imp, err, s.problems(t, imp.GetId()))
	}
	s.person(t, "Quicker", "+79140000002")
	done := s.run(t, imp.GetId())
	if done.GetCustomersCreated() != 1 || done.GetContractsCreated() != 1 || done.GetProblemRows() != 1 {
		t.Fatalf("done: %v", done)
	}
	if got, want := s.problems(t, imp.GetId()), []string{"3 Phones PHONE_TAKEN +79140000002"}; !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

func TestAFileThatIsNotAnImportIsRefusedNamingWhy(t *testing.T) {
	s := newStack(t)
	for _, tc := range []struct{ name, file, reason string }{
		{"latin1", "Name,Phones\nP\xe9ter,+79150000001\n", "IMPORT_NOT_UTF8"},
		{"unknown", "Name,Phones,Shoe size\nA,+79150000001,42\n", "IMPORT_UNKNOWN_COLUMNS"},
		{"missing", "Name,Email\nA,a@example.com\n", "IMPORT_MISSING_COLUMNS"},
		{"quotes", "Name,Phones\n\"A,+79150000001\n", "IMPORT_NOT_CSV"},
		{"empty", "Name,Phones\n", "IMPORT_EMPTY"},
		{"large", "Name,Phones\n" + strings.Repeat("A,+79150000001\n", 1<<17), "IMPORT_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.check(s.admin, tc.name+".csv", tc.file)
			if status.Code(err) != codes.InvalidArgument || servicetest.Reason(err) != tc.reason {
				t.Fatalf("got %v (%s), want InvalidArgument %s", err, servicetest.Reason(err), tc.reason)
			}
		})
	}
	list, err := s.imports.ListImports(s.admin, &contractv1.ListImportsRequest{})
	if err != nil || len(list.GetImports()) != 0 {
		t.Fatalf("refused files left imports: %v %v", list, err)
	}
}

func TestOnlyThoseWhoMayImportCheckOrRun(t *testing.T) {
	s := newStack(t)
	if _, err := s.check(s.operator, "x.csv", "Name,Phones\nA,+79160000001\n"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an operator checking a file: %v", err)
	}
	operator := servicetest.User(context.Background(), 1, servicetest.Operator)
	if _, err := s.imports.ListImports(operator, &contractv1.ListImportsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an operator listing imports: %v", err)
	}
}

func TestRunningAnImportStartsItsWorkflowAndResumesFromItsProgress(t *testing.T) {
	s := newStack(t)
	imp, err := s.check(s.admin, "a.csv", "Name,Phones\nA,+79170000001\nB,+79170000002\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.imports.RunImport(s.admin, &contractv1.RunImportRequest{Id: imp.GetId()}); err != nil {
		t.Fatal(err)
	}
	if s.runner.runs[0] != imp.GetId() {
		t.Fatalf("runs: %v", s.runner.runs)
	}
	// the workflow's first step marks it running; a batch from elsewhere
	// than its progress is refused
	if _, err := s.imports.SetImportState(s.workflow, &contractv1.SetImportStateRequest{ImportId: imp.GetId(), State: contractv1.ImportState_IMPORT_STATE_RUNNING}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.imports.ImportBatch(s.workflow, &contractv1.ImportBatchRequest{ImportId: imp.GetId(), FromRow: 2}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a batch past the progress: %v", err)
	}
	failed, err := s.imports.SetImportState(s.workflow, &contractv1.SetImportStateRequest{ImportId: imp.GetId(), State: contractv1.ImportState_IMPORT_STATE_FAILED, Error: "the database went away"})
	if err != nil || failed.GetImport().GetError() != "the database went away" {
		t.Fatalf("failed: %v %v", failed, err)
	}
	if done := s.run(t, imp.GetId()); done.GetCustomersCreated() != 2 || done.GetError() != "" {
		t.Fatalf("resumed: %v", done)
	}
}

func TestARefusedCellIsOneProblemAndTheCustomersAddressIsCheckedOnce(t *testing.T) {
	s := newStack(t)
	long := strings.Repeat("д", 600)
	file := "Name,Phones,Address,Tariff\n" +
		"Nul\x00Name,+79180000001,Lenina 1,Home 100\n" + // the name refused: not also "missing"
		"A,+7918000\x000002,Lenina 2,\n" + // the phones refused: not also "missing"
		"B,+79180000003," + strings.Repeat("x", 1001) + ",Home 100\n" + // the address refused: not also "no service address"
		"C,+79180000004," + long + ",Home 100\n" // a long address is the customer's problem, once
	imp, err := s.check(s.admin, "careless.csv", file)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2 Name CELL_CONTROL ",
		"3 Phones CELL_CONTROL ",
		"4 Address CELL_LONG ",
		"5 Address ADDRESS_LONG ",
	}
	if got := s.problems(t, imp.GetId()); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
