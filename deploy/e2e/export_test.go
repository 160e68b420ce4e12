package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

// exported reads a CSV export: its byte order mark, then the rows.
func exported(t *testing.T, c *stacktest.Client, path string) [][]string {
	t.Helper()
	resp := c.Do(http.MethodGet, path, nil)
	if resp.Status != 200 {
		t.Fatalf("%s: %d %s", path, resp.Status, resp.Raw)
	}
	body, ok := bytes.CutPrefix(resp.Raw, []byte("\ufeff"))
	if !ok {
		t.Fatalf("%s: no byte order mark", path)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestListsExportAsCSVWithTheirFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// more than one page of the services' (100), one of them hostile
	for i := range 104 {
		name := fmt.Sprintf("Экспортов Пётр %03d", i)
		if i == 7 {
			name = "=HYPERLINK(\"http://evil\") Экспортов"
		}
		w.admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": name, "phones": []map[string]string{{"number": fmt.Sprintf("+7913%07d", i)}}}, nil)
	}
	rows := exported(t, w.admin, "/api/v1/customers:export?query=Экспортов&lang=ru")
	if len(rows) != 1+104 || rows[0][1] != "Имя" || rows[0][3] != "Телефоны" {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[1]] {
			t.Fatalf("customer %q exported twice", r[1])
		}
		seen[r[1]] = true
		if strings.HasPrefix(r[1], "=") || !strings.HasPrefix(r[3], "+7913") || r[2] != "частное лицо" {
			t.Fatalf("row %v", r)
		}
	}
	if !seen["'=HYPERLINK(\"http://evil\") Экспортов"] {
		t.Fatal("the formula-like name is not there, or not defused")
	}

	_, open := w.contract()
	w.activeContract() // its connection task closed: not in the export of open ones
	tasks := exported(t, w.admin, "/api/v1/tasks:export?state=TASK_STATE_OPEN&lang=en")
	if tasks[0][0] != "Number" || tasks[0][3] != "State" {
		t.Fatalf("header %v", tasks[0])
	}
	found := false
	for _, r := range tasks[1:] {
		if r[3] != "open" {
			t.Fatalf("a %s task in the export of open ones: %v", r[3], r)
		}
		found = found || r[0] == open.Number
	}
	if !found {
		t.Fatalf("the open connection task %s is not in %v", open.Number, tasks)
	}
	// in Russian, the codes are words too
	ru := exported(t, w.admin, "/api/v1/tasks:export?state=TASK_STATE_OPEN&lang=ru")
	if ru[0][3] != "Состояние" || len(ru) < 2 {
		t.Fatalf("the Russian export: header %v, %d rows", ru[0], len(ru))
	}
	for _, r := range ru[1:] {
		if r[3] != "открыта" || (r[2] != "подключение" && r[2] != "сервисная") || (r[10] != "да" && r[10] != "нет") {
			t.Fatalf("a row with codes left as codes: %v", r)
		}
	}

	for path, want := range map[string]int{
		"/api/v1/tasks:export?colour=red":      400,
		"/api/v1/tasks:export?state=NOT_STATE": 400,
	} {
		if got := w.admin.Do(http.MethodGet, path, nil).Status; got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
	if got := w.s.Anonymous(t).Do(http.MethodGet, "/api/v1/customers:export", nil).Status; got != 401 {
		t.Errorf("anonymous export: %d, want 401", got)
	}
}
