package customer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func TestCreateCustomerStoresNormalisedPhonesAndAnswersTheCustomer(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	resp, err := s.customers.CreateCustomer(s.operator, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
		Name:    "  Иванов Иван Иванович ",
		Email:   "ivanov@example.ru",
		Address: "Москва, ул. Ленина, 1",
		Phones: []*customerv1.Phone{
			{Number: "8 912 345-67-89", Label: "mobile"},
			{Number: "+7 (495) 123-45-67", Label: "home"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := resp.GetCustomer()
	if c.GetId() == 0 || c.GetName() != "Иванов Иван Иванович" || c.GetKind() != customerv1.CustomerKind_CUSTOMER_KIND_PERSON || c.GetEtag() == "" {
		t.Fatalf("created %v", c)
	}
	var got []string
	for _, p := range c.GetPhones() {
		if p.GetId() == 0 {
			t.Fatalf("phone without id: %v", p)
		}
		got = append(got, p.GetNumber()+" "+p.GetLabel())
	}
	if want := "+79123456789 mobile,+74951234567 home"; strings.Join(got, ",") != want {
		t.Fatalf("phones %v, want %s", got, want)
	}
	read, err := s.customers.GetCustomer(s.viewer, &customerv1.GetCustomerRequest{Id: c.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if read.GetCustomer().GetEtag() != c.GetEtag() || len(read.GetCustomer().GetPhones()) != 2 || !read.GetCustomer().GetCreateTime().AsTime().Equal(c.GetCreateTime().AsTime()) {
		t.Fatalf("read back %v, created %v", read.GetCustomer(), c)
	}
}

func TestCreateCustomerRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	phone := func(n string) []*customerv1.Phone { return []*customerv1.Phone{{Number: n}} }
	for _, tc := range []struct {
		name     string
		customer *customerv1.Customer
		field    string
		says     string
	}{
		{"empty name", &customerv1.Customer{Name: "   ", Phones: phone("+79123456789")}, "name", "empty"},
		{"300-character name", &customerv1.Customer{Name: strings.Repeat("Я", 300), Phones: phone("+79123456789")}, "name", "longer than 200 characters"},
		{"invalid phone", &customerv1.Customer{Name: "Петров", Phones: phone("8 912 345")}, "phones[0].number", "not a phone number"},
		{"empty phone", &customerv1.Customer{Name: "Петров", Phones: phone("")}, "phones[0].number", "empty"},
		{"no phone at all", &customerv1.Customer{Name: "Петров"}, "phones", "at least one"},
		{"same phone twice in other formats", &customerv1.Customer{Name: "Петров", Phones: []*customerv1.Phone{{Number: "+79123456789"}, {Number: "8 (912) 345-67-89"}}}, "phones[1].number", "given twice"},
		{"bad e-mail", &customerv1.Customer{Name: "Петров", Email: "petrov@", Phones: phone("+79123456789")}, "email", "not an e-mail"},
		{"unknown kind", &customerv1.Customer{Name: "Петров", Kind: 7, Phones: phone("+79123456789")}, "kind", "CUSTOMER_KIND_COMPANY"},
		{"address too long", &customerv1.Customer{Name: "Петров", Address: strings.Repeat("д", 501), Phones: phone("+79123456789")}, "address", "longer than"},
		{"label too long", &customerv1.Customer{Name: "Петров", Phones: []*customerv1.Phone{{Number: "+79123456789", Label: strings.Repeat("x", 51)}}}, "phones[0].label", "longer than"},
		{"missing customer", nil, "customer", "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.customers.CreateCustomer(s.operator, &customerv1.CreateCustomerRequest{Customer: tc.customer})
			f := wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(f.fields[tc.field], tc.says) {
				t.Fatalf("violations %v, want %s saying %q", f.fields, tc.field, tc.says)
			}
		})
	}
	if n := s.count(t, "customers") + s.count(t, "phones"); n != 0 {
		t.Fatalf("%d rows written by refused creates", n)
	}
}

func TestCreateCustomerWithATakenPhoneIsAConflictNamingTheHolderAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	holder := s.create(t, "Сидоров", "+79120000001")
	_, err := s.customers.CreateCustomer(s.operator, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
		Name:   "Кузнецов",
		Phones: []*customerv1.Phone{{Number: "+79120000002"}, {Number: "8 912 000-00-01"}},
	}})
	f := wantCode(t, err, codes.AlreadyExists)
	if f.reason != "PHONE_TAKEN" || f.meta["customerId"] != fmt.Sprint(holder.GetId()) || f.meta["number"] != "+79120000001" {
		t.Fatalf("reason %s %v", f.reason, f.meta)
	}
	if !strings.Contains(f.msg, "taken") || f.fields["phones[1].number"] == "" {
		t.Fatalf("message %q, fields %v", f.msg, f.fields)
	}
	if n := s.count(t, "customers"); n != 1 {
		t.Fatalf("%d customers, want only the holder", n)
	}
	if n := s.count(t, "phones"); n != 1 {
		t.Fatalf("%d phones, want only the holder's", n)
	}
}

func TestConcurrentCreatesWithTheSamePhoneLetExactlyOneWin(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	errs := race(8, func(i int) error {
		_, err := s.customers.CreateCustomer(s.operator, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
			Name:   fmt.Sprintf("Racer %d", i),
			Phones: []*customerv1.Phone{{Number: fmt.Sprintf("+7912111%04d", i)}, {Number: "+79125550000"}},
		}})
		return err
	})
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantCode(t, err, codes.AlreadyExists)
	}
	if won != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", won)
	}
	if c, p := s.count(t, "customers"), s.count(t, "phones"); c != 1 || p != 2 {
		t.Fatalf("%d customers and %d phones, want 1 and 2", c, p)
	}
}

func TestGetCustomerThatDoesNotExistIsNotFound(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: 4242})
	f := wantCode(t, err, codes.NotFound)
	if !strings.Contains(f.msg, "4242") {
		t.Fatalf("message %q does not name the customer", f.msg)
	}
}

func TestCallsNeedASessionAndThePermission(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.customers.GetCustomer(context.Background(), &customerv1.GetCustomerRequest{Id: 1})
	wantCode(t, err, codes.Unauthenticated)
	_, err = s.customers.CreateCustomer(s.viewer, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "x", Phones: []*customerv1.Phone{{Number: "+79123456789"}}}})
	wantCode(t, err, codes.PermissionDenied)
	if n := s.count(t, "customers"); n != 0 {
		t.Fatalf("a refused create wrote %d customers", n)
	}
}

func TestUpdateCustomerChangesOnlyTheMaskedFieldsAndTheEtag(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Орлов", "+79120000001")
	resp, err := s.customers.UpdateCustomer(s.operator, &customerv1.UpdateCustomerRequest{
		Customer:   &customerv1.Customer{Id: c.GetId(), Name: "Орлов Олег", Email: "ignored@example.ru", Kind: customerv1.CustomerKind_CUSTOMER_KIND_COMPANY, Etag: c.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name", "kind"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	u := resp.GetCustomer()
	if u.GetName() != "Орлов Олег" || u.GetKind() != customerv1.CustomerKind_CUSTOMER_KIND_COMPANY || u.GetEmail() != "" {
		t.Fatalf("updated %v", u)
	}
	if u.GetEtag() == c.GetEtag() || len(u.GetPhones()) != 1 {
		t.Fatalf("etag %s (was %s), phones %v", u.GetEtag(), c.GetEtag(), u.GetPhones())
	}
}

func TestUpdateCustomerWithAStaleEtagIsAbortedAndChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Орлов", "+79120000001")
	first, err := s.customers.UpdateCustomer(s.operator, &customerv1.UpdateCustomerRequest{
		Customer:   &customerv1.Customer{Id: c.GetId(), Name: "Орлов Первый", Etag: c.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.customers.UpdateCustomer(s.operator, &customerv1.UpdateCustomerRequest{
		Customer:   &customerv1.Customer{Id: c.GetId(), Name: "Орлов Второй", Etag: c.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	})
	f := wantCode(t, err, codes.Aborted)
	if f.reason != "STALE_ETAG" {
		t.Fatalf("reason %q", f.reason)
	}
	now, err := s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: c.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if now.GetCustomer().GetName() != "Орлов Первый" || now.GetCustomer().GetEtag() != first.GetCustomer().GetEtag() {
		t.Fatalf("after the stale update: %v", now.GetCustomer())
	}
}

func TestConcurrentUpdatesWithTheSameEtagLetExactlyOneWin(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Орлов", "+79120000001")
	const racers = 6
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.customers.UpdateCustomer(s.operator, &customerv1.UpdateCustomerRequest{
				Customer:   &customerv1.Customer{Id: c.GetId(), Name: fmt.Sprintf("Орлов %d", i), Etag: c.GetEtag()},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
			})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			wantCode(t, err, codes.Aborted)
		}
	}
	if won != 1 {
		t.Fatalf("%d updates won, want 1", won)
	}
}

func TestUpdateCustomerRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Орлов", "+79120000001")
	mask := func(p ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: p} }
	for _, tc := range []struct {
		name  string
		req   *customerv1.UpdateCustomerRequest
		code  codes.Code
		field string
	}{
		{"empty name", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Id: c.GetId()}, UpdateMask: mask("name")}, codes.InvalidArgument, "name"},
		{"300-character name", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Id: c.GetId(), Name: strings.Repeat("a", 300)}, UpdateMask: mask("name")}, codes.InvalidArgument, "name"},
		{"no mask", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Id: c.GetId(), Name: "x"}}, codes.InvalidArgument, "updateMask"},
		{"phones through the mask", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Id: c.GetId()}, UpdateMask: mask("phones")}, codes.InvalidArgument, "updateMask"},
		{"an etag this service never gave", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Id: c.GetId(), Name: "x", Etag: "W/abc"}, UpdateMask: mask("name")}, codes.InvalidArgument, "etag"},
		{"no id", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Name: "x"}, UpdateMask: mask("name")}, codes.InvalidArgument, "id"},
		{"unknown customer", &customerv1.UpdateCustomerRequest{Customer: &customerv1.Customer{Id: 999, Name: "x"}, UpdateMask: mask("name")}, codes.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.customers.UpdateCustomer(s.operator, tc.req)
			f := wantCode(t, err, tc.code)
			if tc.field != "" && f.fields[tc.field] == "" {
				t.Fatalf("violations %v, want one on %s", f.fields, tc.field)
			}
		})
	}
	now, _ := s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: c.GetId()})
	if now.GetCustomer().GetName() != "Орлов" || now.GetCustomer().GetEtag() != c.GetEtag() {
		t.Fatalf("refused updates changed the customer: %v", now.GetCustomer())
	}
}

func TestAddPhoneNormalisesAndRefusesATakenOrInvalidNumber(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.create(t, "Антонов", "+79120000001")
	b := s.create(t, "Борисов", "+79120000002")
	added, err := s.customers.AddPhone(s.operator, &customerv1.AddPhoneRequest{CustomerId: a.GetId(), Phone: &customerv1.Phone{Number: "8 (912) 000-00-03", Label: "work"}})
	if err != nil {
		t.Fatal(err)
	}
	if added.GetPhone().GetNumber() != "+79120000003" || added.GetPhone().GetId() == 0 {
		t.Fatalf("added %v", added.GetPhone())
	}
	_, err = s.customers.AddPhone(s.operator, &customerv1.AddPhoneRequest{CustomerId: a.GetId(), Phone: &customerv1.Phone{Number: "+7 912 000-00-02"}})
	f := wantCode(t, err, codes.AlreadyExists)
	if f.meta["customerId"] != fmt.Sprint(b.GetId()) {
		t.Fatalf("the conflict names %v, want customer %d", f.meta, b.GetId())
	}
	_, err = s.customers.AddPhone(s.operator, &customerv1.AddPhoneRequest{CustomerId: a.GetId(), Phone: &customerv1.Phone{Number: "12345"}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = s.customers.AddPhone(s.operator, &customerv1.AddPhoneRequest{CustomerId: 999, Phone: &customerv1.Phone{Number: "+79120000009"}})
	wantCode(t, err, codes.NotFound)
	now, _ := s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: a.GetId()})
	if len(now.GetCustomer().GetPhones()) != 2 || now.GetCustomer().GetEtag() == a.GetEtag() {
		t.Fatalf("after adding: %v (etag was %s)", now.GetCustomer(), a.GetEtag())
	}
	if n := s.count(t, "phones"); n != 3 {
		t.Fatalf("%d phones, want 3", n)
	}
}

func TestConcurrentAddPhonesStopAtTheLimit(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Лимитов", "+79120000000")
	// Twice as many racers as free places: unless the count and the insert
	// are serialised, several pass the check at once.
	errs := race(2*maxPhones, func(i int) error {
		_, err := s.customers.AddPhone(s.operator, &customerv1.AddPhoneRequest{CustomerId: c.GetId(), Phone: &customerv1.Phone{Number: fmt.Sprintf("+7912100%04d", i)}})
		return err
	})
	added := 0
	for _, err := range errs {
		if err == nil {
			added++
			continue
		}
		f := wantCode(t, err, codes.FailedPrecondition)
		if !strings.Contains(f.msg, "the most a customer may have") {
			t.Fatalf("message %q", f.msg)
		}
	}
	if added != maxPhones-1 {
		t.Fatalf("%d adds succeeded, want %d", added, maxPhones-1)
	}
	if n := s.count(t, "phones"); n != maxPhones {
		t.Fatalf("%d phones, want the limit %d", n, maxPhones)
	}
}

func TestRemovingTheLastPhoneIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Власов", "+79120000001", "+79120000002")
	_, err := s.customers.RemovePhone(s.operator, &customerv1.RemovePhoneRequest{CustomerId: c.GetId(), PhoneId: c.GetPhones()[0].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.customers.RemovePhone(s.operator, &customerv1.RemovePhoneRequest{CustomerId: c.GetId(), PhoneId: c.GetPhones()[1].GetId()})
	f := wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(f.msg, "at least one phone") {
		t.Fatalf("message %q", f.msg)
	}
	_, err = s.customers.RemovePhone(s.operator, &customerv1.RemovePhoneRequest{CustomerId: c.GetId(), PhoneId: 999})
	wantCode(t, err, codes.NotFound)
	now, _ := s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: c.GetId()})
	if p := now.GetCustomer().GetPhones(); len(p) != 1 || p[0].GetNumber() != "+79120000002" {
		t.Fatalf("phones left %v", p)
	}
}

func TestConcurrentRemovalsOfBothPhonesLeaveOne(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Власов", "+79120000001", "+79120000002")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.customers.RemovePhone(s.operator, &customerv1.RemovePhoneRequest{CustomerId: c.GetId(), PhoneId: c.GetPhones()[i].GetId()})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("results %v; want one removal to win", errs)
	}
	if n := s.count(t, "phones"); n != 1 {
		t.Fatalf("%d phones left, want 1", n)
	}
}

func TestSearchFindsACustomerByPhoneInAnyCommonFormat(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	want := s.create(t, "Медведев", "+79123456789")
	s.create(t, "Другой", "+79223456789")
	for _, q := range []string{"+79123456789", "8 912 345-67-89", "+7 (912) 345-67-89", "9123456789", "79123456789", "8912345", "+7912", "912 34"} {
		t.Run(q, func(t *testing.T) {
			resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetCustomers(); len(got) != 1 || got[0].GetId() != want.GetId() || len(got[0].GetPhones()) != 1 {
				t.Fatalf("found %v", got)
			}
		})
	}
}

func TestSearchFindsACustomerByAnyPartOfAPhoneNumber(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.create(t, "Медведев", "+79123456789")
	b := s.create(t, "Зайцев", "+79261110042")
	e := s.create(t, "Волков", "+79034569123")
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"345-67", []int64{a.GetId()}},
		{"6789", []int64{a.GetId()}},
		{"0042", []int64{b.GetId()}},
		{"11-10", []int64{b.GetId()}},
		// the numbers that start with it first, then those holding it elsewhere
		{"9123", []int64{a.GetId(), e.GetId()}},
		{"9999", nil},
		// three digits are only ever a leading part
		{"042", nil},
	} {
		t.Run(tc.query, func(t *testing.T) { s.expectFound(t, tc.query, tc.want) })
	}
	t.Run("pages from the leading matches to the ending ones, then the others, each once", func(t *testing.T) {
		f := s.create(t, "Соколов", "+79912300000", "+79991239123")
		g := s.create(t, "Орлов", "+79269123555")
		// +79123…, then the numbers ending in 9123 read from their end
		// (…1239123 before …4569123), then 9123 in the middle; Sokolov,
		// holding it at the end and in the middle, once. A page may hold
		// parts of one, two or all three.
		want := []int64{a.GetId(), f.GetId(), e.GetId(), g.GetId()}
		for _, size := range []int32{1, 2, 3, 10} {
			var got []int64
			token := ""
			for page := 0; page < 10; page++ {
				resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: "9123", PageSize: size, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range resp.GetCustomers() {
					got = append(got, c.GetId())
				}
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("pages of %d gave %v; want %v", size, got, want)
			}
		}
	})
}

func TestSearchByNameTakesYoAndYeForTheSameLetter(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	yo := s.create(t, "Пётр Ёлкин", "+79120000001")
	ye := s.create(t, "ПЕТР ЕЛКИН", "+79120000002")
	s.create(t, "Павел", "+79120000003")
	for _, q := range []string{"Петр", "пётр", "ПЁТР", "елкин", "Ёлкин", "тр ел"} {
		t.Run(q, func(t *testing.T) {
			resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			got := resp.GetCustomers()
			if len(got) != 2 || got[0].GetId() != ye.GetId() || got[1].GetId() != yo.GetId() {
				t.Fatalf("found %v; want both Peters, newest first", got)
			}
			if got[1].GetName() != "Пётр Ёлкин" {
				t.Fatalf("the name is shown as %q, not as written", got[1].GetName())
			}
		})
	}
}

func TestSearchFindsCustomersByAPartOfTheNameIgnoringCase(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.create(t, "Ёлкина Анна", "+79120000001")
	b := s.create(t, "ООО «Ромашка 50%_»", "+79120000002")
	s.create(t, "Петров", "+79120000003")
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"ёлкин", []int64{a.GetId()}},
		{"АННА", []int64{a.GetId()}},
		{"ромашк", []int64{b.GetId()}},
		{"50%_", []int64{b.GetId()}},
		{"%", []int64{b.GetId()}},
		{"5_", nil},
		{"на", []int64{a.GetId()}},
		{"нет такого", nil},
	} {
		t.Run(tc.query, func(t *testing.T) { s.expectFound(t, tc.query, tc.want) })
	}
}

func TestSearchByContractNumberAcceptsHowPeopleTypeIt(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	holder := s.create(t, "Держатель", "+79120000001")
	s.create(t, "Без договора", "+79120000002")
	created, err := s.contracts.CreateContract(s.operator, &contractv1.CreateContractRequest{CustomerId: holder.GetId(), TariffId: 1, Address: "Тверская, 1"})
	if err != nil {
		t.Fatal(err)
	}
	number := created.GetContract().GetNumber()
	digits := strings.TrimLeft(strings.TrimPrefix(number, "C-"), "0")
	for _, q := range []string{number, strings.ToLower(number), "C" + digits, "c-" + digits, "С-" + digits, "C " + digits} {
		t.Run(q, func(t *testing.T) {
			resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetCustomers(); len(got) != 1 || got[0].GetId() != holder.GetId() {
				t.Fatalf("found %v", got)
			}
		})
	}
	resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: "C-999999"})
	if err != nil || len(resp.GetCustomers()) != 0 {
		t.Fatalf("an unknown contract number found %v, %v", resp.GetCustomers(), err)
	}
}

func TestSearchPagesThroughEveryMatchOnceByPhoneAndByName(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	const n = 23
	for i := range n {
		// Two matching numbers per customer: each customer comes once.
		s.create(t, fmt.Sprintf("Пагинов %02d", i), fmt.Sprintf("+7912777%04d", 2*i), fmt.Sprintf("+7912777%04d", 2*i+1))
	}
	s.create(t, "Посторонний", "+79130000000")
	for _, query := range []string{"8912777", "пагинов"} {
		t.Run(query, func(t *testing.T) {
			seen := map[int64]bool{}
			token := ""
			pages := 0
			for {
				resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: query, PageSize: 5, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, c := range resp.GetCustomers() {
					if seen[c.GetId()] {
						t.Fatalf("customer %d came twice", c.GetId())
					}
					if !strings.HasPrefix(c.GetName(), "Пагинов") {
						t.Fatalf("found %s", c.GetName())
					}
					seen[c.GetId()] = true
				}
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
				if pages > 20 {
					t.Fatal("paging does not end")
				}
			}
			if len(seen) != n {
				t.Fatalf("paged through %d customers, want %d", len(seen), n)
			}
		})
	}
}

func TestSearchRefusesATamperedPageTokenOrOneOfAnotherQuery(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for i := range 3 {
		s.create(t, fmt.Sprintf("Токенов %d", i), fmt.Sprintf("+7912888%04d", i))
	}
	first, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: "токенов", PageSize: 1})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", first, err)
	}
	token := first.GetNextPageToken()
	payload, sig, _ := strings.Cut(token, ".")
	for _, tc := range []struct{ name, query, token string }{
		{"signature changed", "токенов", payload + "." + strings.Repeat("A", len(sig))},
		{"payload changed", "токенов", "x" + token},
		{"no signature", "токенов", payload},
		{"garbage", "токенов", "%%%"},
		{"token of another query", "другое", token},
		{"token of a phone search", "8912", token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: tc.query, PageSize: 1, PageToken: tc.token})
			f := wantCode(t, err, codes.InvalidArgument)
			if f.fields["pageToken"] == "" {
				t.Fatalf("violations %v", f.fields)
			}
		})
	}
}

func TestSearchRefusesAQueryLongerThanAnyName(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: strings.Repeat("я", 201)})
	if f := wantCode(t, err, codes.InvalidArgument); f.fields["query"] == "" {
		t.Fatalf("violations %v", f.fields)
	}
}

func TestEmptySearchListsEveryCustomerNewestFirst(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	var ids []int64
	for i := range 4 {
		ids = append(ids, s.create(t, fmt.Sprintf("Клиент %d", i), fmt.Sprintf("+7912999%04d", i)).GetId())
	}
	resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range resp.GetCustomers() {
		got = append(got, c.GetId())
	}
	if want := []int64{ids[3], ids[2], ids[1]}; fmt.Sprint(got) != fmt.Sprint(want) || resp.GetNextPageToken() == "" {
		t.Fatalf("first page %v (token %q), want %v", got, resp.GetNextPageToken(), want)
	}
}

// The contract search is the contract service's; when it is down, the
// search says so instead of answering "nobody".
func TestSearchByContractNumberWhenTheContractServiceIsDownIsUnavailable(t *testing.T) {
	t.Parallel()
	common := servicetest.Common(t)
	db := servicetest.OpenDB(t, common, Name, migrations)
	finder := NewContractFinder(contractv1.NewContractServiceClient(servicetest.DialAs(t, "127.0.0.1:1", Name)))
	addr := servicetest.Serve(t, func(s *grpcserver.Server) {
		customerv1.RegisterCustomerServiceServer(s, newServer(t, db, finder))
	})
	client := customerv1.NewCustomerServiceClient(servicetest.Dial(t, addr))
	_, err := client.SearchCustomers(servicetest.User(context.Background(), 1, servicetest.Viewer), &customerv1.SearchCustomersRequest{Query: "C-000001"})
	wantCode(t, err, codes.Unavailable)
}

func TestDeleteCustomerIsInternalRemovesThePhonesTooAndRepeatsHarmlessly(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.create(t, "Временный", "+79120000001", "+79120000002")
	keep := s.create(t, "Остаётся", "+79120000003")
	_, err := s.customers.DeleteCustomer(s.admin, &customerv1.DeleteCustomerRequest{Id: c.GetId()})
	wantCode(t, err, codes.PermissionDenied)
	wizard := servicetest.Service(context.Background(), "contract")
	for range 2 {
		if _, err := s.customers.DeleteCustomer(wizard, &customerv1.DeleteCustomerRequest{Id: c.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: c.GetId()})
	wantCode(t, err, codes.NotFound)
	if n := s.count(t, "phones"); n != 1 {
		t.Fatalf("%d phones left, want only the other customer's", n)
	}
	// Its numbers are free again.
	s.create(t, "Новый", "+79120000001")
	if _, err := s.customers.GetCustomer(s.operator, &customerv1.GetCustomerRequest{Id: keep.GetId()}); err != nil {
		t.Fatalf("the other customer: %v", err)
	}
	_, err = s.customers.DeleteCustomer(wizard, &customerv1.DeleteCustomerRequest{})
	wantCode(t, err, codes.InvalidArgument)
}

func TestFindCustomerByPhoneMatchesTheWholeNumberInAnyFormat(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	a := s.create(t, "Антонов", "+79120000001")
	s.create(t, "Борисов", "+79120000012")
	notifier := servicetest.Service(context.Background(), "notifier")
	for _, n := range []string{"+79120000001", "8 (912) 000-00-01", "79120000001"} {
		got, err := s.customers.FindCustomerByPhone(notifier, &customerv1.FindCustomerByPhoneRequest{Number: n})
		if err != nil || got.GetCustomer().GetId() != a.GetId() {
			t.Fatalf("%s: %v, %v; want customer %d", n, got.GetCustomer(), err, a.GetId())
		}
	}
	_, err := s.customers.FindCustomerByPhone(notifier, &customerv1.FindCustomerByPhoneRequest{Number: "+79120000002"})
	wantCode(t, err, codes.NotFound)
	_, err = s.customers.FindCustomerByPhone(notifier, &customerv1.FindCustomerByPhoneRequest{Number: "1234"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = s.customers.FindCustomerByPhone(s.operator, &customerv1.FindCustomerByPhoneRequest{Number: "+79120000001"})
	wantCode(t, err, codes.PermissionDenied)
}
