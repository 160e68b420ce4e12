package task

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/locale"
	"github.com/telecomcrm/crm/workflows/calendar"
)

// The default routes of a new database, in every language the deployment
// can be seeded in (CRM_LOCALE): route No. 1 for connections and the
// service routes. The seed runs once, in the first migration; a database
// keeps the names it was seeded with, and operators may change them.

// seedProcess is one process of a default route.
type seedProcess struct {
	id      int64
	name    locale.Text
	groupID int64
	sla     int64 // seconds; 0: none
}

// seedRoute is one default route; rules are language-free.
type seedRoute struct {
	id                int64
	connection        bool
	name, description locale.Text
	effect            taskv1.ContractEffect
	processes         []seedProcess
	rules             []ruleDef
}

// The identity service's default groups, by their fixed ids.
const (
	seedSales, seedProvisioning, seedInstallers, seedBilling, seedSupport = 1, 2, 3, 4, 5
)

const (
	hour = int64(3600)
	day  = 24 * hour
)

var (
	closed, cancelled = int32(taskv1.TaskState_TASK_STATE_CLOSED), int32(taskv1.TaskState_TASK_STATE_CANCELLED)
	byResolution      = int32(taskv1.CloseRuleKind_CLOSE_RULE_KIND_RESOLUTION)
	whenIdle          = int32(taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE)
	requestCheck      = locale.Text{RU: "Проверка заявки", EN: "Request check"}
)

var defaultRoutes = []seedRoute{
	{id: 1, connection: true, effect: taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE,
		name:        locale.Text{RU: "Новое подключение", EN: "New connection"},
		description: locale.Text{RU: "Задача подключения каждого нового договора.", EN: "Every new contract's connection task."},
		processes: []seedProcess{
			{1, locale.Text{RU: "Проверка заявки", EN: "Sales check"}, seedSales, day},
			{2, locale.Text{RU: "Техническая возможность", EN: "Technical feasibility"}, seedProvisioning, 2 * day},
			{3, locale.Text{RU: "Монтаж", EN: "Installation"}, seedInstallers, 3 * day},
			{4, locale.Text{RU: "Активация", EN: "Activation"}, seedProvisioning, day},
			{5, locale.Text{RU: "Контрольный звонок", EN: "Quality call"}, seedSupport, 2 * day},
		},
		rules: []ruleDef{{Kind: byResolution, Resolution: "customer_refused", Outcome: cancelled}, {Kind: byResolution, Resolution: "not_feasible", Outcome: cancelled}}},
	{id: 2, effect: taskv1.ContractEffect_CONTRACT_EFFECT_NONE,
		name:        locale.Text{RU: "Ремонт", EN: "Repair"},
		description: locale.Text{RU: "Неисправность на работающем подключении.", EN: "A fault on a working connection."},
		processes: []seedProcess{
			{6, locale.Text{RU: "Диагностика", EN: "Diagnostics"}, seedSupport, 4 * hour},
			{7, locale.Text{RU: "Выездной ремонт", EN: "Field repair"}, seedInstallers, day},
			{8, locale.Text{RU: "Подтверждение", EN: "Confirmation"}, seedSupport, 0},
		},
		rules: []ruleDef{{Kind: whenIdle, ProcessID: 8, IdleSeconds: 72 * hour, Outcome: closed}}},
	{id: 3, effect: taskv1.ContractEffect_CONTRACT_EFFECT_NONE,
		name: locale.Text{RU: "Смена тарифа", EN: "Tariff change"},
		processes: []seedProcess{
			{9, requestCheck, seedSales, day},
			{10, locale.Text{RU: "Смена в биллинге", EN: "Billing change"}, seedBilling, day},
		},
		rules: []ruleDef{{Kind: byResolution, Resolution: "rejected", Outcome: cancelled}}},
	{id: 4, effect: taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND,
		name: locale.Text{RU: "Приостановка", EN: "Suspension"},
		processes: []seedProcess{
			{11, requestCheck, seedSales, day},
			{12, locale.Text{RU: "Приостановка в биллинге", EN: "Billing suspension"}, seedBilling, day},
		}},
	{id: 5, effect: taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE,
		name: locale.Text{RU: "Расторжение", EN: "Disconnection"},
		processes: []seedProcess{
			{13, locale.Text{RU: "Удерживающий звонок", EN: "Retention call"}, seedSales, 2 * day},
			{14, locale.Text{RU: "Закрывающий расчёт", EN: "Final billing"}, seedBilling, 2 * day},
			{15, locale.Text{RU: "Снятие оборудования", EN: "Equipment pickup"}, seedInstallers, 5 * day},
		},
		rules: []ruleDef{{Kind: byResolution, ProcessID: 13, Resolution: "retained", Outcome: cancelled}}},
	{id: 6, effect: taskv1.ContractEffect_CONTRACT_EFFECT_RESUME,
		name: locale.Text{RU: "Возобновление", EN: "Resume"},
		processes: []seedProcess{
			{16, requestCheck, seedSales, day},
			{17, locale.Text{RU: "Возобновление в биллинге", EN: "Billing resumption"}, seedBilling, day},
		}},
}

// definition is the route in loc.
func (r seedRoute) definition(loc string) routeDef {
	def := routeDef{Name: r.name.In(loc), Description: r.description.In(loc), Effect: int32(r.effect), Rules: r.rules}
	for _, p := range r.processes {
		def.Processes = append(def.Processes, processDef{ID: p.id, Name: p.name.In(loc), GroupID: p.groupID, SLASeconds: p.sla})
	}
	return def
}

// seedRoutes writes the default routes in loc.
func seedRoutes(tx *gorm.DB, loc string) error {
	now := time.Now().UTC().UnixMicro()
	for _, r := range defaultRoutes {
		def := r.definition(loc)
		row := routeRow{ID: r.id, Name: def.Name, Description: def.Description, Version: 1, Connection: r.connection, ContractEffect: def.Effect, UpdatedAt: now}
		if err := tx.Table("routes").Create(&row).Error; err != nil {
			return err
		}
		for _, p := range def.Processes {
			if err := tx.Table("process_ids").Create(&processIDRow{ID: p.ID, RouteID: r.id}).Error; err != nil {
				return err
			}
		}
		raw, _ := json.Marshal(def)
		if err := tx.Table("route_versions").Create(&routeVersionRow{RouteID: r.id, Version: 1, Definition: string(raw), CreatedAt: now}).Error; err != nil {
			return err
		}
	}
	if database.IsPostgres(tx) {
		// explicit ids do not move PostgreSQL's sequences
		for _, t := range []string{"routes", "process_ids"} {
			if err := tx.Exec(fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, t, t)).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// seedCalendars makes the calendar tables and the production calendar of
// the years it knows.
func seedCalendars(tx *gorm.DB) error {
	type cal struct {
		ID         int64  `gorm:"primaryKey"`
		Name       string `gorm:"size:100;not null"`
		Version    int32  `gorm:"not null"`
		Definition string `gorm:"type:text;not null"`
		UpdatedAt  int64  `gorm:"not null"`
	}
	type calGroup struct {
		GroupID    int64 `gorm:"primaryKey;autoIncrement:false"`
		CalendarID int64 `gorm:"not null;index:calendar_groups_calendar"`
	}
	if err := tx.Table("calendars").Migrator().CreateTable(&cal{}); err != nil {
		return err
	}
	if err := tx.Table("calendar_groups").Migrator().CreateTable(&calGroup{}); err != nil {
		return err
	}
	loc := locale.FromContext(tx.Statement.Context)
	c := calendar.Russian("Europe/Moscow", 2026, 2027)
	notes := map[string]string{}
	for date := range c.Dates {
		if n, ok := productionNotes[date]; ok {
			notes[date] = n.In(loc)
		} else if c.Dates[date].Working() && c.Dates[date].End-c.Dates[date].Start < 9*60 {
			notes[date] = shortenedDay.In(loc)
		}
	}
	body, err := json.Marshal(calendarDef{Calendar: c, Notes: notes})
	if err != nil {
		return err
	}
	name := locale.Text{RU: "Производственный календарь РФ, пятидневка", EN: "Russian production calendar, five-day week"}.In(loc)
	return tx.Table("calendars").Create(&cal{Name: name, Version: 1, Definition: string(body), UpdatedAt: time.Now().UnixMicro()}).Error
}

// What the seeded production calendar's dates are, in the deployment's
// language; a shortened day not named here is a pre-holiday day.
var (
	shortenedDay    = locale.Text{RU: "Предпраздничный день, на час короче", EN: "Pre-holiday day, an hour shorter"}
	newYear         = locale.Text{RU: "Новогодние каникулы", EN: "New Year holidays"}
	productionNotes = map[string]locale.Text{
		"2026-01-01": newYear, "2026-01-02": newYear, "2026-01-05": newYear, "2026-01-06": newYear,
		"2026-01-07": {RU: "Рождество Христово", EN: "Orthodox Christmas"}, "2026-01-08": newYear,
		"2026-01-09": {RU: "Выходной, перенесённый с 3 января", EN: "Day off moved from 3 January"},
		"2026-02-23": {RU: "День защитника Отечества", EN: "Defender of the Fatherland Day"},
		"2026-03-09": {RU: "Выходной вместо 8 марта", EN: "Day off for 8 March"},
		"2026-05-01": {RU: "Праздник Весны и Труда", EN: "Spring and Labour Day"},
		"2026-05-11": {RU: "Выходной вместо 9 мая", EN: "Day off for 9 May"},
		"2026-06-12": {RU: "День России", EN: "Russia Day"},
		"2026-11-04": {RU: "День народного единства", EN: "Unity Day"},
		"2026-12-31": {RU: "Выходной, перенесённый с 4 января", EN: "Day off moved from 4 January"},
		"2027-01-01": newYear, "2027-01-04": newYear, "2027-01-05": newYear, "2027-01-06": newYear,
		"2027-01-07": {RU: "Рождество Христово", EN: "Orthodox Christmas"}, "2027-01-08": newYear,
		"2027-02-23": {RU: "День защитника Отечества", EN: "Defender of the Fatherland Day"},
		"2027-03-08": {RU: "Международный женский день", EN: "International Women's Day"},
		"2027-05-03": {RU: "Выходной вместо 1 мая", EN: "Day off for 1 May"},
		"2027-05-10": {RU: "Выходной вместо 9 мая", EN: "Day off for 9 May"},
		"2027-06-14": {RU: "Выходной вместо 12 июня", EN: "Day off for 12 June"},
		"2027-11-04": {RU: "День народного единства", EN: "Unity Day"},
		"2027-11-05": {RU: "Выходной, перенесённый на 5 ноября (проект)", EN: "Day off moved to 5 November (draft)"},
		"2027-11-13": {RU: "Рабочая суббота за 5 ноября (проект)", EN: "Saturday worked for 5 November (draft)"},
	}
)
