package customer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// The contract service's imports bring customers in from a file. Each is
// checked by the rules CreateCustomer applies, a problem being a code the
// import's report words rather than a refused request; a batch is written
// in one transaction under its name, so a batch repeated after a lost
// answer is answered as it was written. The import records itself in the
// audit log; its customers are not audited one by one.

// importBatchRow remembers a written batch's answer.
type importBatchRow struct {
	Batch     string `gorm:"primaryKey"`
	Answer    []byte
	CreatedAt int64 `gorm:"autoCreateTime:false"`
}

func (importBatchRow) TableName() string { return "import_batches" }

// inChunk bounds the numbers asked in one IN list.
const inChunk = 1000

func (s *Server) CheckCustomers(ctx context.Context, req *customerv1.CheckCustomersRequest) (*customerv1.CheckCustomersResponse, error) {
	rows, checks := checkImported(req.GetCustomers())
	if err := markTaken(s.store.db.WithContext(ctx), rows, checks); err != nil {
		return nil, err
	}
	return &customerv1.CheckCustomersResponse{Checks: checks}, nil
}

func (s *Server) ImportCustomers(ctx context.Context, req *customerv1.ImportCustomersRequest) (*customerv1.ImportCustomersResponse, error) {
	var out customerv1.ImportCustomersResponse
	err := s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var prior importBatchRow
		err := tx.Where("batch = ?", req.GetBatch()).Take(&prior).Error
		if err == nil {
			return protojson.Unmarshal(prior.Answer, &out)
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		rows, checks := checkImported(req.GetCustomers())
		if err := markTaken(tx, rows, checks); err != nil {
			return err
		}
		out = customerv1.ImportCustomersResponse{Checks: checks, Ids: make([]int64, len(rows))}
		if err := s.store.insertMany(tx, rows); err != nil {
			return err
		}
		for i, r := range rows {
			if r != nil {
				out.Ids[i] = r.ID
			}
		}
		answer, err := protojson.Marshal(&out)
		if err != nil {
			return err
		}
		return tx.Create(&importBatchRow{Batch: req.GetBatch(), Answer: answer, CreatedAt: s.store.micros()}).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// checkImported checks each customer: its row when it may be written (nil
// when not), and what was found.
func checkImported(in []*customerv1.ImportedCustomer) ([]*customerRow, []*customerv1.CustomerCheck) {
	rows := make([]*customerRow, len(in))
	checks := make([]*customerv1.CustomerCheck, len(in))
	for i, c := range in {
		row := &customerRow{Kind: int32(kindOrPerson(c.GetKind())), Name: strings.TrimSpace(c.GetName()),
			Email: strings.TrimSpace(c.GetEmail()), Address: strings.TrimSpace(c.GetAddress())}
		check := &customerv1.CustomerCheck{Problems: fieldProblems(row, kindOrPerson(c.GetKind()))}
		problem := func(code, value, message string) {
			check.Problems = append(check.Problems, &customerv1.CustomerProblem{Field: "phones", Code: code, Value: value, Message: message})
		}
		switch n := len(c.GetPhones()); {
		case n == 0:
			problem("PHONES_MISSING", "", "give at least one phone number")
		case n > maxPhones:
			problem("PHONES_TOO_MANY", fmt.Sprint(n), fmt.Sprintf("at most %d phones per customer", maxPhones))
		}
		seen := map[string]bool{}
		for _, raw := range c.GetPhones() {
			number, ok := normalizeNumber(raw)
			check.Numbers = append(check.Numbers, number)
			switch {
			case !ok:
				problem("PHONE_INVALID", raw, fmt.Sprintf("%q is not a phone number", raw))
			case seen[number]:
				problem("PHONE_TWICE", number, fmt.Sprintf("%s is given twice", number))
			default:
				seen[number] = true
				row.Phones = append(row.Phones, phoneRow{Number: number})
			}
		}
		checks[i] = check
		if len(check.Problems) == 0 {
			rows[i] = row
		}
	}
	return rows, checks
}

// markTaken finds the numbers of the writable rows that customers hold
// already, and leaves those rows out.
func markTaken(db *gorm.DB, rows []*customerRow, checks []*customerv1.CustomerCheck) error {
	owner := map[string]int{}
	var numbers []string
	for i, r := range rows {
		if r == nil {
			continue
		}
		for _, p := range r.Phones {
			owner[p.Number] = i
			numbers = append(numbers, p.Number)
		}
	}
	for len(numbers) > 0 {
		n := min(len(numbers), inChunk)
		held, err := heldNumbers(db, numbers[:n])
		if err != nil {
			return err
		}
		numbers = numbers[n:]
		for _, number := range held {
			i := owner[number]
			checks[i].Problems = append(checks[i].Problems, &customerv1.CustomerProblem{Field: "phones", Code: "PHONE_TAKEN", Value: number,
				Message: fmt.Sprintf("the number %s is held by a registered customer", number)})
			rows[i] = nil
		}
	}
	return nil
}

// heldNumbers are those of numbers that customers hold. On PostgreSQL the
// numbers are joined as an array, which looks each up in the unique index:
// a long IN list is planned onto the trigram index instead, seconds per
// thousand numbers.
func heldNumbers(db *gorm.DB, numbers []string) ([]string, error) {
	var held []string
	if database.IsPostgres(db) {
		// E.164 numbers are digits after a plus: an array literal as is
		array := "{" + strings.Join(numbers, ",") + "}"
		err := db.Raw(`SELECT p.number FROM phones p JOIN unnest(?::text[]) AS n(number) ON p.number = n.number`, array).Scan(&held).Error
		return held, err
	}
	err := db.Model(&phoneRow{}).Where("number IN ?", numbers).Pluck("number", &held).Error
	return held, err
}

// insertMany writes the given customers (nil ones skipped) and their
// phones with multi-row inserts; each row gets its id.
func (s *store) insertMany(tx *gorm.DB, rows []*customerRow) error {
	now := s.micros()
	var customers []*customerRow
	for _, r := range rows {
		if r != nil {
			r.CreatedAt, r.UpdatedAt, r.Version = now, now, 1
			r.NameLower = textsearch.Fold(r.Name)
			customers = append(customers, r)
		}
	}
	if len(customers) == 0 {
		return nil
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(customers, database.InsertBatch).Error; err != nil {
		return err
	}
	var phones []phoneRow
	for _, c := range customers {
		for _, p := range c.Phones {
			p.CustomerID = c.ID
			phones = append(phones, p)
		}
	}
	return tx.CreateInBatches(phones, database.InsertBatch).Error
}
