package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type importState struct {
	ID                 string `json:"id"`
	State              string `json:"state"`
	TotalRows          int    `json:"totalRows"`
	ProblemRows        int    `json:"problemRows"`
	ContractsToConnect int    `json:"contractsToConnect"`
	RowsDone           int    `json:"rowsDone"`
	CustomersCreated   int    `json:"customersCreated"`
	ContractsCreated   int    `json:"contractsCreated"`
	Error              string `json:"error"`
}

// checkImport sends a file as the console does and answers the status and
// the body.
func (w *world) checkImport(file string) (int, []byte) {
	w.t.Helper()
	resp, err := w.admin.Client.Send(http.MethodPost, "/api/v1/imports?fileName=base.csv", "text/csv", strings.NewReader(file))
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.Status, resp.Raw
}

func TestAnImportIsCheckedThenRunByItsWorkflowToTheEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	file := "Внешний код;Имя;Телефоны;Адрес;Тариф;Состояние договора\n" +
		"old-1;Импортов Пётр;+7 917 000-00-01;Ленина 1;1;действует\n" +
		"old-1;;+79170000002;;1;подключить\n" +
		"old-2;Импортова Анна;+79170000003;Мира 2;1;\n" +
		"old-3;Без номера;42;Мира 3;1;действует\n"
	code, body := w.checkImport(file)
	if code != http.StatusCreated {
		t.Fatalf("check: %d %s", code, body)
	}
	var imp importState
	if err := json.Unmarshal(body, &imp); err != nil {
		t.Fatal(err)
	}
	if imp.State != "IMPORT_STATE_CHECKED" || imp.TotalRows != 4 || imp.ProblemRows != 1 || imp.ContractsToConnect != 2 {
		t.Fatalf("checked: %+v", imp)
	}
	var problems struct {
		Problems []struct {
			Line int    `json:"line"`
			Code string `json:"code"`
		} `json:"problems"`
	}
	w.admin.Must(http.MethodGet, "/api/v1/imports/"+imp.ID+"/problems", nil, &problems)
	if len(problems.Problems) != 1 || problems.Problems[0].Line != 5 || problems.Problems[0].Code != "PHONE_INVALID" {
		t.Fatalf("problems: %+v", problems)
	}

	w.admin.Must(http.MethodPost, "/api/v1/imports/"+imp.ID+":run", map[string]any{}, nil)
	deadline := time.Now().Add(60 * time.Second)
	for imp.State != "IMPORT_STATE_DONE" {
		if time.Now().After(deadline) || imp.State == "IMPORT_STATE_FAILED" {
			t.Fatalf("the import did not finish: %+v", imp)
		}
		time.Sleep(200 * time.Millisecond)
		w.admin.Must(http.MethodGet, "/api/v1/imports/"+imp.ID, nil, &imp)
	}
	if imp.RowsDone != 4 || imp.CustomersCreated != 2 || imp.ContractsCreated != 3 {
		t.Fatalf("done: %+v", imp)
	}
	var found struct {
		Customers []struct {
			ID     string `json:"id"`
			Phones []struct{ Number string }
		} `json:"customers"`
	}
	w.admin.Must(http.MethodGet, "/api/v1/customers?query="+urlQuery("+79170000002"), nil, &found)
	if len(found.Customers) != 1 || len(found.Customers[0].Phones) != 2 {
		t.Fatalf("the imported customer: %+v", found)
	}
	var contracts struct {
		Contracts []struct {
			Status           string `json:"status"`
			ConnectionTaskID string `json:"connectionTaskId"`
		} `json:"contracts"`
	}
	w.admin.Must(http.MethodGet, "/api/v1/contracts?customerId="+found.Customers[0].ID, nil, &contracts)
	var statuses []string
	for _, c := range contracts.Contracts {
		statuses = append(statuses, c.Status)
		if (c.Status == "CONTRACT_STATUS_PENDING") != (c.ConnectionTaskID != "" && c.ConnectionTaskID != "0") {
			t.Fatalf("a contract to connect has its task, one in force none: %+v", contracts)
		}
	}
	slices.Sort(statuses)
	if strings.Join(statuses, " ") != "CONTRACT_STATUS_ACTIVE CONTRACT_STATUS_PENDING" {
		t.Fatalf("contracts %v", statuses)
	}
	// a done import is not run again
	if resp := w.admin.Do(http.MethodPost, "/api/v1/imports/"+imp.ID+":run", map[string]any{}); resp.Status != http.StatusConflict && resp.Status != http.StatusBadRequest {
		t.Fatalf("running a done import: %d %s", resp.Status, resp.Raw)
	}
}

func TestAFileThatIsNotAnImportIs400NamingWhy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for file, want := range map[string]string{
		"Name,Phones\nP\xe9ter,+79170000009\n":       "UTF-8",
		"Name,Phones,Shoe size\nA,+79170000009,42\n": "Shoe size",
	} {
		code, body := w.checkImport(file)
		if code != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Fatalf("%q: %d %s", file, code, body)
		}
	}
}
