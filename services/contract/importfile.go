package contract

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// An import file is CSV in UTF-8 (a byte order mark is skipped), comma-
// or semicolon-separated, with a header row naming its columns in Russian
// or English (docs/import.md). One row is a customer with its phones and
// at most one contract; rows with the same external id, one after
// another, are one customer with several contracts.

// importColumn is a column an import file may have.
type importColumn int

const (
	colRef importColumn = iota
	colName
	colKind
	colPhones
	colEmail
	colAddress
	colTariff
	colServiceAddress
	colStatus
	columnCount
)

// importHeaders are each column's names, Russian then English; the
// required ones must be in every file.
var importHeaders = [columnCount]struct {
	ru, en   string
	required bool
}{
	colRef:            {"Внешний код", "External id", false},
	colName:           {"Имя", "Name", true},
	colKind:           {"Тип", "Kind", false},
	colPhones:         {"Телефоны", "Phones", true},
	colEmail:          {"Эл. почта", "Email", false},
	colAddress:        {"Адрес", "Address", false},
	colTariff:         {"Тариф", "Tariff", false},
	colServiceAddress: {"Адрес подключения", "Service address", false},
	colStatus:         {"Состояние договора", "Contract status", false},
}

// The words a kind or a contract status is written in, folded.
var (
	kindWords = map[string]customerv1.CustomerKind{
		"частное лицо": customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "физическое лицо": customerv1.CustomerKind_CUSTOMER_KIND_PERSON,
		"физ. лицо": customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "физлицо": customerv1.CustomerKind_CUSTOMER_KIND_PERSON,
		"person":      customerv1.CustomerKind_CUSTOMER_KIND_PERSON,
		"организация": customerv1.CustomerKind_CUSTOMER_KIND_COMPANY, "юридическое лицо": customerv1.CustomerKind_CUSTOMER_KIND_COMPANY,
		"юр. лицо": customerv1.CustomerKind_CUSTOMER_KIND_COMPANY, "юрлицо": customerv1.CustomerKind_CUSTOMER_KIND_COMPANY,
		"company": customerv1.CustomerKind_CUSTOMER_KIND_COMPANY,
	}
	statusWords = map[string]contractv1.ContractStatus{
		"подключить": contractv1.ContractStatus_CONTRACT_STATUS_PENDING, "connect": contractv1.ContractStatus_CONTRACT_STATUS_PENDING,
		"действует": contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE, "активен": contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE,
		"active":        contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE,
		"приостановлен": contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED, "suspended": contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED,
	}
)

const (
	// maxCell bounds a cell: far above any field's own limit, so a long
	// value is a problem of its row and never a refused batch.
	maxCell = 1000
	// maxImportRows bounds a file's data rows.
	maxImportRows = 1_000_000
	// maxFilePhones bounds the phones read from one customer's cells; the
	// customer service's own limit (10) is checked there.
	maxFilePhones = 20
)

// importRow is one data row as read: its customer's cells (checked by the
// customer service) and its contract (checked here). What is stored of a
// checked row is its JSON.
type importRow struct {
	Row   int32  `json:"-"`
	Line  int32  `json:"-"`
	Ref   string `json:"-"`
	First int32  `json:"-"` // the row of its customer's first row

	Kind           int32    `json:"k,omitempty"`
	Name           string   `json:"n,omitempty"`
	Email          string   `json:"e,omitempty"`
	Address        string   `json:"a,omitempty"`
	Phones         []string `json:"p,omitempty"`
	TariffID       int64    `json:"t,omitempty"`
	ServiceAddress string   `json:"s,omitempty"`
	// Status is the contract's: PENDING to connect, ACTIVE or SUSPENDED
	// as it stands; UNSPECIFIED for no contract.
	Status int32 `json:"st,omitempty"`

	tariff   string // as written
	kindCell string
	problems []*contractv1.ImportProblem
}

// problem adds a problem of the row. A cell refused as it was read (too
// long, a control character) is not read at all, so nothing more is said
// of its column: that it is then missing would only repeat it.
func (r *importRow) problem(column, code, value, message string) {
	for _, p := range r.problems {
		if column != "" && p.Column == column && (p.Code == "CELL_LONG" || p.Code == "CELL_CONTROL") {
			return
		}
	}
	r.problems = append(r.problems, &contractv1.ImportProblem{Line: r.Line, Column: column, Code: code, Value: value, Message: message})
}

// importFile is a read file: its header as written, per column, and rows.
type importFile struct {
	header [columnCount]string // "" for a column the file lacks
	rows   []*importRow
}

// readImportFile reads a whole file; what makes it unreadable as an
// import (not UTF-8, not CSV, unknown or missing columns) is an error
// naming it, while what is wrong with a row is that row's problem.
func readImportFile(data []byte) (*importFile, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalid(data)], []byte("\n"))
		return nil, fault.Field("file", "the file is not UTF-8 text (line %d): save it as CSV UTF-8", line).Because("IMPORT_NOT_UTF8", nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fault.Field("file", "the file is empty").Because("IMPORT_EMPTY", nil)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = separator(data)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, csvError(err)
	}
	f := &importFile{}
	index, err := f.readHeader(head)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if len(f.rows) == maxImportRows {
			return nil, fault.Field("file", "the file has more than %d rows; split it", maxImportRows).Because("IMPORT_TOO_MANY_ROWS", nil)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		f.rows = append(f.rows, f.readRow(int32(len(f.rows)+1), int32(line), rec, index))
	}
	if len(f.rows) == 0 {
		return nil, fault.Field("file", "the file has a header and no rows").Because("IMPORT_EMPTY", nil)
	}
	return f, nil
}

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// separator is the one the header line uses more of: spreadsheets in
// Russian save CSV with semicolons.
func separator(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		return ';'
	}
	return ','
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fault.Field("file", "line %d is not CSV: %v", pe.StartLine, pe.Err).Because("IMPORT_NOT_CSV", nil)
	}
	return fault.Field("file", "the file is not CSV: %v", err).Because("IMPORT_NOT_CSV", nil)
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// readHeader maps the file's columns; index[i] is the column of cell i.
func (f *importFile) readHeader(head []string) ([]importColumn, error) {
	byName := map[string]importColumn{}
	for c, h := range importHeaders {
		byName[textsearch.Fold(h.ru)] = importColumn(c)
		byName[textsearch.Fold(h.en)] = importColumn(c)
	}
	index := make([]importColumn, len(head))
	var unknown, twice []string
	for i, h := range head {
		h = strings.TrimSpace(h)
		c, ok := byName[textsearch.Fold(h)]
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%q", h))
		case f.header[c] != "":
			twice = append(twice, fmt.Sprintf("%q", h))
		default:
			f.header[c] = h
		}
		index[i] = c
	}
	if len(unknown) > 0 {
		known := make([]string, 0, 2*len(importHeaders))
		for _, h := range importHeaders {
			known = append(known, h.ru+" / "+h.en)
		}
		return nil, fault.Field("file", "unknown columns %s; the columns are: %s", strings.Join(unknown, ", "), strings.Join(known, "; ")).
			Because("IMPORT_UNKNOWN_COLUMNS", map[string]string{"columns": strings.Join(unknown, ", ")})
	}
	if len(twice) > 0 {
		return nil, fault.Field("file", "columns given twice: %s", strings.Join(twice, ", ")).Because("IMPORT_COLUMN_TWICE", nil)
	}
	var missing []string
	for c, h := range importHeaders {
		if h.required && f.header[c] == "" {
			missing = append(missing, h.ru+" / "+h.en)
		}
	}
	if len(missing) > 0 {
		return nil, fault.Field("file", "the file lacks the columns %s", strings.Join(missing, ", ")).
			Because("IMPORT_MISSING_COLUMNS", map[string]string{"columns": strings.Join(missing, ", ")})
	}
	return index, nil
}

// readRow reads one record's cells into a row; the cells' own problems
// (length, control characters, words) are the row's.
func (f *importFile) readRow(row, line int32, rec []string, index []importColumn) *importRow {
	r := &importRow{Row: row, Line: line}
	if len(rec) != len(index) {
		r.problem("", "COLUMNS_COUNT", fmt.Sprint(len(rec)), fmt.Sprintf("the row has %d cells; the header has %d", len(rec), len(index)))
	}
	var cells [columnCount]string
	for i, raw := range rec[:min(len(rec), len(index))] {
		c := index[i]
		v := strings.TrimSpace(raw)
		multiline := c == colAddress || c == colServiceAddress || c == colPhones
		switch {
		case utf8.RuneCountInString(v) > maxCell:
			r.problem(f.header[c], "CELL_LONG", "", fmt.Sprintf("the cell is longer than %d characters", maxCell))
			continue
		case hasControl(v, multiline):
			r.problem(f.header[c], "CELL_CONTROL", "", "the cell holds a control character")
			continue
		}
		cells[c] = v
	}
	r.Ref, r.Name, r.Email, r.Address = cells[colRef], cells[colName], cells[colEmail], cells[colAddress]
	r.kindCell = cells[colKind]
	if k := cells[colKind]; k != "" {
		kind, ok := kindWords[textsearch.Fold(k)]
		if !ok {
			r.problem(f.header[colKind], "KIND_UNKNOWN", k, fmt.Sprintf("%q is not a kind of customer (частное лицо or организация; person or company)", k))
		}
		r.Kind = int32(kind)
	}
	for _, p := range strings.FieldsFunc(cells[colPhones], func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == '\r' }) {
		if p = strings.TrimSpace(p); p != "" && len(r.Phones) < maxFilePhones {
			r.Phones = append(r.Phones, p)
		}
	}
	r.tariff, r.ServiceAddress = cells[colTariff], cells[colServiceAddress]
	if s := cells[colStatus]; s != "" {
		status, ok := statusWords[textsearch.Fold(s)]
		if !ok {
			r.problem(f.header[colStatus], "STATUS_UNKNOWN", s, fmt.Sprintf("%q is not a contract status (подключить, действует, приостановлен; connect, active, suspended)", s))
		}
		r.Status = int32(status)
	}
	if r.tariff != "" && cells[colStatus] == "" {
		r.Status = int32(contractv1.ContractStatus_CONTRACT_STATUS_PENDING)
	}
	return r
}

// hasControl tells whether a cell holds a control character; multi-line
// cells may hold line breaks and tabs.
func hasControl(s string, multiline bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	})
}
