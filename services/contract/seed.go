package contract

import "github.com/telecomcrm/crm/services/platform/locale"

// defaultTariffs are the tariffs of a new database, in every language the
// deployment can be seeded in (CRM_LOCALE). The seed runs once, in its
// migration; a database keeps the names it was seeded with.
var defaultTariffs = []struct {
	name         locale.Text
	customerKind int32 // 1 person, 2 company
	technology   string
	speedMbps    int32
	feeMinor     int64 // RUB kopecks a month
}{
	{locale.Text{RU: "Домашний 100", EN: "Home 100"}, 1, "FTTB", 100, 50000},
	{locale.Text{RU: "Домашний 500", EN: "Home 500"}, 1, "FTTB", 500, 70000},
	{locale.Text{RU: "Домашний GPON 1000", EN: "Home GPON 1000"}, 1, "GPON", 1000, 99000},
	{locale.Text{RU: "Домашний DSL 20", EN: "Home DSL 20"}, 1, "XDSL", 20, 35000},
	{locale.Text{RU: "Домашний LTE 50", EN: "Home LTE 50"}, 1, "LTE", 50, 45000},
	{locale.Text{RU: "Бизнес 200", EN: "Business 200"}, 2, "FTTB", 200, 250000},
	{locale.Text{RU: "Бизнес 1000", EN: "Business 1000"}, 2, "GPON", 1000, 600000},
	{locale.Text{RU: "Бизнес DSL 50", EN: "Business DSL 50"}, 2, "XDSL", 50, 150000},
}
