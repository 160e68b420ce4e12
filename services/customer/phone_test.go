package customer

import "testing"

func TestNormalizeNumberAcceptsCommonRussianFormats(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+79123456789", "+79123456789"},
		{"8 912 345-67-89", "+79123456789"},
		{"8 (912) 345-67-89", "+79123456789"},
		{"+7 (912) 345-67-89", "+79123456789"},
		{"9123456789", "+79123456789"},
		{"79123456789", "+79123456789"},
		{"  +7 912 345 67 89 ", "+79123456789"},
		{"8 495 123-45-67", "+74951234567"},
		{"+44 20 7946 0958", "+442079460958"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := normalizeNumber(tc.in)
			if !ok || got != tc.want {
				t.Fatalf("normalizeNumber(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
		})
	}
}

func TestNormalizeNumberRefusesWhatIsNotANumber(t *testing.T) {
	for _, in := range []string{"", "   ", "abc", "12", "+7912", "8 912 345-67-8", "+7 000 000 00 00", "phone: 8912"} {
		t.Run(in, func(t *testing.T) {
			if got, ok := normalizeNumber(in); ok {
				t.Fatalf("normalizeNumber(%q) = %q, want refusal", in, got)
			}
		})
	}
}

func TestNumberPrefixReadsPartialNumbersAsPeopleTypeThem(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"+7912", "+7912", true},
		{"8912", "+7912", true},
		{"8 (912) 34", "+791234", true},
		{"7912", "+7912", true},
		{"912", "+7912", true},
		{"912345", "+7912345", true},
		{"8 912 345-67-89", "+79123456789", true},
		{"9123456789", "+79123456789", true},
		{"91", "", false},
		{"Ivanov", "", false},
		{"C-000123", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := numberPrefix(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("numberPrefix(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPrefixUpperBoundCoversEveryNumberWithThePrefix(t *testing.T) {
	lo, hi := "+7919", prefixUpperBound("+7919")
	for _, n := range []string{"+7919", "+79190000000", "+79199999999"} {
		if !(n >= lo && n < hi) {
			t.Fatalf("%s is outside [%s, %s)", n, lo, hi)
		}
	}
	for _, n := range []string{"+7918999", "+7920", "+8"} {
		if n >= lo && n < hi {
			t.Fatalf("%s is inside [%s, %s)", n, lo, hi)
		}
	}
}
