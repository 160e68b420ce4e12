package contract

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/patch"
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

type tariffCursor struct {
	After int64 `json:"a"`
}

func (s *Server) ListTariffs(ctx context.Context, req *contractv1.ListTariffsRequest) (*contractv1.ListTariffsResponse, error) {
	size := pagetoken.Size(req.GetPageSize(), defaultPage, maxPage)
	listing := fmt.Sprintf("tariffs/%t/%d", req.GetIncludeInactive(), req.GetCustomerKind())
	var cur tariffCursor
	if _, err := s.pages.Decode(req.GetPageToken(), listing, &cur); err != nil {
		return nil, err
	}
	rows, err := s.store.tariffs(ctx, tariffFilter{IncludeInactive: req.GetIncludeInactive(), Kind: int32(req.GetCustomerKind()), After: cur.After}, size+1)
	if err != nil {
		return nil, err
	}
	resp := &contractv1.ListTariffsResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.pages, listing, rows, size, func(r *tariffRow) any { return tariffCursor{After: r.ID} })
	for i := range rows {
		resp.Tariffs = append(resp.Tariffs, tariffProto(&rows[i]))
	}
	return resp, nil
}

func (s *Server) GetTariff(ctx context.Context, req *contractv1.GetTariffRequest) (*contractv1.GetTariffResponse, error) {
	t, err := s.store.tariff(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &contractv1.GetTariffResponse{Tariff: tariffProto(t)}, nil
}

func tariffTarget(id int64) string { return "tariff:" + strconv.FormatInt(id, 10) }

// tariffFields are a tariff's fields as the audit log shows them.
func tariffFields(r *tariffRow) map[string]string {
	return map[string]string{
		"name": r.Name, "customerKind": strings.TrimPrefix(customerv1.CustomerKind(r.CustomerKind).String(), "CUSTOMER_KIND_"),
		"technology": r.Technology, "speedMbps": strconv.Itoa(int(r.SpeedMbps)),
		"monthlyFee": fmt.Sprintf("%d.%02d %s", r.FeeMinor/100, r.FeeMinor%100, r.Currency), "active": strconv.FormatBool(r.Active),
	}
}

// describeTariff is a new tariff's fields in one line.
func describeTariff(r *tariffRow) string {
	_, all := auditlog.Change(nil, tariffFields(r))
	return all
}

func (s *Server) CreateTariff(ctx context.Context, req *contractv1.CreateTariffRequest) (*contractv1.CreateTariffResponse, error) {
	t := req.GetTariff()
	if t == nil {
		return nil, fault.Field("tariff", "the tariff is missing")
	}
	row := &tariffRow{
		Name:         strings.TrimSpace(t.GetName()),
		CustomerKind: int32(kindOrPerson(t.GetCustomerKind())),
		Technology:   normalizeTechnology(t.GetTechnology()),
		SpeedMbps:    t.GetSpeedMbps(),
		FeeMinor:     t.GetMonthlyFee().GetAmountMinor(),
		Currency:     normalizeCurrency(t.GetMonthlyFee().GetCurrency()),
		Active:       t.Active == nil || t.GetActive(),
	}
	errs := checkTariff(row)
	if t.GetMonthlyFee() == nil {
		errs = append(errs, fault.Violation{Field: "monthlyFee", Description: "give the monthly fee"})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if err := s.store.createTariff(ctx, row); err != nil {
		return nil, err
	}
	s.audit.Record(ctx, "tariff.create", tariffTarget(row.ID), "tariff_created", "name", row.Name, "values", describeTariff(row))
	return &contractv1.CreateTariffResponse{Tariff: tariffProto(row)}, nil
}

func (s *Server) UpdateTariff(ctx context.Context, req *contractv1.UpdateTariffRequest) (*contractv1.UpdateTariffResponse, error) {
	t := req.GetTariff()
	if t == nil {
		return nil, fault.Field("tariff", "send the tariff's fields to change")
	}
	row, err := patch.Kind[tariffRow]{
		Name:    "tariff",
		Get:     s.store.tariff,
		Version: func(r *tariffRow) int64 { return r.Version },
		Set: func(next *tariffRow, path string, cols map[string]any) bool {
			switch path {
			case "name":
				next.Name = strings.TrimSpace(t.GetName())
				cols["name"] = next.Name
			case "customer_kind":
				next.CustomerKind = int32(kindOrPerson(t.GetCustomerKind()))
				cols["customer_kind"] = next.CustomerKind
			case "technology":
				next.Technology = normalizeTechnology(t.GetTechnology())
				cols["technology"] = next.Technology
			case "speed_mbps":
				next.SpeedMbps = t.GetSpeedMbps()
				cols["speed_mbps"] = next.SpeedMbps
			case "monthly_fee":
				next.FeeMinor, next.Currency = t.GetMonthlyFee().GetAmountMinor(), normalizeCurrency(t.GetMonthlyFee().GetCurrency())
				cols["fee_minor"], cols["currency"] = next.FeeMinor, next.Currency
			case "monthly_fee.amount_minor":
				next.FeeMinor = t.GetMonthlyFee().GetAmountMinor()
				cols["fee_minor"] = next.FeeMinor
			case "monthly_fee.currency":
				next.Currency = normalizeCurrency(t.GetMonthlyFee().GetCurrency())
				cols["currency"] = next.Currency
			case "active":
				next.Active = t.GetActive()
				cols["active"] = next.Active
			default:
				return false
			}
			return true
		},
		Refusal: "%q is not a field of a tariff that can be changed",
		Check:   checkTariff,
		Update:  s.store.updateTariff,
		Changed: func(ctx context.Context, before, after *tariffRow) {
			b, a := auditlog.Change(tariffFields(before), tariffFields(after))
			if b != a {
				s.audit.Record(ctx, "tariff.update", tariffTarget(after.ID), "tariff_changed", "name", after.Name, "before", b, "after", a)
			}
		},
	}.Apply(ctx, patch.Request{PathID: req.GetId(), BodyID: t.GetId(), Etag: t.GetEtag(), Paths: req.GetUpdateMask().GetPaths()})
	if err != nil {
		return nil, err
	}
	return &contractv1.UpdateTariffResponse{Tariff: tariffProto(row)}, nil
}

func (s *Server) SuggestTariffs(ctx context.Context, req *contractv1.SuggestTariffsRequest) (*contractv1.SuggestTariffsResponse, error) {
	n := need{
		Kind:       int32(kindOrPerson(req.GetCustomerKind())),
		Technology: normalizeTechnology(req.GetTechnology()),
		MinSpeed:   req.GetMinSpeedMbps(),
		MaxFee:     req.MaxMonthlyFee,
		Currency:   normalizeCurrency(req.GetCurrency()),
	}
	var errs []fault.Violation
	if k := customerv1.CustomerKind(n.Kind); k != customerv1.CustomerKind_CUSTOMER_KIND_PERSON && k != customerv1.CustomerKind_CUSTOMER_KIND_COMPANY {
		errs = append(errs, fault.Violation{Field: "customerKind", Description: "the customer kind is PERSON or COMPANY"})
	}
	if n.Technology != "" && (len(n.Technology) > maxTechnology || !isTechnology(n.Technology)) {
		errs = append(errs, fault.Violation{Field: "technology", Description: fmt.Sprintf("%q is not a technology name", req.GetTechnology())})
	}
	if n.MinSpeed < 0 {
		errs = append(errs, fault.Violation{Field: "minSpeedMbps", Description: "the minimum speed cannot be negative"})
	}
	if n.MaxFee != nil && *n.MaxFee < 0 {
		errs = append(errs, fault.Violation{Field: "maxMonthlyFee", Description: "the maximum fee cannot be negative"})
	}
	if !isCurrency(n.Currency) {
		errs = append(errs, fault.Violation{Field: "currency", Description: fmt.Sprintf("%q is not a currency code", req.GetCurrency())})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	rows, err := s.store.suitable(ctx, n.Kind, n.Currency)
	if err != nil {
		return nil, err
	}
	ranked := rank(n, rows)
	if len(ranked) > maxSuggest {
		ranked = ranked[:maxSuggest]
	}
	resp := &contractv1.SuggestTariffsResponse{}
	for i := range ranked {
		resp.Tariffs = append(resp.Tariffs, tariffProto(&ranked[i]))
	}
	return resp, nil
}
