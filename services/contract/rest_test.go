package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestRESTRowsOfTheProductSpec drives the contract API through
// grpc-gateway as the REST table of the product spec writes it: resources
// answered at the top level, lists under their plural name, the suggest
// verb, a PATCH whose mask comes from the body, a stale etag as 409.
func TestRESTRowsOfTheProductSpec(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c := s.person(t, "Иванов", "+79120000001")
	home := s.tariff(t, "Home 100")
	api := restServer(t, s, servicetest.Admin)

	var created map[string]any
	api.do(t, "POST", "/api/v1/contracts", fmt.Sprintf(`{"customerId":"%d","tariffId":"%d","address":"Москва"}`, c.GetId(), home.GetId()), 200, &created)
	if created["status"] != "CONTRACT_STATUS_PENDING" || !strings.HasPrefix(fmt.Sprint(created["number"]), "C-") || created["connectionTaskId"] == nil {
		t.Fatalf("POST /contracts answered %v", created)
	}

	var got map[string]any
	api.do(t, "GET", fmt.Sprintf("/api/v1/contracts/%v", created["id"]), "", 200, &got)
	if got["number"] != created["number"] {
		t.Fatalf("GET /contracts/{id} answered %v", got)
	}
	var list struct {
		Contracts     []map[string]any `json:"contracts"`
		NextPageToken string           `json:"nextPageToken"`
	}
	api.do(t, "GET", fmt.Sprintf("/api/v1/contracts?customerId=%d", c.GetId()), "", 200, &list)
	if len(list.Contracts) != 1 || list.Contracts[0]["id"] != created["id"] {
		t.Fatalf("GET /contracts?customerId answered %v", list)
	}

	var suggested struct {
		Tariffs []map[string]any `json:"tariffs"`
	}
	api.do(t, "GET", "/api/v1/tariffs:suggest?customerKind=CUSTOMER_KIND_COMPANY&technology=fttb&minSpeedMbps=100&maxMonthlyFee=300000", "", 200, &suggested)
	if len(suggested.Tariffs) != 1 || suggested.Tariffs[0]["name"] != "Business 200" {
		t.Fatalf("GET /tariffs:suggest answered %v", suggested)
	}

	var tariff map[string]any
	api.do(t, "GET", fmt.Sprintf("/api/v1/tariffs/%d", home.GetId()), "", 200, &tariff)
	if tariff["name"] != "Home 100" || tariff["etag"] != home.GetEtag() {
		t.Fatalf("GET /tariffs/{id} answered %v", tariff)
	}
	var patched map[string]any
	api.do(t, "PATCH", fmt.Sprintf("/api/v1/tariffs/%d", home.GetId()), fmt.Sprintf(`{"active":false,"etag":"%s"}`, home.GetEtag()), 200, &patched)
	if patched["active"] != false || patched["name"] != "Home 100" {
		t.Fatalf("PATCH /tariffs/{id} answered %v", patched)
	}
	var stale map[string]any
	api.do(t, "PATCH", fmt.Sprintf("/api/v1/tariffs/%d", home.GetId()), fmt.Sprintf(`{"name":"Home 100 new","etag":"%s"}`, home.GetEtag()), 409, &stale)
	if !strings.Contains(fmt.Sprint(stale["message"]), "changed by someone else") {
		t.Fatalf("a stale PATCH answered %v", stale)
	}
	var listed struct {
		Tariffs []map[string]any `json:"tariffs"`
	}
	api.do(t, "GET", "/api/v1/tariffs?includeInactive=true&pageSize=100", "", 200, &listed)
	for _, tf := range listed.Tariffs {
		if tf["name"] == "Home 100 new" {
			t.Fatal("the stale PATCH changed the name")
		}
	}
	var bad map[string]any
	api.do(t, "POST", "/api/v1/contracts", fmt.Sprintf(`{"customerId":"%d","tariffId":"%d","address":"Москва"}`, c.GetId(), home.GetId()), 400, &bad)
	if !strings.Contains(fmt.Sprint(bad["message"]), "no longer offered") {
		t.Fatalf("a contract on a deactivated tariff answered %v", bad)
	}
}

type restAPI struct{ url string }

// restServer serves the contract API over HTTP the way the gateway does,
// every request acting as a user with the permissions given.
func restServer(t *testing.T, s *stack, permissions []string) *restAPI {
	t.Helper()
	mux := runtime.NewServeMux()
	if err := contractv1.RegisterContractServiceHandlerClient(context.Background(), mux, s.contracts); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(servicetest.User(r.Context(), 9, permissions)))
	}))
	t.Cleanup(srv.Close)
	return &restAPI{url: srv.URL}
}

func (a *restAPI) do(t *testing.T, method, path, body string, wantStatus int, into any) {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, wantStatus)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, raw)
	}
}
