package e2e

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

func TestCustomerIsCreatedAndFoundThroughTheGateway(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	admin := s.Admin(t)

	var created struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Phones []struct {
			Number string `json:"number"`
		} `json:"phones"`
	}
	admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{
		"name":   "Иван Петров",
		"phones": []map[string]string{{"number": "8 912 345-67-89", "label": "mobile"}, {"number": "+7 (495) 123-45-67"}},
	}, &created)
	if created.ID == "" || len(created.Phones) != 2 || created.Phones[0].Number != "+79123456789" {
		t.Fatalf("created %+v", created)
	}

	for _, q := range []string{"+79123456789", "8 912 345-67-89", "9123456789", "8912", "иван", "ПЕТР"} {
		resp := admin.Do(http.MethodGet, "/api/v1/customers?query="+urlQuery(q), nil)
		if resp.Status != http.StatusOK || !strings.Contains(string(resp.Raw), `"id":"`+created.ID+`"`) {
			t.Errorf("search %q: %d %s", q, resp.Status, resp.Raw)
		}
	}

	var got map[string]any
	admin.Must(http.MethodGet, "/api/v1/customers/"+created.ID, nil, &got)
	if got["name"] != "Иван Петров" {
		t.Errorf("get: %v", got)
	}
	// every change is in the audit log, with what it was before
	var phone struct{ ID string }
	admin.Must(http.MethodPatch, "/api/v1/customers/"+created.ID, map[string]any{"name": "Иван Петрович Петров", "email": "ivan@example.ru"}, nil)
	admin.Must(http.MethodPost, "/api/v1/customers/"+created.ID+"/phones", map[string]any{"number": "+7 913 000-00-01", "label": "work"}, &phone)
	admin.Must(http.MethodDelete, "/api/v1/customers/"+created.ID+"/phones/"+phone.ID, nil, nil)
	var tariff struct{ ID string }
	admin.Must(http.MethodPost, "/api/v1/tariffs", map[string]any{"name": "Аудит 100", "customerKind": "CUSTOMER_KIND_PERSON", "technology": "FTTH", "speedMbps": 100,
		"monthlyFee": map[string]any{"amountMinor": "50000", "currency": "RUB"}}, &tariff)
	admin.Must(http.MethodPatch, "/api/v1/tariffs/"+tariff.ID, map[string]any{"speedMbps": 200}, nil)
	admin.Must(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": created.ID, "tariffId": tariff.ID, "address": "Тверская 1"}, nil)
	type entry struct {
		Action       string            `json:"action"`
		Target       string            `json:"target"`
		DetailCode   string            `json:"detailCode"`
		DetailParams map[string]string `json:"detailParams"`
	}
	want := map[string]func(e entry) bool{
		"customer.create": func(e entry) bool { return e.DetailParams["phones"] == "+79123456789, +74951234567" },
		"customer.update": func(e entry) bool {
			return e.DetailParams["before"] == "email: ; name: Иван Петров" && e.DetailParams["after"] == "email: ivan@example.ru; name: Иван Петрович Петров"
		},
		"phone.add":     func(e entry) bool { return e.DetailParams["number"] == "+79130000001" },
		"phone.remove":  func(e entry) bool { return e.DetailParams["number"] == "+79130000001" },
		"tariff.create": func(e entry) bool { return strings.Contains(e.DetailParams["values"], "speedMbps: 100") },
		"tariff.update": func(e entry) bool {
			return e.DetailParams["before"] == "speedMbps: 100" && e.DetailParams["after"] == "speedMbps: 200"
		},
		"contract.create": func(e entry) bool {
			return e.DetailParams["tariff"] == "Аудит 100" && e.DetailParams["address"] == "Тверская 1"
		},
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(want) > 0 {
		var log struct {
			AuditEvents []entry `json:"auditEvents"`
		}
		admin.Must(http.MethodGet, "/api/v1/audit?pageSize=200", nil, &log)
		for _, e := range log.AuditEvents {
			if ok := want[e.Action]; ok != nil && ok(e) {
				delete(want, e.Action)
			}
		}
		if len(want) > 0 && time.Now().After(deadline) {
			t.Fatalf("missing or wrong audit entries: %v in %+v", slices.Collect(maps.Keys(want)), log.AuditEvents)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestGatewayRefusesBadInputWithReadableStatus(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	admin := s.Admin(t)
	admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": "First", "phones": []map[string]string{{"number": "89001112233"}}}, nil)

	for _, tc := range []struct {
		name   string
		client *stacktest.Client
		method string
		path   string
		body   any
		status int
		says   string
	}{
		{"no token", s.Anonymous(t), http.MethodGet, "/api/v1/customers", nil, 401, "sign in"},
		{"forged token", s.Anonymous(t).WithToken("forged"), http.MethodGet, "/api/v1/customers", nil, 401, "sign in"},
		{"wrong password", s.Anonymous(t), http.MethodPost, "/api/v1/auth/login", map[string]string{"login": "admin", "password": "not-the-password"}, 401, "wrong login or password"},
		{"phone taken", admin, http.MethodPost, "/api/v1/customers", map[string]any{"name": "Second", "phones": []map[string]string{{"number": "+7 900 111-22-33"}}}, 409, "taken by customer"},
		{"empty name", admin, http.MethodPost, "/api/v1/customers", map[string]any{"name": " ", "phones": []map[string]string{{"number": "89001112244"}}}, 400, "name is empty"},
		{"invalid phone", admin, http.MethodPost, "/api/v1/customers", map[string]any{"name": "X", "phones": []map[string]string{{"number": "12"}}}, 400, "not a phone number"},
		{"unknown body field", admin, http.MethodPost, "/api/v1/customers", `{"name":"X","phones":[{"number":"89001112255"}],"colour":"red"}`, 400, "colour"},
		{"unknown query parameter", admin, http.MethodGet, "/api/v1/customers?qeury=x", nil, 400, "unknown query parameter"},
		{"unknown customer", admin, http.MethodGet, "/api/v1/customers/999999", nil, 404, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.client.Do(tc.method, tc.path, tc.body)
			if resp.Status != tc.status || !strings.Contains(string(resp.Raw), tc.says) {
				t.Fatalf("got %d %s; want %d saying %q", resp.Status, resp.Raw, tc.status, tc.says)
			}
			if _, ok := resp.Body["code"]; !ok {
				t.Fatalf("not a google.rpc.Status: %s", resp.Raw)
			}
		})
	}
	// nothing was half-written: the refused customers left no phones behind
	resp := admin.Do(http.MethodGet, "/api/v1/customers?query=8900111", nil)
	if n := strings.Count(string(resp.Raw), `"number"`); n != 1 {
		t.Fatalf("want only the first customer's phone, got %s", resp.Raw)
	}
}

func TestTemporalUIAndHealthAnswer(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	var cc struct {
		TemporalUIURL     string `json:"temporalUiUrl"`
		TemporalNamespace string `json:"temporalNamespace"`
	}
	s.Anonymous(t).Must(http.MethodGet, "/console-config.json", nil, &cc)
	ns := s.Config.Temporal.Namespace
	if cc.TemporalUIURL != s.TemporalUIURL() || cc.TemporalNamespace != ns {
		t.Fatalf("console config %+v, want the stack's Temporal UI %s and namespace %s", cc, s.TemporalUIURL(), ns)
	}
	for _, url := range []string{s.Base + "/healthz", s.TemporalUIURL() + "/namespaces/" + ns + "/workflows"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s answered %s", url, resp.Status)
		}
	}
}
