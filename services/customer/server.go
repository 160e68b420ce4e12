package customer

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/patch"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

const (
	maxName    = 200
	maxEmail   = 254
	maxAddress = 500
	maxLabel   = 50
	maxPhones  = 10
)

// ContractFinder answers which customers hold a contract number; the
// contract service owns contracts.
type ContractFinder interface {
	CustomersByContractNumber(ctx context.Context, number string) ([]int64, error)
}

// Server implements customerv1.CustomerServiceServer.
type Server struct {
	customerv1.UnimplementedCustomerServiceServer
	store     *store
	pages     *pagetoken.Codec
	contracts ContractFinder
	audit     *auditlog.Log
}

func customerTarget(id int64) string { return "customer:" + strconv.FormatInt(id, 10) }

// auditFields are a customer's own fields as the audit log shows them.
func auditFields(r *customerRow) map[string]string {
	return map[string]string{"kind": strings.TrimPrefix(customerv1.CustomerKind(r.Kind).String(), "CUSTOMER_KIND_"), "name": r.Name, "email": r.Email, "address": r.Address}
}

func (s *Server) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	c := req.GetCustomer()
	if c == nil {
		return nil, fault.Field("customer", "the customer is missing")
	}
	row := &customerRow{Kind: int32(kindOrPerson(c.GetKind()))}
	var errs []fault.Violation
	row.Name, row.Email, row.Address = strings.TrimSpace(c.GetName()), strings.TrimSpace(c.GetEmail()), strings.TrimSpace(c.GetAddress())
	errs = append(errs, checkFields(row, c.GetKind())...)
	if len(c.GetPhones()) == 0 {
		errs = append(errs, fault.Violation{Field: "phones", Description: "give at least one phone number"})
	}
	if len(c.GetPhones()) > maxPhones {
		errs = append(errs, fault.Violation{Field: "phones", Description: fmt.Sprintf("at most %d phones per customer", maxPhones)})
	}
	seen := map[string]int{}
	for i, p := range c.GetPhones() {
		field := fmt.Sprintf("phones[%d]", i)
		pr, v := checkPhone(field, p)
		if v != nil {
			errs = append(errs, *v)
			continue
		}
		if j, dup := seen[pr.Number]; dup {
			errs = append(errs, fault.Violation{Field: field + ".number", Description: fmt.Sprintf("%s is given twice (also as phone %d)", pr.Number, j+1)})
			continue
		}
		seen[pr.Number] = i
		row.Phones = append(row.Phones, pr)
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if err := s.store.create(ctx, row); err != nil {
		return nil, taken(err, func(number string) string { return fmt.Sprintf("phones[%d].number", seen[number]) })
	}
	var numbers []string
	for _, p := range row.Phones {
		numbers = append(numbers, p.Number)
	}
	s.audit.Record(ctx, "customer.create", customerTarget(row.ID), "customer_created", "name", row.Name, "phones", strings.Join(numbers, ", "))
	return &customerv1.CreateCustomerResponse{Customer: toProto(row)}, nil
}

func (s *Server) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	row, err := s.store.get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &customerv1.GetCustomerResponse{Customer: toProto(row)}, nil
}

func (s *Server) FindCustomerByPhone(ctx context.Context, req *customerv1.FindCustomerByPhoneRequest) (*customerv1.FindCustomerByPhoneResponse, error) {
	num, ok := normalizeNumber(req.GetNumber())
	if !ok {
		return nil, fault.Field("number", "%q is not a phone number", req.GetNumber())
	}
	id, err := s.store.holderOf(ctx, num)
	if err != nil {
		return nil, err
	}
	row, err := s.store.get(ctx, id)
	if err != nil {
		return nil, err
	}
	return &customerv1.FindCustomerByPhoneResponse{Customer: toProto(row)}, nil
}

func (s *Server) UpdateCustomer(ctx context.Context, req *customerv1.UpdateCustomerRequest) (*customerv1.UpdateCustomerResponse, error) {
	c := req.GetCustomer()
	if c == nil {
		return nil, fault.Field("customer", "send the customer's fields to change")
	}
	row, err := patch.Kind[customerRow]{
		Name:    "customer",
		Get:     s.store.get,
		Version: func(r *customerRow) int64 { return r.Version },
		Set: func(next *customerRow, path string, cols map[string]any) bool {
			switch path {
			case "kind":
				next.Kind = int32(kindOrPerson(c.GetKind()))
				cols["kind"] = next.Kind
			case "name":
				next.Name = strings.TrimSpace(c.GetName())
				cols["name"], cols["name_lower"] = next.Name, textsearch.Fold(next.Name)
			case "email":
				next.Email = strings.TrimSpace(c.GetEmail())
				cols["email"] = next.Email
			case "address":
				next.Address = strings.TrimSpace(c.GetAddress())
				cols["address"] = next.Address
			default:
				return false
			}
			return true
		},
		Refusal: "%q cannot be changed here (phones have their own calls)",
		Check:   func(r *customerRow) []fault.Violation { return checkFields(r, customerv1.CustomerKind(r.Kind)) },
		Update:  s.store.update,
		Changed: func(ctx context.Context, before, after *customerRow) {
			b, a := auditlog.Change(auditFields(before), auditFields(after))
			if b != a {
				s.audit.Record(ctx, "customer.update", customerTarget(after.ID), "customer_changed", "name", after.Name, "before", b, "after", a)
			}
		},
	}.Apply(ctx, patch.Request{PathID: req.GetId(), BodyID: c.GetId(), Etag: c.GetEtag(), Paths: req.GetUpdateMask().GetPaths()})
	if err != nil {
		return nil, err
	}
	return &customerv1.UpdateCustomerResponse{Customer: toProto(row)}, nil
}

func (s *Server) AddPhone(ctx context.Context, req *customerv1.AddPhoneRequest) (*customerv1.AddPhoneResponse, error) {
	pr, v := checkPhone("", req.GetPhone())
	if v != nil {
		return nil, fault.Fields([]fault.Violation{*v})
	}
	pr.CustomerID = req.GetCustomerId()
	if err := s.store.addPhone(ctx, &pr, maxPhones); err != nil {
		return nil, taken(err, func(string) string { return "number" })
	}
	s.audit.Record(ctx, "phone.add", customerTarget(pr.CustomerID), "phone_added", "number", pr.Number, "label", pr.Label)
	return &customerv1.AddPhoneResponse{Phone: phoneProto(pr)}, nil
}

func (s *Server) RemovePhone(ctx context.Context, req *customerv1.RemovePhoneRequest) (*customerv1.RemovePhoneResponse, error) {
	number, err := s.store.removePhone(ctx, req.GetCustomerId(), req.GetPhoneId())
	if err != nil {
		return nil, err
	}
	s.audit.Record(ctx, "phone.remove", customerTarget(req.GetCustomerId()), "phone_removed", "number", number)
	return &customerv1.RemovePhoneResponse{}, nil
}

func kindOrPerson(k customerv1.CustomerKind) customerv1.CustomerKind {
	if k == customerv1.CustomerKind_CUSTOMER_KIND_UNSPECIFIED {
		return customerv1.CustomerKind_CUSTOMER_KIND_PERSON
	}
	return k
}

// checkFields validates the customer's own fields (not its phones).
func checkFields(row *customerRow, kind customerv1.CustomerKind) []fault.Violation {
	var errs []fault.Violation
	for _, p := range fieldProblems(row, kind) {
		errs = append(errs, fault.Violation{Field: p.Field, Description: p.Message})
	}
	return errs
}

// fieldProblems are what is wrong with the customer's own fields, each
// with a code an import's report words.
func fieldProblems(row *customerRow, kind customerv1.CustomerKind) []*customerv1.CustomerProblem {
	var out []*customerv1.CustomerProblem
	add := func(field, code, value, message string) {
		out = append(out, &customerv1.CustomerProblem{Field: field, Code: code, Value: value, Message: message})
	}
	switch n := utf8.RuneCountInString(row.Name); {
	case n == 0:
		add("name", "NAME_MISSING", "", "the name is empty")
	case n > maxName:
		add("name", "NAME_LONG", strconv.Itoa(n), fmt.Sprintf("the name is %d characters long; at most %d", n, maxName))
	}
	if _, ok := customerv1.CustomerKind_name[int32(kind)]; !ok {
		add("kind", "KIND_UNKNOWN", "", "the kind is PERSON or COMPANY")
	}
	if row.Email != "" {
		if a, err := mail.ParseAddress(row.Email); err != nil || a.Address != row.Email || len(row.Email) > maxEmail {
			add("email", "EMAIL_INVALID", row.Email, fmt.Sprintf("%q is not an e-mail address", row.Email))
		}
	}
	if utf8.RuneCountInString(row.Address) > maxAddress {
		add("address", "ADDRESS_LONG", "", fmt.Sprintf("the address is longer than %d characters", maxAddress))
	}
	return out
}

// checkPhone normalises one phone of a request; field prefixes the
// violation's field path.
func checkPhone(field string, p *customerv1.Phone) (phoneRow, *fault.Violation) {
	at := func(f string) string {
		if field == "" {
			return f
		}
		return field + "." + f
	}
	number, ok := normalizeNumber(p.GetNumber())
	if !ok {
		d := fmt.Sprintf("%q is not a phone number", p.GetNumber())
		if strings.TrimSpace(p.GetNumber()) == "" {
			d = "the phone number is empty"
		}
		return phoneRow{}, &fault.Violation{Field: at("number"), Description: d}
	}
	label := strings.TrimSpace(p.GetLabel())
	if utf8.RuneCountInString(label) > maxLabel {
		return phoneRow{}, &fault.Violation{Field: at("label"), Description: fmt.Sprintf("the label is longer than %d characters", maxLabel)}
	}
	return phoneRow{Number: number, Label: label}, nil
}

// taken turns errPhoneTaken into a 409 that names the holder; field says
// which request field held the number.
func taken(err error, field func(number string) string) error {
	pt, ok := err.(*errPhoneTaken)
	if !ok {
		return err
	}
	return fault.New(fault.Conflict, "the number %s is taken by customer %d", pt.Number, pt.Holder).
		At(field(pt.Number)).
		Because("PHONE_TAKEN", map[string]string{"number": pt.Number, "customerId": strconv.FormatInt(pt.Holder, 10)})
}

func toProto(r *customerRow) *customerv1.Customer {
	c := &customerv1.Customer{
		Id:         r.ID,
		Kind:       customerv1.CustomerKind(r.Kind),
		Name:       r.Name,
		Email:      r.Email,
		Address:    r.Address,
		CreateTime: micros.Proto(r.CreatedAt),
		UpdateTime: micros.Proto(r.UpdatedAt),
		Etag:       fault.Etag(r.Version),
	}
	for _, p := range r.Phones {
		c.Phones = append(c.Phones, phoneProto(p))
	}
	return c
}

func phoneProto(p phoneRow) *customerv1.Phone {
	return &customerv1.Phone{Id: p.ID, Number: p.Number, Label: p.Label}
}
