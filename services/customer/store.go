package customer

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// customerRow and phoneRow are the service's tables. Times are Unix
// microseconds: the same in SQLite and PostgreSQL, and sortable.
type customerRow struct {
	ID        int64
	Kind      int32
	Name      string
	NameLower string
	Email     string
	Address   string
	Version   int64
	CreatedAt int64      `gorm:"autoCreateTime:false"`
	UpdatedAt int64      `gorm:"autoUpdateTime:false"`
	Phones    []phoneRow `gorm:"foreignKey:CustomerID"`
}

func (customerRow) TableName() string { return "customers" }

type phoneRow struct {
	ID         int64
	CustomerID int64
	Number     string
	Label      string
}

func (phoneRow) TableName() string { return "phones" }

// store is the customer service's access to its own tables.
type store struct {
	db  *gorm.DB
	now func() time.Time
}

func (s *store) micros() int64 { return micros.Of(s.now()) }

// errPhoneTaken reports a number another customer holds.
type errPhoneTaken struct {
	Number string
	Holder int64
}

func (e *errPhoneTaken) Error() string { return "phone " + e.Number + " is taken" }

// create writes a customer with its phones in one transaction.
func (s *store) create(ctx context.Context, c *customerRow) error {
	now := s.micros()
	c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
	c.NameLower = textsearch.Fold(c.Name)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		phones := c.Phones
		c.Phones = nil
		if err := tx.Omit(clause.Associations).Create(c).Error; err != nil {
			return err
		}
		for i := range phones {
			phones[i].CustomerID = c.ID
		}
		c.Phones = phones
		return tx.Create(&c.Phones).Error
	})
	return s.phoneConflict(ctx, err, c.Phones)
}

// phoneConflict turns a unique violation on phones into errPhoneTaken naming
// the holder, so the caller can say who has the number.
func (s *store) phoneConflict(ctx context.Context, err error, phones []phoneRow) error {
	if err == nil || !database.IsUniqueViolation(err) {
		return err
	}
	numbers := make([]string, 0, len(phones))
	for _, p := range phones {
		numbers = append(numbers, p.Number)
	}
	var held phoneRow
	if lookup := s.db.WithContext(ctx).Where("number IN ?", numbers).Order("number").Take(&held).Error; lookup != nil {
		return err
	}
	return &errPhoneTaken{Number: held.Number, Holder: held.CustomerID}
}

func (s *store) get(ctx context.Context, id int64) (*customerRow, error) {
	rows, err := s.query(ctx, `SELECT `+loadColumns+`
FROM customers c LEFT JOIN phones p ON p.customer_id = c.id
WHERE c.id = ? ORDER BY p.id`, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fault.New(fault.NotFound, "customer %d does not exist", id)
	}
	return &rows[0], nil
}

// holderOf is the customer holding a number (E.164).
func (s *store) holderOf(ctx context.Context, number string) (int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&phoneRow{}).Where("number = ?", number).Limit(1).Pluck("customer_id", &ids).Error; err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, fault.New(fault.NotFound, "no customer has the number %s", number)
	}
	return ids[0], nil
}

// update writes the given columns if the row is still at version, and
// tells whether it did (false: a lost race).
func (s *store) update(ctx context.Context, id, version int64, cols map[string]any) (bool, error) {
	return database.UpdateVersioned(s.db.WithContext(ctx), &customerRow{}, id, version, cols, s.micros())
}

// addPhone adds a phone unless the customer holds max already. The
// customer row is written first, which locks it, so the count and the
// insert of two concurrent adds are serialised and the limit holds.
func (s *store) addPhone(ctx context.Context, p *phoneRow, max int) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.touch(tx, p.CustomerID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&phoneRow{}).Where("customer_id = ?", p.CustomerID).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(max) {
			return fault.New(fault.FailedPrecondition, "customer %d has %d phones, the most a customer may have; remove one before adding another", p.CustomerID, n).At("phone")
		}
		return tx.Create(p).Error
	})
	return s.phoneConflict(ctx, err, []phoneRow{*p})
}

// removePhone deletes a phone unless it is the customer's last. The
// customer row is written first, so two removals of a two-phone customer
// are serialised and cannot both succeed.
func (s *store) removePhone(ctx context.Context, customerID, phoneID int64) (string, error) {
	var removed phoneRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.touch(tx, customerID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&phoneRow{}).Where("customer_id = ?", customerID).Count(&n).Error; err != nil {
			return err
		}
		err := tx.Take(&removed, "id = ? AND customer_id = ?", phoneID, customerID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "customer %d has no phone %d", customerID, phoneID)
		} else if err != nil {
			return err
		}
		if n <= 1 {
			return fault.New(fault.FailedPrecondition, "a customer keeps at least one phone; add another before removing this one")
		}
		return tx.Where("id = ? AND customer_id = ?", phoneID, customerID).Delete(&phoneRow{}).Error
	})
	return removed.Number, err
}

// touch bumps a customer's version (its etag changes with its phones) and
// takes the row's write lock for the rest of the transaction.
func (s *store) touch(tx *gorm.DB, id int64) error {
	res := tx.Model(&customerRow{}).Where("id = ?", id).Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": s.micros()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fault.New(fault.NotFound, "customer %d does not exist", id)
	}
	return nil
}

// joinedRow is a customer with one of its phones: what the reading
// queries answer, one row per phone, a customer's rows together.
type joinedRow struct {
	ID          int64
	Kind        int32
	Name        string
	NameLower   string
	Email       string
	Address     string
	Version     int64
	CreatedAt   int64
	UpdatedAt   int64
	PhoneID     *int64
	PhoneNumber *string
	PhoneLabel  *string
	// Hit is the number a phone search matched ("" for other searches).
	Hit string
	// Part tells which part of a statement answering two found the row.
	Part int
}

// loadColumns are the columns of joinedRow from customers c and phones p.
const loadColumns = `c.id, c.kind, c.name, c.name_lower, c.email, c.address, c.version, c.created_at, c.updated_at,
p.id AS phone_id, p.number AS phone_number, p.label AS phone_label`

// query runs a statement that answers joinedRow columns and folds its rows
// into customers: a customer with its phones in one round trip.
func (s *store) query(ctx context.Context, sql string, args ...any) ([]customerRow, error) {
	rows, err := s.joined(ctx, sql, args...)
	return fold(rows), err
}

// joined runs a reading statement and scans its rows by position: every
// search reads them, and scanning by reflection was a visible share of a
// search's time. A statement may lead with the part and the hit.
func (s *store) joined(ctx context.Context, sql string, args ...any) ([]joinedRow, error) {
	rows, err := s.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	const loaded = 12 // the columns of loadColumns, after any leading ones
	lead := cols[:max(0, len(cols)-loaded)]
	var out []joinedRow
	for rows.Next() {
		var r joinedRow
		dest := make([]any, 0, len(cols))
		for _, c := range lead {
			if c == "part" {
				dest = append(dest, &r.Part)
			} else {
				dest = append(dest, &r.Hit)
			}
		}
		dest = append(dest, &r.ID, &r.Kind, &r.Name, &r.NameLower, &r.Email, &r.Address, &r.Version, &r.CreatedAt, &r.UpdatedAt, &r.PhoneID, &r.PhoneNumber, &r.PhoneLabel)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// fold turns joined rows into customers, in the order they come.
func fold(rows []joinedRow) []customerRow {
	var out []customerRow
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			out = append(out, customerRow{
				ID: r.ID, Kind: r.Kind, Name: r.Name, NameLower: r.NameLower, Email: r.Email, Address: r.Address,
				Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			})
		}
		if r.PhoneID != nil {
			c := &out[len(out)-1]
			c.Phones = append(c.Phones, phoneRow{ID: *r.PhoneID, CustomerID: r.ID, Number: deref(r.PhoneNumber), Label: deref(r.PhoneLabel)})
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// byIDs loads a few customers with their phones, newest first.
func (s *store) byIDs(ctx context.Context, ids []int64) ([]customerRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.query(ctx, `SELECT `+loadColumns+`
FROM customers c LEFT JOIN phones p ON p.customer_id = c.id
WHERE c.id IN ? ORDER BY c.id DESC, p.id`, ids)
}

// startingWith selects a page of size numbers (and one more, to tell
// whether more follow) that start with a prefix, after a number: a range
// on the unique index, as a LIKE with a bound parameter would not use it.
// Its arguments: the prefix, its upper bound, the number after which.
func startingWith(size int) string {
	return `SELECT customer_id, number FROM phones
      WHERE number >= ? AND number < ? AND number > ?
      ORDER BY number LIMIT ` + limit(size+1)
}

// endingWith selects a page of numbers that end with some digits, read
// from their end after a number, leaving out the customers holding a
// number that starts with a prefix (a search's first part has them). The
// reversed numbers' index answers it in order, so a page stops after its
// numbers however many match: the trigram index would fetch and sort every
// one of the hundreds of numbers a million customers have ending in four
// given digits. gate is a further condition, "TRUE" when none. Its
// arguments: the reversed digits, their upper bound, the reversed number
// after which, the prefix and its upper bound.
func endingWith(size int, gate string) string {
	return `SELECT customer_id, number FROM phones m
      WHERE ` + gate + ` AND reverse(number) >= ? AND reverse(number) < ? AND reverse(number) > ?
        AND NOT EXISTS (SELECT 1 FROM phones q WHERE q.customer_id = m.customer_id AND q.number >= ? AND q.number < ?)
      ORDER BY reverse(number) LIMIT ` + limit(size+1)
}

// withCustomers joins the hits of a phone search (part, number, key to
// order by) to their customers and all their phones.
const withCustomers = `JOIN customers c ON c.id = h.customer_id LEFT JOIN phones p ON p.customer_id = c.id
ORDER BY h.part, h.k, p.id`

// byNumberPrefix finds the customers whose phones start with prefix, in
// the order of the matching numbers, after the number `after` ("" for the
// first page), a page of size numbers. next is the last number of the
// page when more follow, else "".
func (s *store) byNumberPrefix(ctx context.Context, prefix, after string, size int) (found []customerRow, next string, err error) {
	rows, err := s.joined(ctx, `SELECT h.number AS hit, `+loadColumns+`
FROM (SELECT 0 AS part, customer_id, number, number AS k FROM (`+startingWith(size)+`) s) h
`+withCustomers, prefix, prefixUpperBound(prefix), after)
	if err != nil {
		return nil, "", err
	}
	found, next = prefixPage(rows, prefix, size)
	return found, next, nil
}

// byNumberSuffix finds the customers with a phone that ends with digits
// (the last four digits, the usual way to ask), leaving out those holding
// a number that starts with prefix (answered first), in the order of the
// matching numbers read from their end, after the number `after`, a page
// of size numbers.
func (s *store) byNumberSuffix(ctx context.Context, digits, prefix, after string, size int) (found []customerRow, next string, err error) {
	from := database.Reverse(digits)
	rows, err := s.joined(ctx, `SELECT h.number AS hit, `+loadColumns+`
FROM (SELECT 1 AS part, customer_id, number, reverse(number) AS k FROM (`+endingWith(size, "TRUE")+`) e) h
`+withCustomers, from, prefixUpperBound(from), database.Reverse(after), prefix, prefixUpperBound(prefix))
	if err != nil {
		return nil, "", err
	}
	found, next = suffixPage(rows, digits, size)
	return found, next, nil
}

// byNumberStartOrEnd reads the first two parts of a phone search in one
// statement: the numbers starting with prefix after `after` (a page of
// size), and, only when those leave room on the page, the numbers ending
// with digits from the first (size more at most). One round trip instead
// of two is what the last four digits, whose first part is usually empty,
// cost beside a prefix. The rows come back split by part, in each part's
// order.
func (s *store) byNumberStartOrEnd(ctx context.Context, prefix, digits, after string, size int) (start, end []joinedRow, err error) {
	from := database.Reverse(digits)
	rows, err := s.joined(ctx, `WITH s AS MATERIALIZED (`+startingWith(size)+`),
e AS MATERIALIZED (`+endingWith(size, "(SELECT count(*) FROM s) <= "+limit(size))+`)
SELECT h.part, h.number AS hit, `+loadColumns+`
FROM (SELECT 0 AS part, customer_id, number, number AS k FROM s
      UNION ALL SELECT 1, customer_id, number, reverse(number) FROM e) h
`+withCustomers,
		prefix, prefixUpperBound(prefix), after,
		from, prefixUpperBound(from), "", prefix, prefixUpperBound(prefix))
	if err != nil {
		return nil, nil, err
	}
	split := slices.IndexFunc(rows, func(r joinedRow) bool { return r.Part == 1 })
	if split < 0 {
		split = len(rows)
	}
	return rows[:split], rows[split:], nil
}

// prefixPage and suffixPage fold the hits of a search's first and second
// part into a page of size numbers.
func prefixPage(rows []joinedRow, prefix string, size int) ([]customerRow, string) {
	upper := prefixUpperBound(prefix)
	return pageByHit(rows, size, func(n string) bool { return n >= prefix && n < upper }, byNumber)
}

func suffixPage(rows []joinedRow, digits string, size int) ([]customerRow, string) {
	return pageByHit(rows, size, func(n string) bool { return strings.HasSuffix(n, digits) },
		func(a, b string) bool { return database.Reverse(a) < database.Reverse(b) })
}

// byNumberPart finds the customers with a phone that holds digits
// elsewhere ("4567" in "+79123456789"), leaving out those holding a number
// that starts with prefix or ends with the digits (answered first), in the
// order of the matching numbers after `after`, a page of size numbers. On
// PostgreSQL the trigram index on the numbers finds them; MATERIALIZED
// keeps the planner from walking the unique index in order instead, which
// reads every number when few match.
func (s *store) byNumberPart(ctx context.Context, digits, prefix, after string, size int) (found []customerRow, next string, err error) {
	from := database.Reverse(digits)
	rows, err := s.joined(ctx, `WITH m AS MATERIALIZED (SELECT customer_id, number FROM phones WHERE number LIKE ? ESCAPE '\')
SELECT h.number AS hit, `+loadColumns+`
FROM (SELECT customer_id, number FROM m
      WHERE number > ?
        AND NOT EXISTS (SELECT 1 FROM phones q WHERE q.customer_id = m.customer_id AND q.number >= ? AND q.number < ?)
        AND NOT EXISTS (SELECT 1 FROM phones q WHERE q.customer_id = m.customer_id AND reverse(q.number) >= ? AND reverse(q.number) < ?)
      ORDER BY number LIMIT `+limit(size+1)+`) h
JOIN customers c ON c.id = h.customer_id LEFT JOIN phones p ON p.customer_id = c.id
ORDER BY h.number, p.id`, "%"+digits+"%", after, prefix, prefixUpperBound(prefix), from, prefixUpperBound(from))
	if err != nil {
		return nil, "", err
	}
	found, next = pageByHit(rows, size, func(n string) bool { return strings.Contains(n, digits) }, byNumber)
	return found, next, nil
}

// byNumber orders phone numbers as the unique index does.
func byNumber(a, b string) bool { return a < b }

// pageByHit folds the rows of a number search (a customer's rows per
// matching number, in the order of the numbers) into a page of size
// numbers. A customer with two matching numbers comes once, at the lower
// one, on whichever page that falls; the number past the page only tells
// that more follow, and next is then the page's last number.
func pageByHit(rows []joinedRow, size int, matches func(number string) bool, before func(a, b string) bool) (found []customerRow, next string) {
	type hitOf struct {
		number   string
		customer int64
	}
	lowest := map[hitOf]string{}
	for _, r := range rows {
		k := hitOf{r.Hit, r.ID}
		if _, ok := lowest[k]; !ok {
			lowest[k] = r.Hit
		}
		if n := deref(r.PhoneNumber); matches(n) && before(n, lowest[k]) {
			lowest[k] = n
		}
	}
	var hits []string
	var kept []joinedRow
	for _, r := range rows {
		if len(hits) == 0 || hits[len(hits)-1] != r.Hit {
			hits = append(hits, r.Hit)
		}
		if len(hits) > size {
			next = hits[size-1]
			break
		}
		if lowest[hitOf{r.Hit, r.ID}] == r.Hit {
			kept = append(kept, r)
		}
	}
	return fold(kept), next
}

// Name search. A part of a name is found by the trigram index; but with
// the newest first and a bound parameter, PostgreSQL cannot know how many
// names match, and either plan it picks is slow for some queries: walking
// the primary key backwards finds a common part at once and a rare one only
// after reading the whole table; the trigram index finds a rare part at
// once and a common one only after fetching and sorting every match. So the
// store does both, each where it is cheap: it looks through the newest
// nameWindow customers; when fewer than a page match there but enough to
// promise a page within nameWideWindow, it looks that far; and only a rare
// part goes to the trigram index.
const (
	nameWindow     = 5000
	nameWideWindow = 15000
)

// byName finds customers whose folded name (textsearch.Fold) contains part, newest first,
// below the id before (0: from the newest), at most n.
func (s *store) byName(ctx context.Context, part string, before int64, n int) ([]customerRow, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	if part == "" {
		return s.query(ctx, `SELECT `+loadColumns+`
FROM (SELECT id FROM customers WHERE id < ? ORDER BY id DESC LIMIT `+limit(n)+`) h
JOIN customers c ON c.id = h.id LEFT JOIN phones p ON p.customer_id = c.id
ORDER BY c.id DESC, p.id`, before)
	}
	pattern := textsearch.Contains(part)
	if !textsearch.TrigramUsable(part) {
		// Without three letters in a row the trigram index cannot narrow
		// anything: walk the table, newest first, as far as it takes.
		return s.recentByName(ctx, pattern, before, unbounded, n)
	}
	found, err := s.recentByName(ctx, pattern, before, nameWindow, n)
	if err != nil || len(found) == n {
		return found, err
	}
	if len(found) > 0 && len(found)*(nameWideWindow/nameWindow) >= n {
		wide, err := s.recentByName(ctx, pattern, before, nameWideWindow, n)
		if err != nil || len(wide) == n {
			return wide, err
		}
	}
	// MATERIALIZED keeps the planner from walking the primary key instead.
	return s.query(ctx, `WITH m AS MATERIALIZED (SELECT id FROM customers WHERE name_lower LIKE ? ESCAPE '\')
SELECT `+loadColumns+`
FROM (SELECT id FROM m WHERE id < ? ORDER BY id DESC LIMIT `+limit(n)+`) h
JOIN customers c ON c.id = h.id LEFT JOIN phones p ON p.customer_id = c.id
ORDER BY c.id DESC, p.id`, pattern, before)
}

// recentByName looks for pattern among the window newest customers below
// the id before; the walk stops as soon as n match.
func (s *store) recentByName(ctx context.Context, pattern string, before int64, window, n int) ([]customerRow, error) {
	return s.query(ctx, `SELECT `+loadColumns+`
FROM (SELECT id FROM (SELECT id, name_lower FROM customers WHERE id < ? ORDER BY id DESC LIMIT `+limit(window)+`) w
      WHERE name_lower LIKE ? ESCAPE '\' ORDER BY id DESC LIMIT `+limit(n)+`) h
JOIN customers c ON c.id = h.id LEFT JOIN phones p ON p.customer_id = c.id
ORDER BY c.id DESC, p.id`, before, pattern)
}

// unbounded is a window as large as any table.
const unbounded = math.MaxInt32

// limit writes a LIMIT's count into a statement. A count sent as a bound
// parameter is unknown to a generic plan, which then guesses a tenth of the
// table and may join it by reading all of it; written out, the count is
// known, and the service prepares one statement per page size it uses.
func limit(n int) string { return strconv.Itoa(n) }
