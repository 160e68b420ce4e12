package contract

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

const (
	maxTariffName   = 200
	maxTechnology   = 20
	maxSpeedMbps    = 1_000_000
	defaultCurrency = "RUB"
)

func kindOrPerson(k customerv1.CustomerKind) customerv1.CustomerKind {
	if k == customerv1.CustomerKind_CUSTOMER_KIND_UNSPECIFIED {
		return customerv1.CustomerKind_CUSTOMER_KIND_PERSON
	}
	return k
}

// normalizeTechnology upper-cases a technology name ("xDSL" → "XDSL").
func normalizeTechnology(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// normalizeCurrency upper-cases a currency code; empty is RUB.
func normalizeCurrency(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return defaultCurrency
	}
	return s
}

// checkTariff validates a tariff's fields, already normalised.
func checkTariff(t *tariffRow) []fault.Violation {
	var errs []fault.Violation
	add := func(field, format string, args ...any) {
		errs = append(errs, fault.Violation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	switch n := utf8.RuneCountInString(t.Name); {
	case n == 0:
		add("name", "the tariff's name is empty")
	case n > maxTariffName:
		add("name", "the tariff's name is %d characters long; at most %d", n, maxTariffName)
	}
	if k := customerv1.CustomerKind(t.CustomerKind); k != customerv1.CustomerKind_CUSTOMER_KIND_PERSON && k != customerv1.CustomerKind_CUSTOMER_KIND_COMPANY {
		add("customerKind", "the customer kind is PERSON or COMPANY")
	}
	switch {
	case t.Technology == "":
		add("technology", "name the technology (FTTB, GPON, XDSL, DOCSIS, LTE …)")
	case len(t.Technology) > maxTechnology || !isTechnology(t.Technology):
		add("technology", "%q is not a technology name: letters and digits, at most %d", t.Technology, maxTechnology)
	}
	if t.SpeedMbps <= 0 || t.SpeedMbps > maxSpeedMbps {
		add("speedMbps", "the speed is %d Mbit/s; it must be between 1 and %d", t.SpeedMbps, maxSpeedMbps)
	}
	if t.FeeMinor < 0 {
		add("monthlyFee.amountMinor", "the monthly fee cannot be negative")
	}
	if !isCurrency(t.Currency) {
		add("monthlyFee.currency", "%q is not a currency code: three letters, as RUB", t.Currency)
	}
	return errs
}

func isTechnology(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// need is what a connection request asks of a tariff.
type need struct {
	Kind       int32
	Technology string // "" for any
	MinSpeed   int32  // 0 for any
	MaxFee     *int64 // nil for any
	Currency   string
}

// fits tells whether an active tariff suits the need.
func (n need) fits(t *tariffRow) bool {
	switch {
	case !t.Active || t.CustomerKind != n.Kind || t.Currency != n.Currency:
		return false
	case n.Technology != "" && t.Technology != n.Technology:
		return false
	case t.SpeedMbps < n.MinSpeed:
		return false
	case n.MaxFee != nil && t.FeeMinor > *n.MaxFee:
		return false
	}
	return true
}

// rank keeps the tariffs that fit and orders them best first: cheapest,
// then fastest, then oldest.
func rank(n need, tariffs []tariffRow) []tariffRow {
	var out []tariffRow
	for i := range tariffs {
		if n.fits(&tariffs[i]) {
			out = append(out, tariffs[i])
		}
	}
	slices.SortFunc(out, func(a, b tariffRow) int {
		return cmp.Or(cmp.Compare(a.FeeMinor, b.FeeMinor), cmp.Compare(b.SpeedMbps, a.SpeedMbps), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func tariffProto(t *tariffRow) *contractv1.Tariff {
	active := t.Active
	return &contractv1.Tariff{
		Id:           t.ID,
		Name:         t.Name,
		CustomerKind: customerv1.CustomerKind(t.CustomerKind),
		Technology:   t.Technology,
		SpeedMbps:    t.SpeedMbps,
		MonthlyFee:   &contractv1.Money{AmountMinor: t.FeeMinor, Currency: t.Currency},
		Active:       &active,
		CreateTime:   micros.Proto(t.CreatedAt),
		UpdateTime:   micros.Proto(t.UpdatedAt),
		Etag:         fault.Etag(t.Version),
	}
}
