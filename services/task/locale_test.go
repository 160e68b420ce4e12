package task

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// The routes of PRODUCT §8.6, written out by hand.
var seededRoutes = map[string][]string{
	"ru": {"Новое подключение", "Ремонт", "Смена тарифа", "Приостановка", "Расторжение", "Возобновление", "Приветственный звонок"},
	"en": {"New connection", "Repair", "Tariff change", "Suspension", "Disconnection", "Resume", "Welcome call"},
}

var seededConnectionProcesses = map[string][]string{
	"ru": {"Проверка заявки", "Техническая возможность", "Монтаж", "Активация", "Контрольный звонок"},
	"en": {"Sales check", "Technical feasibility", "Installation", "Activation", "Quality call"},
}

func TestDefaultRoutesAreSeededInTheDeploymentsLanguage(t *testing.T) {
	t.Parallel()
	for loc, want := range seededRoutes {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			c := servicetest.Common(t)
			c.Locale = loc
			db, err := OpenDB(context.Background(), c, servicetest.Logger())
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close(db)
			var names []string
			db.Table("routes").Order("id").Pluck("name", &names)
			if !slices.Equal(names, want) {
				t.Fatalf("routes %v, want %v", names, want)
			}
			var raw string
			db.Table("route_versions").Where("route_id = 1 AND version = 1").Pluck("definition", &raw)
			var def routeDef
			if err := json.Unmarshal([]byte(raw), &def); err != nil {
				t.Fatal(err)
			}
			var processes []string
			for _, p := range def.Processes {
				processes = append(processes, p.Name)
			}
			if !slices.Equal(processes, seededConnectionProcesses[loc]) || def.Name != want[0] {
				t.Fatalf("route No. 1 is %q with %v", def.Name, processes)
			}
			for _, r := range defaultRoutes {
				def := r.definition(loc)
				var known []int64
				for _, p := range def.Processes {
					known = append(known, p.ID)
				}
				in := def.toProto(routeRow{ID: r.id, Name: def.Name, Description: def.Description, Connection: r.connection, ContractEffect: def.Effect}, 1)
				if _, err := checkRoute(r.id, in, r.connection, known, func(int64) bool { return true }, nil); err != nil {
					t.Fatalf("the default route %d is not a valid route: %v", r.id, err)
				}
			}
		})
	}
}

func TestADatabaseSeededInEnglishKeepsItsRoutesUnderAnotherLocale(t *testing.T) {
	t.Parallel()
	c := servicetest.Common(t)
	c.Locale = "en"
	db, err := OpenDB(context.Background(), c, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	_ = database.Close(db)
	c.Locale = "ru"
	again, err := OpenDB(context.Background(), c, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(again)
	var names []string
	again.Table("routes").Order("id").Pluck("name", &names)
	if !slices.Equal(names, seededRoutes["en"]) {
		t.Fatalf("routes %v after a start in Russian", names)
	}
}
