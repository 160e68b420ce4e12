package contract

import (
	"strings"
	"testing"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
)

func TestParseNumberReadsWhatPeopleTypeAsTheStoredForm(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"C-000123", "C-000123", true},
		{"c-123", "C-000123", true},
		{"C123", "C-000123", true},
		{" C 123 ", "C-000123", true},
		{"С-123", "C-000123", true}, // Cyrillic capital Es
		{"с123", "C-000123", true},  // Cyrillic small es
		{"C-1234567", "C-1234567", true},
		{"C-0", "", false},
		{"C-", "", false},
		{"123", "", false},
		{"C-12a", "", false},
		{"D-123", "", false},
		{"C-1234567890123456789", "", false},
		{"", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseNumber(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("parseNumber(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFormatNumberPadsToSixDigits(t *testing.T) {
	for id, want := range map[int64]string{1: "C-000001", 123: "C-000123", 999999: "C-999999", 1000000: "C-1000000"} {
		if got := formatNumber(id); got != want {
			t.Fatalf("formatNumber(%d) = %q, want %q", id, got, want)
		}
	}
}

func TestCheckTariffNamesEveryBadField(t *testing.T) {
	good := func() tariffRow {
		return tariffRow{Name: "Home 100", CustomerKind: 1, Technology: "FTTB", SpeedMbps: 100, FeeMinor: 50000, Currency: "RUB"}
	}
	if errs := checkTariff(&[]tariffRow{good()}[0]); len(errs) != 0 {
		t.Fatalf("a good tariff is refused: %v", errs)
	}
	for _, tc := range []struct {
		name   string
		change func(*tariffRow)
		field  string
	}{
		{"empty name", func(r *tariffRow) { r.Name = "" }, "name"},
		{"300-character name", func(r *tariffRow) { r.Name = strings.Repeat("т", 300) }, "name"},
		{"unknown kind", func(r *tariffRow) { r.CustomerKind = 9 }, "customerKind"},
		{"unspecified kind", func(r *tariffRow) { r.CustomerKind = 0 }, "customerKind"},
		{"no technology", func(r *tariffRow) { r.Technology = "" }, "technology"},
		{"technology with a space", func(r *tariffRow) { r.Technology = "FTT B" }, "technology"},
		{"technology with a dash", func(r *tariffRow) { r.Technology = "X-DSL" }, "technology"},
		{"zero speed", func(r *tariffRow) { r.SpeedMbps = 0 }, "speedMbps"},
		{"negative speed", func(r *tariffRow) { r.SpeedMbps = -5 }, "speedMbps"},
		{"negative fee", func(r *tariffRow) { r.FeeMinor = -1 }, "monthlyFee.amountMinor"},
		{"two-letter currency", func(r *tariffRow) { r.Currency = "RU" }, "monthlyFee.currency"},
		{"currency with digits", func(r *tariffRow) { r.Currency = "R1B" }, "monthlyFee.currency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.change(&r)
			errs := checkTariff(&r)
			if len(errs) != 1 || errs[0].Field != tc.field {
				t.Fatalf("violations %v, want one on %s", errs, tc.field)
			}
		})
	}
}

func TestNormalizeTechnologyAndCurrencyUpperCase(t *testing.T) {
	if got := normalizeTechnology(" xDSL "); got != "XDSL" {
		t.Fatalf("technology %q", got)
	}
	if got := normalizeCurrency(""); got != "RUB" {
		t.Fatalf("empty currency %q", got)
	}
	if got := normalizeCurrency("eur"); got != "EUR" {
		t.Fatalf("currency %q", got)
	}
}

func TestRankKeepsWhatFitsCheapestFirstThenFasterThenOlder(t *testing.T) {
	const person, company = int32(customerv1.CustomerKind_CUSTOMER_KIND_PERSON), int32(customerv1.CustomerKind_CUSTOMER_KIND_COMPANY)
	tariffs := []tariffRow{
		{ID: 1, Name: "fttb-100", CustomerKind: person, Technology: "FTTB", SpeedMbps: 100, FeeMinor: 50000, Currency: "RUB", Active: true},
		{ID: 2, Name: "fttb-500", CustomerKind: person, Technology: "FTTB", SpeedMbps: 500, FeeMinor: 70000, Currency: "RUB", Active: true},
		{ID: 3, Name: "gpon-1000", CustomerKind: person, Technology: "GPON", SpeedMbps: 1000, FeeMinor: 70000, Currency: "RUB", Active: true},
		{ID: 4, Name: "dsl-20", CustomerKind: person, Technology: "XDSL", SpeedMbps: 20, FeeMinor: 35000, Currency: "RUB", Active: true},
		{ID: 5, Name: "old-fttb", CustomerKind: person, Technology: "FTTB", SpeedMbps: 1000, FeeMinor: 1, Currency: "RUB", Active: false},
		{ID: 6, Name: "biz-200", CustomerKind: company, Technology: "FTTB", SpeedMbps: 200, FeeMinor: 250000, Currency: "RUB", Active: true},
		{ID: 7, Name: "fttb-500-twin", CustomerKind: person, Technology: "FTTB", SpeedMbps: 500, FeeMinor: 70000, Currency: "RUB", Active: true},
		{ID: 8, Name: "eur-fttb", CustomerKind: person, Technology: "FTTB", SpeedMbps: 100, FeeMinor: 10, Currency: "EUR", Active: true},
	}
	fee := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		need need
		want string
	}{
		{"any person tariff, cheapest first; equal fees: faster, then older", need{Kind: person, Currency: "RUB"}, "dsl-20 fttb-100 gpon-1000 fttb-500 fttb-500-twin"},
		{"technology given", need{Kind: person, Technology: "FTTB", Currency: "RUB"}, "fttb-100 fttb-500 fttb-500-twin"},
		{"minimum speed", need{Kind: person, MinSpeed: 500, Currency: "RUB"}, "gpon-1000 fttb-500 fttb-500-twin"},
		{"maximum fee, inclusive", need{Kind: person, MaxFee: fee(50000), Currency: "RUB"}, "dsl-20 fttb-100"},
		{"maximum fee of zero", need{Kind: person, MaxFee: fee(0), Currency: "RUB"}, ""},
		{"companies get company tariffs only", need{Kind: company, Currency: "RUB"}, "biz-200"},
		{"nothing fits", need{Kind: person, Technology: "LTE", Currency: "RUB"}, ""},
		{"another currency", need{Kind: person, Currency: "EUR"}, "eur-fttb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range rank(tc.need, tariffs) {
				got = append(got, r.Name)
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("ranked %v, want %s", got, tc.want)
			}
		})
	}
}
