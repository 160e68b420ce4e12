package contract

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"buf.build/go/protovalidate"
	"golang.org/x/sync/errgroup"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/textsearch"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// ImportRunner runs an import's workflow, "import-<id>": Run starts it
// (or finds it running), Cancel asks it to stop after its batch.
type ImportRunner interface {
	Run(ctx context.Context, importID int64) error
	Cancel(ctx context.Context, importID int64) error
}

// Imports implements contractv1.ImportServiceServer (docs/import.md).
type Imports struct {
	contractv1.UnimplementedImportServiceServer
	contracts *Server
	runner    ImportRunner
	maxBytes  int64
	// connectors bound the connections a batch starts at once.
	connectors int
}

// NewImports builds the import service over the contract service; files
// over maxBytes are refused; a batch starts connectors connections at once
// (at least one).
func NewImports(contracts *Server, runner ImportRunner, maxBytes int64, connectors int) *Imports {
	return &Imports{contracts: contracts, runner: runner, maxBytes: maxBytes, connectors: max(connectors, 1)}
}

const (
	// batchRows is a batch's rows (more when its last customer goes on).
	batchRows = 1000
	// checkChunk is the customers asked of the customer service at once.
	checkChunk = 1000
)

func importTarget(id int64) string { return "import:" + strconv.FormatInt(id, 10) }

func (s *Imports) CheckImport(stream contractv1.ImportService_CheckImportServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	if err := grpcserver.Check(protovalidate.GlobalValidator, first, ""); err != nil {
		return err
	}
	header := first.GetHeader()
	if header == nil {
		return fault.Field("header", "send the file's header first")
	}
	var data bytes.Buffer
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if int64(data.Len()+len(m.GetChunk())) > s.maxBytes {
			return fault.Field("file", "the file is larger than %d MiB, the most an import may be; split it", s.maxBytes>>20).
				Because("IMPORT_TOO_LARGE", map[string]string{"maxBytes": strconv.FormatInt(s.maxBytes, 10)})
		}
		data.Write(m.GetChunk())
	}
	f, err := readImportFile(data.Bytes())
	if err != nil {
		return err
	}
	names, err := json.Marshal(f.header)
	if err != nil {
		return err
	}
	rec := &importRecord{FileName: header.GetFileName(), Header: string(names)}
	if p, ok := auth.From(ctx); ok {
		rec.CreatedBy = p.UserID
	}
	if err := s.check(ctx, f, rec); err != nil {
		return err
	}
	if err := s.contracts.store.saveImport(ctx, rec, f.rows); err != nil {
		return err
	}
	s.contracts.audit.Record(ctx, "import.check", importTarget(rec.ID), "import_checked",
		"file", rec.FileName, "rows", fmt.Sprint(rec.TotalRows), "problems", fmt.Sprint(rec.ProblemRows))
	return stream.SendAndClose(&contractv1.CheckImportResponse{Import: importProto(rec)})
}

// check finds every row's problems — its cells', its customer's (asked of
// the customer service), its contract's — and counts what a run would
// write. A customer is written only with all its rows, so one row's
// problem is its customer's other rows' too.
func (s *Imports) check(ctx context.Context, f *importFile, rec *importRecord) error {
	groups := groupRows(f)
	if err := s.checkContracts(ctx, f, groups); err != nil {
		return err
	}
	if err := s.checkCustomers(ctx, f, groups); err != nil {
		return err
	}
	rec.TotalRows = int32(len(f.rows))
	for _, g := range groups {
		bad := g[0]
		for _, r := range g {
			if len(r.problems) > 0 {
				bad = r
				break
			}
		}
		if len(bad.problems) == 0 {
			rec.Customers++
			for _, r := range g {
				switch contractv1.ContractStatus(r.Status) {
				case contractv1.ContractStatus_CONTRACT_STATUS_PENDING:
					rec.ContractsToConnect++
				case contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE, contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED:
					rec.ContractsAsIs++
				}
			}
			continue
		}
		spread(g, bad)
		rec.ProblemRows += int32(len(g))
	}
	return nil
}

// spread gives the rows of a customer that have no problem of their own
// the problem of its row bad: a customer is written with all its rows or
// not at all.
func spread(g []*importRow, bad *importRow) {
	for _, r := range g {
		if len(r.problems) == 0 {
			r.problem("", "CUSTOMER_PROBLEM", fmt.Sprint(bad.Line), fmt.Sprintf("the customer's row at line %d has problems", bad.Line))
		}
	}
}

// groupRows cuts the rows into customers: a row with an external id goes
// on the customer of the row before when that row has the same id; its
// customer cells, when given, must agree with the first row's. Phones of
// every row of a customer are its first row's.
func groupRows(f *importFile) [][]*importRow {
	var groups [][]*importRow
	seen := map[string]int32{}
	for _, r := range f.rows {
		if n := len(groups); n > 0 && r.Ref != "" && groups[n-1][0].Ref == r.Ref {
			first := groups[n-1][0]
			r.First = first.Row
			for _, c := range []struct {
				col         importColumn
				mine, first string
			}{{colName, r.Name, first.Name}, {colKind, r.kindCell, first.kindCell}, {colEmail, r.Email, first.Email}, {colAddress, r.Address, first.Address}} {
				if c.mine != "" && c.mine != c.first {
					r.problem(f.header[c.col], "REF_DIFFERS", fmt.Sprint(first.Line), fmt.Sprintf("the customer's first row (line %d) says %q", first.Line, c.first))
				}
			}
			for _, p := range r.Phones {
				if !slices.Contains(first.Phones, p) && len(first.Phones) < maxFilePhones {
					first.Phones = append(first.Phones, p)
				}
			}
			r.Phones = nil
			groups[n-1] = append(groups[n-1], r)
			continue
		}
		r.First = r.Row
		if r.Ref != "" {
			if line, ok := seen[r.Ref]; ok {
				r.problem(f.header[colRef], "REF_SPLIT", fmt.Sprint(line), fmt.Sprintf("the rows of %q are not together (also at line %d)", r.Ref, line))
			} else {
				seen[r.Ref] = r.Line
			}
		}
		groups = append(groups, []*importRow{r})
	}
	return groups
}

// checkContracts resolves each row's tariff by id or name and checks the
// contract: a tariff for the customer's kind, still offered when the
// contract is to be connected, and a service address.
func (s *Imports) checkContracts(ctx context.Context, f *importFile, groups [][]*importRow) error {
	tariffs, err := s.contracts.store.tariffs(ctx, tariffFilter{IncludeInactive: true}, 100_000)
	if err != nil {
		return err
	}
	index := newTariffIndex(tariffs)
	col := f.header[colTariff]
	for _, g := range groups {
		kind := kindOrPerson(customerv1.CustomerKind(g[0].Kind))
		for _, r := range g {
			if r.tariff == "" {
				if r.Status != 0 {
					r.problem(col, "TARIFF_UNKNOWN", "", "a contract status is given without a tariff")
					r.Status = 0
				}
				continue
			}
			t, code, why := index.find(r.tariff)
			switch {
			case t == nil:
				r.problem(col, code, r.tariff, why)
				continue
			case t.CustomerKind != int32(kind):
				r.problem(col, "TARIFF_KIND", t.Name, fmt.Sprintf("tariff %q is for %s", t.Name, kindPlural(customerv1.CustomerKind(t.CustomerKind))))
			case !t.Active && r.Status == int32(contractv1.ContractStatus_CONTRACT_STATUS_PENDING):
				r.problem(col, "TARIFF_INACTIVE", t.Name, fmt.Sprintf("tariff %q is no longer offered: only a contract in force may be on it", t.Name))
			}
			r.TariffID = t.ID
			// the customer's address stands in for a missing one; its own
			// check says when it is too long
			given := r.ServiceAddress != ""
			if !given {
				r.ServiceAddress = g[0].Address
			}
			switch n := utf8.RuneCountInString(r.ServiceAddress); {
			case n == 0:
				r.problem(cmp.Or(f.header[colServiceAddress], f.header[colAddress]), "SERVICE_ADDRESS_MISSING", "", "give the service address (or the customer's address)")
			case n > maxAddress && given:
				r.problem(f.header[colServiceAddress], "SERVICE_ADDRESS_LONG", "", fmt.Sprintf("the service address is longer than %d characters", maxAddress))
			}
		}
	}
	return nil
}

// tariffIndex finds tariffs as a file names them: by id, or by name as
// people type it (case and ё aside).
type tariffIndex struct {
	byID   map[int64]*tariffRow
	byName map[string][]*tariffRow
}

func newTariffIndex(tariffs []tariffRow) tariffIndex {
	x := tariffIndex{byID: map[int64]*tariffRow{}, byName: map[string][]*tariffRow{}}
	for i := range tariffs {
		t := &tariffs[i]
		key := textsearch.Fold(strings.TrimSpace(t.Name))
		x.byID[t.ID], x.byName[key] = t, append(x.byName[key], t)
	}
	return x
}

// find resolves a cell to its tariff, or says why it cannot: a problem's
// code and sentence.
func (x tariffIndex) find(cell string) (t *tariffRow, code, why string) {
	if id, err := strconv.ParseInt(cell, 10, 64); err == nil {
		t = x.byID[id]
	} else if named := x.byName[textsearch.Fold(cell)]; len(named) > 1 {
		return nil, "TARIFF_AMBIGUOUS", fmt.Sprintf("%d tariffs are named %q; give its id", len(named), cell)
	} else if len(named) == 1 {
		t = named[0]
	}
	if t == nil {
		return nil, "TARIFF_UNKNOWN", fmt.Sprintf("there is no tariff %q", cell)
	}
	return t, "", ""
}

// customerColumns maps the customer service's fields to the file's
// columns.
var customerColumns = map[string]importColumn{"name": colName, "kind": colKind, "email": colEmail, "address": colAddress, "phones": colPhones}

func imported(r *importRow) *customerv1.ImportedCustomer {
	return &customerv1.ImportedCustomer{Kind: customerv1.CustomerKind(r.Kind), Name: r.Name, Email: r.Email, Address: r.Address, Phones: r.Phones}
}

// customerProblems puts the customer service's findings on the
// customer's first row.
func customerProblems(f *importFile, r *importRow, check *customerv1.CustomerCheck) {
	for _, p := range check.GetProblems() {
		r.problem(f.header[customerColumns[p.GetField()]], p.GetCode(), p.GetValue(), p.GetMessage())
	}
}

// checkCustomers asks the customer service about each customer, and
// finds numbers given to two customers of the file.
func (s *Imports) checkCustomers(ctx context.Context, f *importFile, groups [][]*importRow) error {
	held := map[string]int32{}
	for start := 0; start < len(groups); start += checkChunk {
		chunk := groups[start:min(start+checkChunk, len(groups))]
		req := &customerv1.CheckCustomersRequest{}
		for _, g := range chunk {
			req.Customers = append(req.Customers, imported(g[0]))
		}
		resp, err := s.contracts.customers.CheckCustomers(auth.AsService(ctx), req)
		if err != nil {
			return fault.Peer("customer", err, nil)
		}
		for i, g := range chunk {
			first := g[0]
			check := resp.GetChecks()[i]
			customerProblems(f, first, check)
			for _, number := range check.GetNumbers() {
				if number == "" {
					continue
				}
				if line, ok := held[number]; ok {
					first.problem(f.header[colPhones], "PHONE_IN_FILE", fmt.Sprint(line), fmt.Sprintf("%s is also at line %d", number, line))
					continue
				}
				held[number] = first.Line
			}
		}
	}
	return nil
}

func (s *Imports) ListImports(ctx context.Context, req *contractv1.ListImportsRequest) (*contractv1.ListImportsResponse, error) {
	size := pagetoken.Size(req.GetPageSize(), defaultPage, maxPage)
	var cur contractCursor
	if _, err := s.contracts.pages.Decode(req.GetPageToken(), "imports", &cur); err != nil {
		return nil, err
	}
	rows, err := s.contracts.store.imports(ctx, cur.Before, size+1)
	if err != nil {
		return nil, err
	}
	resp := &contractv1.ListImportsResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.contracts.pages, "imports", rows, size, func(r *importRecord) any { return contractCursor{Before: r.ID} })
	for i := range rows {
		resp.Imports = append(resp.Imports, importProto(&rows[i]))
	}
	return resp, nil
}

func (s *Imports) GetImport(ctx context.Context, req *contractv1.GetImportRequest) (*contractv1.GetImportResponse, error) {
	rec, err := s.contracts.store.importByID(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &contractv1.GetImportResponse{Import: importProto(rec)}, nil
}

type problemCursor struct {
	After int32 `json:"a"`
}

func (s *Imports) ListImportProblems(ctx context.Context, req *contractv1.ListImportProblemsRequest) (*contractv1.ListImportProblemsResponse, error) {
	if _, err := s.contracts.store.importByID(ctx, req.GetImportId()); err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize(), 100, 500)
	listing := fmt.Sprintf("imports/%d/problems", req.GetImportId())
	var cur problemCursor
	if _, err := s.contracts.pages.Decode(req.GetPageToken(), listing, &cur); err != nil {
		return nil, err
	}
	lines, err := s.contracts.store.problemLines(ctx, req.GetImportId(), cur.After, size+1)
	if err != nil {
		return nil, err
	}
	resp := &contractv1.ListImportProblemsResponse{}
	lines, resp.NextPageToken = pagetoken.Next(s.contracts.pages, listing, lines, size, func(l *importLine) any { return problemCursor{After: l.RowNo} })
	for i := range lines {
		r, err := lines[i].row()
		if err != nil {
			return nil, err
		}
		resp.Problems = append(resp.Problems, r.problems...)
	}
	return resp, nil
}

func (s *Imports) RunImport(ctx context.Context, req *contractv1.RunImportRequest) (*contractv1.RunImportResponse, error) {
	rec, err := s.contracts.store.importByID(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	switch contractv1.ImportState(rec.State) {
	case contractv1.ImportState_IMPORT_STATE_DONE:
		return nil, fault.New(fault.FailedPrecondition, "import %d is done already", rec.ID).
			Because("IMPORT_STATE", map[string]string{"state": contractv1.ImportState(rec.State).String()})
	case contractv1.ImportState_IMPORT_STATE_RUNNING:
		return &contractv1.RunImportResponse{Import: importProto(rec)}, nil
	}
	if err := s.runner.Run(ctx, rec.ID); err != nil {
		return nil, startFailed(err)
	}
	s.contracts.audit.Record(ctx, "import.run", importTarget(rec.ID), "import_run", "file", rec.FileName, "from", fmt.Sprint(rec.RowsDone+1))
	if rec, err = s.contracts.store.importByID(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &contractv1.RunImportResponse{Import: importProto(rec)}, nil
}

func (s *Imports) CancelImport(ctx context.Context, req *contractv1.CancelImportRequest) (*contractv1.CancelImportResponse, error) {
	rec, err := s.contracts.store.importByID(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	if rec.State != int32(contractv1.ImportState_IMPORT_STATE_RUNNING) {
		// stopped already, or never started: nothing to stop
		return &contractv1.CancelImportResponse{Import: importProto(rec)}, nil
	}
	if err := s.runner.Cancel(ctx, rec.ID); err != nil {
		return nil, startFailed(err)
	}
	s.contracts.audit.Record(ctx, "import.cancel", importTarget(rec.ID), "import_cancelled", "file", rec.FileName, "rows", fmt.Sprint(rec.RowsDone))
	return &contractv1.CancelImportResponse{Import: importProto(rec)}, nil
}

func (s *Imports) SetImportState(ctx context.Context, req *contractv1.SetImportStateRequest) (*contractv1.SetImportStateResponse, error) {
	rec, err := s.contracts.store.setImportState(ctx, req.GetImportId(), req.GetState(), req.GetError())
	if err != nil {
		return nil, err
	}
	return &contractv1.SetImportStateResponse{Import: importProto(rec)}, nil
}

// ImportBatch writes the batch from the import's progress: its customers
// (one call, answered as before when repeated), the connections of its
// contracts to connect (each under a reservation of its row, so repeated
// it joins the same workflow), then — in one transaction that moves the
// progress on, and so happens once — its contracts as they stand and the
// problems found since the check.
func (s *Imports) ImportBatch(ctx context.Context, req *contractv1.ImportBatchRequest) (*contractv1.ImportBatchResponse, error) {
	st := s.contracts.store
	rec, err := st.importByID(ctx, req.GetImportId())
	if err != nil {
		return nil, err
	}
	from := req.GetFromRow()
	switch {
	case from <= rec.RowsDone:
		return &contractv1.ImportBatchResponse{NextRow: rec.RowsDone + 1, Done: rec.RowsDone >= rec.TotalRows}, nil
	case from != rec.RowsDone+1:
		return nil, fault.New(fault.FailedPrecondition, "import %d is at row %d, not %d", rec.ID, rec.RowsDone+1, from)
	case rec.State != int32(contractv1.ImportState_IMPORT_STATE_RUNNING):
		return nil, fault.New(fault.FailedPrecondition, "import %d is %s, not running", rec.ID, importStateWord(contractv1.ImportState(rec.State)))
	}
	lines, err := st.batchLines(ctx, rec.ID, from, batchRows)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return &contractv1.ImportBatchResponse{NextRow: from, Done: true}, nil
	}
	w := &batchWrite{importID: rec.ID, from: from, next: lines[len(lines)-1].RowNo + 1, problems: map[int32][]*contractv1.ImportProblem{}}
	var groups [][]*importRow
	for i := range lines {
		r, err := lines[i].row()
		if err != nil {
			return nil, err
		}
		if len(r.problems) > 0 {
			continue
		}
		if n := len(groups); n > 0 && groups[n-1][0].Row == r.First {
			groups[n-1] = append(groups[n-1], r)
		} else {
			groups = append(groups, []*importRow{r})
		}
	}
	customers := &customerv1.ImportCustomersRequest{Batch: fmt.Sprintf("import-%d/%d", rec.ID, from)}
	for _, g := range groups {
		customers.Customers = append(customers.Customers, imported(g[0]))
	}
	ids := []int64{}
	if len(groups) > 0 {
		resp, err := s.contracts.customers.ImportCustomers(auth.AsService(ctx), customers)
		if err != nil {
			return nil, fault.Peer("customer", err, nil)
		}
		ids = resp.GetIds()
		f := &importFile{}
		if err := json.Unmarshal([]byte(rec.Header), &f.header); err != nil {
			return nil, err
		}
		for i, g := range groups {
			if ids[i] != 0 {
				w.customers++
				continue
			}
			customerProblems(f, g[0], resp.GetChecks()[i])
			spread(g, g[0])
			for _, r := range g {
				w.problems[r.Row] = r.problems
			}
		}
	}
	// Connections are started as the person who ran the import, who so
	// made their tasks, and as bulk work: they wait behind the contracts
	// people open meanwhile.
	asRunner := queueorder.WithBulk(auth.WithPrincipal(ctx, &auth.Principal{UserID: rec.CreatedBy}, false))
	g, gctx := errgroup.WithContext(asRunner)
	g.SetLimit(s.connectors)
	for i, grp := range groups {
		if ids[i] == 0 {
			continue
		}
		for _, r := range grp {
			c := &contractRow{CustomerID: ids[i], TariffID: r.TariffID, Address: r.ServiceAddress, Status: r.Status}
			switch contractv1.ContractStatus(r.Status) {
			case contractv1.ContractStatus_CONTRACT_STATUS_PENDING:
				w.connected++
				reservation := fmt.Sprintf("import-%d/%d", rec.ID, r.Row)
				g.Go(func() error {
					_, err := s.contracts.connect(gctx, reservation, &contractv1.Contract{CustomerId: c.CustomerID, TariffId: c.TariffID, Address: c.Address})
					return err
				})
			case contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE, contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED:
				w.contracts = append(w.contracts, c)
			}
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if _, err := st.finishBatch(ctx, w); err != nil {
		return nil, err
	}
	return &contractv1.ImportBatchResponse{NextRow: w.next, Done: w.next > rec.TotalRows}, nil
}
