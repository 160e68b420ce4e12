package customer

import (
	"strings"
	"testing"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
)

func TestCheckFieldsNamesEveryBadField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		row   customerRow
		kind  customerv1.CustomerKind
		field string
	}{
		{"good", customerRow{Name: "Иванов", Email: "a@b.ru", Address: "Москва"}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, ""},
		{"a company", customerRow{Name: "ООО «Ромашка»"}, customerv1.CustomerKind_CUSTOMER_KIND_COMPANY, ""},
		{"empty name", customerRow{}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "name"},
		{"200 characters is the most", customerRow{Name: strings.Repeat("я", 200)}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, ""},
		{"201 characters", customerRow{Name: strings.Repeat("я", 201)}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "name"},
		{"unknown kind", customerRow{Name: "x"}, 3, "kind"},
		{"e-mail without a domain", customerRow{Name: "x", Email: "ivanov@"}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "email"},
		{"e-mail with a display name", customerRow{Name: "x", Email: "Иван <i@b.ru>"}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "email"},
		{"501-character address", customerRow{Name: "x", Address: strings.Repeat("д", 501)}, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, "address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := checkFields(&tc.row, tc.kind)
			switch {
			case tc.field == "" && len(errs) != 0:
				t.Fatalf("refused: %v", errs)
			case tc.field != "" && (len(errs) != 1 || errs[0].Field != tc.field):
				t.Fatalf("violations %v, want one on %s", errs, tc.field)
			}
		})
	}
}
