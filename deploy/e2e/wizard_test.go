package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

func TestConnectionWizard(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	admin := s.Admin(t)

	t.Run("new customer, the cheapest fitting tariff, a contract and its task in one call", func(t *testing.T) {
		var out struct {
			Customer struct{ ID string }
			Contract struct {
				ID, Status, TariffID, Number string
			}
			Task task
		}
		admin.Must(http.MethodPost, "/api/v1/connections", map[string]any{
			"customer":     map[string]any{"name": "Olga", "phones": []map[string]string{{"number": "8 903 555-00-01"}}},
			"requirements": map[string]any{"technology": "FTTB", "minSpeedMbps": 300},
			"address":      "Lenina 5",
		}, &out)
		if out.Customer.ID == "" || out.Contract.Status != "CONTRACT_STATUS_PENDING" || out.Task.CurrentProcess.Name != "Проверка заявки" || out.Task.ContractID != out.Contract.ID {
			t.Fatalf("wizard answered %+v", out)
		}
		var tariff struct {
			SpeedMbps  int    `json:"speedMbps"`
			Technology string `json:"technology"`
		}
		admin.Must(http.MethodGet, "/api/v1/tariffs/"+out.Contract.TariffID, nil, &tariff)
		if tariff.SpeedMbps < 300 || tariff.Technology != "FTTB" {
			t.Fatalf("picked tariff %+v", tariff)
		}
		// the customer is found by the contract's number too
		found := admin.Do(http.MethodGet, "/api/v1/customers?query="+out.Contract.Number, nil)
		if found.Status != 200 || !strings.Contains(string(found.Raw), `"id":"`+out.Customer.ID+`"`) {
			t.Fatalf("search by %s: %d %s", out.Contract.Number, found.Status, found.Raw)
		}
	})

	t.Run("a failing step leaves no customer behind", func(t *testing.T) {
		resp := admin.Do(http.MethodPost, "/api/v1/connections", map[string]any{
			"customer":     map[string]any{"name": "Nobody", "phones": []map[string]string{{"number": "8 903 555-00-02"}}},
			"requirements": map[string]any{"technology": "FTTB", "minSpeedMbps": 100000},
			"address":      "Lenina 6",
		})
		if resp.Status != 400 || !strings.Contains(string(resp.Raw), "requirements") {
			t.Fatalf("impossible requirements: %d %s", resp.Status, resp.Raw)
		}
		found := admin.Do(http.MethodGet, "/api/v1/customers?query=89035550002", nil)
		if strings.Contains(string(found.Raw), "Nobody") {
			t.Fatalf("the wizard left its customer behind: %s", found.Raw)
		}
		taken := admin.Do(http.MethodPost, "/api/v1/connections", map[string]any{
			"customer": map[string]any{"name": "Copy", "phones": []map[string]string{{"number": "+79035550001"}}},
			"tariffId": "1", "address": "Lenina 7",
		})
		if taken.Status != 409 || !strings.Contains(string(taken.Raw), "customer.phones[0].number") {
			t.Fatalf("a taken phone: %d %s", taken.Status, taken.Raw)
		}
	})
}
