package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/locale"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// ConnectionRouteID is route No. 1, reserved for connection tasks.
const ConnectionRouteID = 1

type routeRow struct {
	ID             int64
	Name           string
	Description    string
	Version        int32
	Connection     bool
	ContractEffect int32
	UpdatedAt      int64 `gorm:"autoUpdateTime:false"` // microseconds, set by the store
}

func (routeRow) TableName() string { return "routes" }

type routeVersionRow struct {
	RouteID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Version    int32 `gorm:"primaryKey;autoIncrement:false"`
	Definition string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
}

func (routeVersionRow) TableName() string { return "route_versions" }

type processIDRow struct {
	ID      int64
	RouteID int64
}

func (processIDRow) TableName() string { return "process_ids" }

// routeDef is one version of a route, as tasks started on it see it.
type routeDef struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Effect      int32        `json:"effect"`
	Processes   []processDef `json:"processes"`
	Rules       []ruleDef    `json:"rules,omitempty"`
	// Actions[i] makes Processes[i] automatic; nil (or absent): manual.
	Actions []*actionDef `json:"actions,omitempty"`
	// FollowUps open service tasks some time after a task closes.
	FollowUps []followUpDef `json:"followUps,omitempty"`
	// A high or an urgent task's SLA as a share of each process's, in per
	// cent (0: the same).
	HighSLAPercent   int32 `json:"highSlaPercent,omitempty"`
	UrgentSLAPercent int32 `json:"urgentSlaPercent,omitempty"`
}

// slaShare is the share of a process's SLA a task of priority p has, in
// per cent.
func (d routeDef) slaShare(p taskv1.TaskPriority) int64 {
	return taskflow.Route{HighSLAPercent: d.HighSLAPercent, UrgentSLAPercent: d.UrgentSLAPercent}.SLAShare(p)
}

// followUpDef is a follow-up service task (see taskv1.FollowUp).
type followUpDef struct {
	RouteID      int64  `json:"routeId"`
	AfterSeconds int64  `json:"afterSeconds"`
	Title        string `json:"title"`
	Description  string `json:"description,omitempty"`
}

type processDef struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	GroupID    int64  `json:"groupId"`
	SLASeconds int64  `json:"slaSeconds,omitempty"`
	// Visit: the work is a field visit, booked by dispatch.
	Visit bool `json:"visit,omitempty"`
	// WaitsForCustomer pauses the SLA; the rest is the escalation (see
	// taskv1.Process).
	WaitsForCustomer     bool  `json:"waitsForCustomer,omitempty"`
	WarnPercent          int32 `json:"warnPercent,omitempty"`
	EscalateAfterSeconds int64 `json:"escalateAfterSeconds,omitempty"`
	EscalateRaise        bool  `json:"escalateRaise,omitempty"`
	EscalateToQueue      bool  `json:"escalateToQueue,omitempty"`
}

// actionDef is an automatic process's action (see taskv1.Action).
type actionDef struct {
	Kind             int32  `json:"kind"`
	Operation        int32  `json:"operation,omitempty"`
	WaitSeconds      int64  `json:"waitSeconds,omitempty"`
	WaitUntil        int64  `json:"waitUntil,omitempty"` // microseconds
	GroupID          int64  `json:"groupId,omitempty"`
	Message          string `json:"message,omitempty"`
	URL              string `json:"url,omitempty"`
	OnFailure        int32  `json:"onFailure,omitempty"`
	FailureProcessID int64  `json:"failureProcessId,omitempty"`
}

// action is the action of the process at index i; nil: a manual process.
func (d routeDef) action(i int) *actionDef {
	if i < len(d.Actions) {
		return d.Actions[i]
	}
	return nil
}

// processProto answers the process at index i.
func (d routeDef) processProto(i int) *taskv1.Process {
	p := d.Processes[i]
	out := &taskv1.Process{
		Id: p.ID, Name: p.Name, GroupId: p.GroupID, SlaSeconds: p.SLASeconds, Position: int32(i + 1), Kind: taskv1.ProcessKind_PROCESS_KIND_MANUAL, Visit: p.Visit,
		WaitsForCustomer: p.WaitsForCustomer, WarnPercent: p.WarnPercent, EscalateAfterSeconds: p.EscalateAfterSeconds,
		EscalateRaisePriority: p.EscalateRaise, EscalateToQueue: p.EscalateToQueue,
	}
	if a := d.action(i); a != nil {
		out.Kind = taskv1.ProcessKind_PROCESS_KIND_AUTOMATIC
		out.Action = &taskv1.Action{
			Kind: taskv1.ActionKind(a.Kind), ContractOperation: taskv1.ContractOperation(a.Operation), WaitSeconds: a.WaitSeconds,
			GroupId: a.GroupID, Message: a.Message, WebhookUrl: a.URL, OnFailure: taskv1.FailureRule(a.OnFailure), FailureProcessId: a.FailureProcessID,
		}
		if a.WaitUntil != 0 {
			out.Action.WaitUntil = micros.Proto(a.WaitUntil)
		}
	}
	return out
}

type ruleDef struct {
	Kind        int32  `json:"kind"`
	ProcessID   int64  `json:"processId,omitempty"`
	IdleSeconds int64  `json:"idleSeconds,omitempty"`
	Resolution  string `json:"resolution,omitempty"`
	Outcome     int32  `json:"outcome,omitempty"`
}

func (d routeDef) process(id int64) (processDef, int, bool) {
	i := slices.IndexFunc(d.Processes, func(p processDef) bool { return p.ID == id })
	if i < 0 {
		return processDef{}, -1, false
	}
	return d.Processes[i], i, true
}

func (d routeDef) toProto(r routeRow, version int32) *taskv1.Route {
	out := &taskv1.Route{
		Id: r.ID, Name: d.Name, Description: d.Description, Version: version,
		Connection: r.Connection, ContractEffect: taskv1.ContractEffect(d.Effect), UpdateTime: micros.Proto(r.UpdatedAt),
		HighSlaPercent: d.HighSLAPercent, UrgentSlaPercent: d.UrgentSLAPercent,
	}
	for i := range d.Processes {
		out.Processes = append(out.Processes, d.processProto(i))
	}
	out.CloseRules = append(out.CloseRules, &taskv1.CloseRule{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_ROUTE_COMPLETED, Outcome: taskv1.TaskState_TASK_STATE_CLOSED})
	for _, c := range d.Rules {
		out.CloseRules = append(out.CloseRules, &taskv1.CloseRule{
			Kind: taskv1.CloseRuleKind(c.Kind), ProcessId: c.ProcessID, IdleSeconds: c.IdleSeconds,
			Resolution: c.Resolution, Outcome: taskv1.TaskState(c.Outcome),
		})
	}
	for _, f := range d.FollowUps {
		out.FollowUps = append(out.FollowUps, &taskv1.FollowUp{RouteId: f.RouteID, AfterSeconds: f.AfterSeconds, Title: f.Title, Description: f.Description})
	}
	return out
}

// needsTariff tells whether the route changes its contract's tariff, so
// a person chooses the tariff when opening its task.
func (d routeDef) needsTariff() bool {
	return slices.ContainsFunc(d.Actions, func(a *actionDef) bool {
		return a != nil && a.Kind == int32(taskv1.ActionKind_ACTION_KIND_CONTRACT) && a.Operation == int32(taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF)
	})
}

// routeStore keeps routes and their versions.
type routeStore struct {
	db    *gorm.DB
	clock func() int64
	// versions caches route versions, which never change once written:
	// every step of every task reads its version.
	versions sync.Map // routeVersionKey → routeDef
	// owners caches the route of each process, which never changes.
	owners sync.Map // process id → route id
}

type routeVersionKey struct {
	id      int64
	version int32
}

func (s *routeStore) list(ctx context.Context) ([]*taskv1.Route, error) {
	var rows []routeRow
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*taskv1.Route, 0, len(rows))
	for _, r := range rows {
		def, err := s.definition(ctx, r.ID, r.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, def.toProto(r, r.Version))
	}
	return out, nil
}

// current returns a route at its newest version.
func (s *routeStore) current(ctx context.Context, id int64) (routeRow, routeDef, error) {
	var r routeRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, routeDef{}, fault.New(fault.NotFound, "route %d does not exist", id)
	}
	if err != nil {
		return r, routeDef{}, err
	}
	def, err := s.definition(ctx, id, r.Version)
	return r, def, err
}

func (s *routeStore) definition(ctx context.Context, id int64, version int32) (routeDef, error) {
	if d, ok := s.versions.Load(routeVersionKey{id, version}); ok {
		return d.(routeDef), nil
	}
	var v routeVersionRow
	if err := s.db.WithContext(ctx).Take(&v, "route_id = ? AND version = ?", id, version).Error; err != nil {
		return routeDef{}, fmt.Errorf("route %d version %d: %w", id, version, err)
	}
	var def routeDef
	if err := json.Unmarshal([]byte(v.Definition), &def); err != nil {
		return def, err
	}
	s.versions.Store(routeVersionKey{id, version}, def)
	return def, nil
}

// save writes a new version of a route (a new route when id is 0) after
// checking it; expected is the version the editor saw (0: any).
func (s *routeStore) save(ctx context.Context, id int64, expected int32, in *taskv1.Route, groupExists func(int64) bool) (*taskv1.Route, error) {
	var out *taskv1.Route
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r routeRow
		if id != 0 {
			if err := tx.Take(&r, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
				return fault.New(fault.NotFound, "route %d does not exist", id)
			} else if err != nil {
				return err
			}
			if expected != 0 && expected != r.Version {
				return fault.New(fault.Aborted, "route %q was changed by someone else (now version %d); reload it and edit again", r.Name, r.Version)
			}
		}
		var known []int64
		if id != 0 {
			if err := tx.Model(&processIDRow{}).Where("route_id = ?", id).Pluck("id", &known).Error; err != nil {
				return err
			}
		}
		others, err := routesBeside(tx, r.ID)
		if err != nil {
			return err
		}
		def, err := checkRoute(r.ID, in, r.Connection, known, groupExists, others)
		if err != nil {
			return err
		}
		r.Name, r.Description, r.ContractEffect, r.UpdatedAt = def.Name, def.Description, def.Effect, s.clock()
		r.Version++
		if id == 0 {
			if err := tx.Create(&r).Error; err != nil {
				return err
			}
		} else if err := tx.Save(&r).Error; err != nil {
			return err
		}
		for i := range def.Processes {
			if def.Processes[i].ID == 0 {
				pid := processIDRow{RouteID: r.ID}
				if err := tx.Create(&pid).Error; err != nil {
					return err
				}
				def.Processes[i].ID = pid.ID
			}
		}
		// rules may name a new process by its 1-based place: see checkRoute
		for i := range def.Rules {
			if def.Rules[i].ProcessID < 0 {
				def.Rules[i].ProcessID = def.Processes[-def.Rules[i].ProcessID-1].ID
			}
		}
		// and so may a failure rule
		for _, a := range def.Actions {
			if a != nil && a.FailureProcessID < 0 {
				a.FailureProcessID = def.Processes[-a.FailureProcessID-1].ID
			}
		}
		raw, _ := json.Marshal(def)
		if err := tx.Create(&routeVersionRow{RouteID: r.ID, Version: r.Version, Definition: string(raw), CreatedAt: r.UpdatedAt}).Error; err != nil {
			return err
		}
		out = def.toProto(r, r.Version)
		return nil
	})
	return out, err
}

var serviceEffects = []taskv1.ContractEffect{
	taskv1.ContractEffect_CONTRACT_EFFECT_NONE, taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND,
	taskv1.ContractEffect_CONTRACT_EFFECT_RESUME, taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE,
}

// routeFacts are what another route's follow-ups are checked against.
type routeFacts struct {
	Name        string
	Connection  bool
	NeedsTariff bool
	// FollowUps are the routes its follow-ups open tasks on.
	FollowUps []int64
}

// routesBeside reads every route but the one being saved (0: a new one),
// at its newest version.
func routesBeside(tx *gorm.DB, id int64) (map[int64]routeFacts, error) {
	var rows []struct {
		ID         int64
		Connection bool
		Definition string
	}
	err := tx.Table("routes").Select("routes.id, routes.connection, route_versions.definition").
		Joins("JOIN route_versions ON route_versions.route_id = routes.id AND route_versions.version = routes.version").
		Where("routes.id <> ?", id).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[int64]routeFacts, len(rows))
	for _, r := range rows {
		var def routeDef
		if err := json.Unmarshal([]byte(r.Definition), &def); err != nil {
			return nil, fmt.Errorf("route %d: %w", r.ID, err)
		}
		f := routeFacts{Name: def.Name, Connection: r.Connection, NeedsTariff: def.needsTariff()}
		for _, u := range def.FollowUps {
			f.FollowUps = append(f.FollowUps, u.RouteID)
		}
		out[r.ID] = f
	}
	return out, nil
}

// Bounds of a follow-up's delay.
const (
	minFollowUpDelay = 60
	maxFollowUpDelay = 366 * 24 * 3600
)

// checkFollowUps validates a route's follow-ups against the other routes:
// each opens a task on an existing service route that can be opened
// without a person's choice (no tariff to choose), and a follow-up's
// route opens none of its own, so follow-ups never chain.
func checkFollowUps(self int64, in []*taskv1.FollowUp, others map[int64]routeFacts, bad func(field, format string, args ...any)) []followUpDef {
	var out []followUpDef
	for i, f := range in {
		field := fmt.Sprintf("followUps[%d]", i)
		d := followUpDef{RouteID: f.GetRouteId(), AfterSeconds: f.GetAfterSeconds(), Title: strings.TrimSpace(f.GetTitle()), Description: strings.TrimSpace(f.GetDescription())}
		target, ok := others[d.RouteID]
		switch {
		case d.RouteID == 0:
			bad(field+".routeId", "choose the route of the follow-up task")
		case d.RouteID == self:
			bad(field+".routeId", "a follow-up opens its task on another route, not on this one")
		case !ok:
			bad(field+".routeId", "a follow-up opens its task on another route; route %d is not one", d.RouteID)
		case target.Connection:
			bad(field+".routeId", "route No. 1 is reserved for connection tasks; choose a service route")
		case target.NeedsTariff:
			bad(field+".routeId", "route %q changes the tariff, which a person chooses; it cannot be opened by itself", target.Name)
		case len(target.FollowUps) > 0:
			bad(field+".routeId", "route %q opens follow-ups of its own; follow-ups do not chain", target.Name)
		}
		if d.AfterSeconds < minFollowUpDelay || d.AfterSeconds > maxFollowUpDelay {
			bad(field+".afterSeconds", "a follow-up opens from 1 minute to 366 days after the close")
		}
		if n := utf8.RuneCountInString(d.Title); n == 0 || n > 200 {
			bad(field+".title", "a follow-up task needs a title of 1 to 200 characters")
		}
		out = append(out, d)
	}
	if len(out) > 0 && self != 0 {
		for _, id := range slices.Sorted(maps.Keys(others)) {
			if slices.Contains(others[id].FollowUps, self) {
				bad("followUps", "route %q opens its follow-up tasks on this route; follow-ups do not chain", others[id].Name)
				break
			}
		}
	}
	return out
}

// checkEscalation refuses escalation settings that could never fire, and
// a wait for the customer that is not a person's process.
func checkEscalation(d processDef, automatic bool, f string, bad func(field, format string, args ...any)) {
	switch {
	case d.WaitsForCustomer && (automatic || d.Visit):
		bad(f+".waitsForCustomer", "waiting for the customer is a process people work, without a visit")
	case d.WaitsForCustomer && (d.WarnPercent > 0 || d.EscalateAfterSeconds > 0):
		bad(f+".waitsForCustomer", "a process waiting for the customer runs no SLA, so it neither warns nor escalates")
	}
	if d.WarnPercent < 0 || d.WarnPercent >= 100 {
		bad(f+".warnPercent", "the warning comes at 1 to 99 per cent of the SLA")
	} else if d.WarnPercent > 0 && d.SLASeconds == 0 {
		bad(f+".warnPercent", "a warning needs the process's SLA")
	}
	switch {
	case d.EscalateAfterSeconds < 0:
		bad(f+".escalateAfterSeconds", "the time cannot be negative")
	case d.EscalateAfterSeconds > 0 && d.SLASeconds == 0:
		bad(f+".escalateAfterSeconds", "escalation follows a breach: it needs the process's SLA")
	case d.EscalateAfterSeconds > 0 && !d.EscalateRaise && !d.EscalateToQueue:
		bad(f+".escalateAfterSeconds", "say what the escalation does: raise the priority, return the task to the queue, or both")
	case d.EscalateAfterSeconds == 0 && (d.EscalateRaise || d.EscalateToQueue):
		bad(f+".escalateAfterSeconds", "say how long after the breach the task escalates")
	}
}

// checkRoute validates an edited route. known are the process ids this
// route already has; a process with id 0 is new. A close rule names a
// process by id, or a new process by its position as a negative number.
// id is the route's own (0: a new one); others are the other routes,
// which follow-ups name.
func checkRoute(id int64, in *taskv1.Route, connection bool, known []int64, groupExists func(int64) bool, others map[int64]routeFacts) (routeDef, error) {
	var v []fault.Violation
	bad := func(field, format string, args ...any) {
		v = append(v, fault.Violation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	def := routeDef{Name: strings.TrimSpace(in.GetName()), Description: strings.TrimSpace(in.GetDescription())}
	if n := utf8.RuneCountInString(def.Name); n == 0 || n > 200 {
		bad("name", "a route needs a name of 1 to 200 characters")
	}
	effect := in.GetContractEffect()
	switch {
	case connection:
		effect = taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE
	case effect == taskv1.ContractEffect_CONTRACT_EFFECT_UNSPECIFIED:
		effect = taskv1.ContractEffect_CONTRACT_EFFECT_NONE
	case !slices.Contains(serviceEffects, effect):
		bad("contractEffect", "a service route may suspend, resume or terminate its contract, or leave it")
	}
	def.Effect = int32(effect)
	if len(in.GetProcesses()) == 0 {
		bad("processes", "a route needs at least one process")
	}
	seen := map[int64]bool{}
	for i, p := range in.GetProcesses() {
		f := fmt.Sprintf("processes[%d]", i)
		d := processDef{
			ID: p.GetId(), Name: strings.TrimSpace(p.GetName()), GroupID: p.GetGroupId(), SLASeconds: p.GetSlaSeconds(), Visit: p.GetVisit(),
			WaitsForCustomer: p.GetWaitsForCustomer(), WarnPercent: p.GetWarnPercent(), EscalateAfterSeconds: p.GetEscalateAfterSeconds(),
			EscalateRaise: p.GetEscalateRaisePriority(), EscalateToQueue: p.GetEscalateToQueue(),
		}
		if n := utf8.RuneCountInString(d.Name); n == 0 || n > 200 {
			bad(f+".name", "a process needs a name of 1 to 200 characters")
		}
		if d.GroupID <= 0 || !groupExists(d.GroupID) {
			bad(f+".groupId", "group %d does not exist", d.GroupID)
		}
		if d.SLASeconds < 0 {
			bad(f+".slaSeconds", "the SLA cannot be negative")
		}
		if d.ID != 0 && (!slices.Contains(known, d.ID) || seen[d.ID]) {
			bad(f+".id", "process %d is not a process of this route", d.ID)
		}
		seen[d.ID] = true
		a := checkAction(p, f, len(in.GetProcesses()), groupExists, bad)
		if d.Visit && a != nil {
			bad(f+".visit", "a process that runs on its own cannot require a visit")
		}
		checkEscalation(d, a != nil, f, bad)
		def.Actions = append(def.Actions, a)
		def.Processes = append(def.Processes, d)
	}
	if !slices.ContainsFunc(def.Actions, func(a *actionDef) bool { return a != nil }) {
		def.Actions = nil
	}
	for i, d := range def.Processes {
		if a := def.action(i); a != nil && a.OnFailure == int32(taskv1.FailureRule_FAILURE_RULE_GO_TO_PROCESS) &&
			(a.FailureProcessID == d.ID && d.ID != 0 || a.FailureProcessID == int64(-i-1)) {
			bad(fmt.Sprintf("processes[%d].action.failureProcessId", i), "a failed action goes to another process, not back to its own")
		}
		if a := def.action(i); a != nil && a.FailureProcessID > 0 && !slices.ContainsFunc(def.Processes, func(p processDef) bool { return p.ID == a.FailureProcessID }) {
			bad(fmt.Sprintf("processes[%d].action.failureProcessId", i), "process %d is not a process of this route", a.FailureProcessID)
		}
	}
	if connection && def.Actions != nil {
		bad("processes", "route No. 1's processes are worked by people; its contract is activated when it completes")
	}
	for i, c := range in.GetCloseRules() {
		f := fmt.Sprintf("closeRules[%d]", i)
		r := ruleDef{Kind: int32(c.GetKind()), ProcessID: c.GetProcessId(), IdleSeconds: c.GetIdleSeconds(), Resolution: strings.TrimSpace(c.GetResolution()), Outcome: int32(c.GetOutcome())}
		switch c.GetKind() {
		case taskv1.CloseRuleKind_CLOSE_RULE_KIND_ROUTE_COMPLETED:
			continue // every route has it
		case taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE:
			if r.IdleSeconds <= 0 {
				bad(f+".idleSeconds", "an IDLE rule needs a duration")
			}
		case taskv1.CloseRuleKind_CLOSE_RULE_KIND_RESOLUTION:
			if r.Resolution == "" || len(r.Resolution) > 100 {
				bad(f+".resolution", "a RESOLUTION rule needs a resolution code")
			}
		default:
			bad(f+".kind", "the kind is ROUTE_COMPLETED, IDLE or RESOLUTION")
		}
		if o := c.GetOutcome(); o != taskv1.TaskState_TASK_STATE_CLOSED && o != taskv1.TaskState_TASK_STATE_CANCELLED {
			bad(f+".outcome", "the outcome is CLOSED or CANCELLED")
		}
		switch {
		case r.ProcessID == 0:
		case r.ProcessID < 0 && int(-r.ProcessID) <= len(def.Processes):
		case r.ProcessID > 0 && slices.ContainsFunc(def.Processes, func(p processDef) bool { return p.ID == r.ProcessID }):
		default:
			bad(f+".processId", "process %d is not a process of this route", r.ProcessID)
		}
		def.Rules = append(def.Rules, r)
	}
	def.FollowUps = checkFollowUps(id, in.GetFollowUps(), others, bad)
	def.HighSLAPercent, def.UrgentSLAPercent = in.GetHighSlaPercent(), in.GetUrgentSlaPercent()
	for _, f := range []struct {
		field string
		pc    int32
	}{{"highSlaPercent", def.HighSLAPercent}, {"urgentSlaPercent", def.UrgentSLAPercent}} {
		if f.pc < 0 || f.pc > 100 {
			bad(f.field, "a share of the SLA is 1 to 100 per cent (0: the same SLA)")
		}
	}
	if len(v) > 0 {
		return def, &fault.Error{Kind: fault.Invalid, Message: v[0].Description, Violations: v}
	}
	return def, nil
}

// currentIn reads a route's newest version inside a migration.
func currentIn(tx *gorm.DB, r routeRow) (routeDef, error) {
	var v routeVersionRow
	var def routeDef
	if err := tx.Table("route_versions").Take(&v, "route_id = ? AND version = ?", r.ID, r.Version).Error; err != nil {
		return def, err
	}
	err := json.Unmarshal([]byte(v.Definition), &def)
	return def, err
}

// newVersionIn writes def as a route's next version inside a migration.
func newVersionIn(tx *gorm.DB, r routeRow, def routeDef, now int64) error {
	raw, _ := json.Marshal(def)
	if err := tx.Table("route_versions").Create(&routeVersionRow{RouteID: r.ID, Version: r.Version + 1, Definition: string(raw), CreatedAt: now}).Error; err != nil {
		return err
	}
	return tx.Table("routes").Where("id = ?", r.ID).Updates(map[string]any{"version": r.Version + 1, "contract_effect": def.Effect, "updated_at": now}).Error
}

// seedActions gives the default routes their automatic processes, in the
// deployment's language: "Tariff change" (route 3, when still a service
// route) ends by changing the tariff chosen when the task was opened, as a
// new version; "Resume" (route 6, seeded with a manual last process and the
// route's RESUME effect, or made here for a database seeded before it)
// resumes the contract in an automatic last process.
func seedActions(tx *gorm.DB) error {
	loc := locale.FromContext(tx.Statement.Context)
	contract, stuck := int32(taskv1.ActionKind_ACTION_KIND_CONTRACT), int32(taskv1.FailureRule_FAILURE_RULE_STUCK)
	changeTariff := &actionDef{Kind: contract, Operation: int32(taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF), OnFailure: stuck}
	resume := &actionDef{Kind: contract, Operation: int32(taskv1.ContractOperation_CONTRACT_OPERATION_RESUME), OnFailure: stuck}
	now := time.Now().UTC().UnixMicro()
	addProcess := func(routeID int64) (int64, error) {
		p := processIDRow{RouteID: routeID}
		err := tx.Table("process_ids").Create(&p).Error
		return p.ID, err
	}
	newVersion := func(r routeRow, def routeDef) error { return newVersionIn(tx, r, def, now) }
	// current pads the actions to one per process
	current := func(r routeRow) (routeDef, error) {
		def, err := currentIn(tx, r)
		def.Actions = append(def.Actions, make([]*actionDef, len(def.Processes)-len(def.Actions))...)
		return def, err
	}
	var r routeRow
	if err := tx.Table("routes").Where("id = 3 AND connection = ?", false).Take(&r).Error; err == nil {
		def, err := current(r)
		if err != nil {
			return err
		}
		id, err := addProcess(r.ID)
		if err != nil {
			return err
		}
		name := locale.Text{RU: "Смена тарифа в договоре", EN: "Tariff change"}.In(loc)
		def.Processes = append(def.Processes, processDef{ID: id, Name: name, GroupID: seedBilling})
		def.Actions = append(def.Actions, changeTariff)
		if err := newVersion(r, def); err != nil {
			return err
		}
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return err
	}
	// a fresh row: GORM adds a filled primary key to the conditions
	r = routeRow{}
	err := tx.Table("routes").Where("id = 6 AND connection = ? AND contract_effect = ?", false, int32(taskv1.ContractEffect_CONTRACT_EFFECT_RESUME)).Take(&r).Error
	switch {
	case err == nil:
		// the seeded route: its last process resumes the contract instead
		// of the route's effect at its end
		def, err := current(r)
		if err != nil || len(def.Processes) == 0 {
			return err
		}
		def.Effect = int32(taskv1.ContractEffect_CONTRACT_EFFECT_NONE)
		def.Actions[len(def.Actions)-1] = resume
		return newVersion(r, def)
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	row := routeRow{Name: locale.Text{RU: "Возобновление", EN: "Resume"}.In(loc), Description: locale.Text{RU: "Приостановленный договор снова обслуживается.", EN: "A suspended contract resumes its service."}.In(loc),
		Version: 1, ContractEffect: int32(taskv1.ContractEffect_CONTRACT_EFFECT_NONE), UpdatedAt: now}
	if err := tx.Table("routes").Create(&row).Error; err != nil {
		return err
	}
	check, err := addProcess(row.ID)
	if err != nil {
		return err
	}
	act, err := addProcess(row.ID)
	if err != nil {
		return err
	}
	def := routeDef{Name: row.Name, Description: row.Description, Effect: row.ContractEffect, Processes: []processDef{
		{ID: check, Name: locale.Text{RU: "Проверка заявки", EN: "Request check"}.In(loc), GroupID: seedSales, SLASeconds: 24 * 3600},
		{ID: act, Name: locale.Text{RU: "Возобновление в биллинге", EN: "Billing resumption"}.In(loc), GroupID: seedBilling},
	}, Actions: []*actionDef{nil, resume}}
	raw, _ := json.Marshal(def)
	return tx.Table("route_versions").Create(&routeVersionRow{RouteID: row.ID, Version: 1, Definition: string(raw), CreatedAt: now}).Error
}

// seedFollowUps adds the "Welcome call" route (one process, Sales) and,
// while route No. 1 has no follow-ups, a new version of it that opens a
// task on that route a week after each connection task closes: the
// operator hears from the new customer while the installation is fresh.
func seedFollowUps(tx *gorm.DB) error {
	loc := locale.FromContext(tx.Statement.Context)
	var first routeRow
	if err := tx.Table("routes").Where("id = ? AND connection = ?", ConnectionRouteID, true).Take(&first).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	def, err := currentIn(tx, first)
	if err != nil || len(def.FollowUps) > 0 {
		return err
	}
	now := time.Now().UTC().UnixMicro()
	title := locale.Text{RU: "Приветственный звонок", EN: "Welcome call"}.In(loc)
	row := routeRow{Name: title, Description: locale.Text{
		RU: "Звонок новому клиенту через неделю после подключения: всё ли работает, понятен ли счёт.",
		EN: "A call to a new customer a week after the connection: does everything work, is the bill clear.",
	}.In(loc), Version: 1, ContractEffect: int32(taskv1.ContractEffect_CONTRACT_EFFECT_NONE), UpdatedAt: now}
	if err := tx.Table("routes").Create(&row).Error; err != nil {
		return err
	}
	call := processIDRow{RouteID: row.ID}
	if err := tx.Table("process_ids").Create(&call).Error; err != nil {
		return err
	}
	welcome := routeDef{Name: row.Name, Description: row.Description, Effect: row.ContractEffect, Processes: []processDef{
		{ID: call.ID, Name: locale.Text{RU: "Звонок клиенту", EN: "Call the customer"}.In(loc), GroupID: seedSales, SLASeconds: 2 * 24 * 3600},
	}}
	raw, _ := json.Marshal(welcome)
	if err := tx.Table("route_versions").Create(&routeVersionRow{RouteID: row.ID, Version: 1, Definition: string(raw), CreatedAt: now}).Error; err != nil {
		return err
	}
	def.FollowUps = []followUpDef{{RouteID: row.ID, AfterSeconds: 7 * 24 * 3600, Title: title, Description: locale.Text{
		RU: "Узнайте, всё ли работает после подключения и понятен ли первый счёт.",
		EN: "Ask whether everything works since the connection and whether the first bill is clear.",
	}.In(loc)}}
	return newVersionIn(tx, first, def, now)
}

// seedVisits makes the default routes' visit processes require a visit,
// as a new version of each route that still has them: "Installation" of
// route No. 1 and "Field repair" of route 2 (by their seeded ids).
func seedVisits(tx *gorm.DB) error {
	now := time.Now().UTC().UnixMicro()
	for _, p := range []struct{ route, process int64 }{{1, 3}, {2, 7}} {
		var r routeRow
		if err := tx.Table("routes").Where("id = ?", p.route).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		} else if err != nil {
			return err
		}
		def, err := currentIn(tx, r)
		if err != nil {
			return err
		}
		_, i, ok := def.process(p.process)
		if !ok || def.action(i) != nil {
			continue
		}
		def.Processes[i].Visit = true
		if err := newVersionIn(tx, r, def, now); err != nil {
			return err
		}
	}
	return nil
}

// checkAction validates a process's kind and action: nil for a manual
// process. count is the route's number of processes (a failure process
// named by its place must be one of them).
func checkAction(p *taskv1.Process, field string, count int, groupExists func(int64) bool, bad func(field, format string, args ...any)) *actionDef {
	switch p.GetKind() {
	case taskv1.ProcessKind_PROCESS_KIND_UNSPECIFIED, taskv1.ProcessKind_PROCESS_KIND_MANUAL:
		return nil
	}
	in := p.GetAction()
	field += ".action"
	if in == nil {
		bad(field, "an automatic process needs an action")
		return nil
	}
	a := &actionDef{Kind: int32(in.GetKind()), OnFailure: int32(in.GetOnFailure())}
	switch in.GetKind() {
	case taskv1.ActionKind_ACTION_KIND_CONTRACT:
		a.Operation = int32(in.GetContractOperation())
		if in.GetContractOperation() == taskv1.ContractOperation_CONTRACT_OPERATION_UNSPECIFIED {
			bad(field+".contractOperation", "say what the process does to the contract: activate, suspend, resume, terminate or change the tariff")
		}
	case taskv1.ActionKind_ACTION_KIND_WAIT:
		a.WaitSeconds = in.GetWaitSeconds()
		if in.GetWaitUntil() != nil {
			a.WaitUntil = in.GetWaitUntil().AsTime().UnixMicro()
		}
		if (a.WaitSeconds > 0) == (a.WaitUntil != 0) {
			bad(field+".waitSeconds", "a wait lasts a duration, or until a time: give one of them")
		}
	case taskv1.ActionKind_ACTION_KIND_NOTIFY_GROUP:
		a.GroupID, a.Message = in.GetGroupId(), strings.TrimSpace(in.GetMessage())
		if a.GroupID <= 0 || !groupExists(a.GroupID) {
			bad(field+".groupId", "group %d does not exist", a.GroupID)
		}
		if a.Message == "" {
			bad(field+".message", "say what the group is told")
		}
	case taskv1.ActionKind_ACTION_KIND_WEBHOOK:
		a.URL = strings.TrimSpace(in.GetWebhookUrl())
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(field+".webhookUrl", "the webhook is an http or https address")
		}
	default:
		bad(field+".kind", "the action is CONTRACT, WAIT, NOTIFY_GROUP or WEBHOOK")
	}
	if in.GetOnFailure() == taskv1.FailureRule_FAILURE_RULE_GO_TO_PROCESS {
		a.FailureProcessID = in.GetFailureProcessId()
		if a.FailureProcessID == 0 || a.FailureProcessID < 0 && int(-a.FailureProcessID) > count {
			bad(field+".failureProcessId", "say which process a failed action goes to")
		}
	}
	return a
}

func (s *Server) ListRoutes(ctx context.Context, _ *taskv1.ListRoutesRequest) (*taskv1.ListRoutesResponse, error) {
	routes, err := s.routes.list(ctx)
	if err != nil {
		return nil, err
	}
	return &taskv1.ListRoutesResponse{Routes: routes}, nil
}

func (s *Server) GetRoute(ctx context.Context, req *taskv1.GetRouteRequest) (*taskv1.GetRouteResponse, error) {
	r, def, err := s.routes.current(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &taskv1.GetRouteResponse{Route: def.toProto(r, r.Version)}, nil
}

func (s *Server) CreateRoute(ctx context.Context, req *taskv1.CreateRouteRequest) (*taskv1.CreateRouteResponse, error) {
	exists, err := s.groups(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.routes.save(ctx, 0, 0, req.GetRoute(), exists)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "route.create", "route:"+strconv.FormatInt(r.GetId(), 10), "route_named", "name", r.GetName())
	return &taskv1.CreateRouteResponse{Route: r}, nil
}

func (s *Server) UpdateRoute(ctx context.Context, req *taskv1.UpdateRouteRequest) (*taskv1.UpdateRouteResponse, error) {
	if req.GetRoute() == nil {
		return nil, fault.Field("route", "send the route to save")
	}
	id, err := fault.UpdatedID("route", req.GetId(), req.GetRoute().GetId())
	if err != nil {
		return nil, err
	}
	req.Route.Id = id
	exists, err := s.groups(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.routes.save(ctx, id, req.GetExpectedVersion(), req.GetRoute(), exists)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "route.update", "route:"+strconv.FormatInt(r.GetId(), 10), "route_version", "name", r.GetName(), "version", strconv.Itoa(int(r.GetVersion())))
	return &taskv1.UpdateRouteResponse{Route: r}, nil
}

// groups answers which work groups exist, for route checks.
func (s *Server) groups(ctx context.Context) (func(int64) bool, error) {
	resp, err := s.identity.ListGroups(auth.AsService(ctx), &identityv1.ListGroupsRequest{})
	if err != nil {
		return nil, err
	}
	ids := map[int64]bool{}
	for _, g := range resp.GetGroups() {
		ids[g.GetId()] = true
	}
	return func(id int64) bool { return ids[id] }, nil
}

// processNamed finds a process in the newest version of its route that
// has it: a process taken out of a route keeps the name it last had.
func (s *routeStore) processNamed(ctx context.Context, id int64) (processDef, int64, routeDef, error) {
	route, ok := s.owners.Load(id)
	if !ok {
		var owner processIDRow
		if err := s.db.WithContext(ctx).Table("process_ids").Take(&owner, id).Error; err != nil {
			return processDef{}, 0, routeDef{}, fmt.Errorf("process %d: %w", id, err)
		}
		route, _ = s.owners.LoadOrStore(id, owner.RouteID)
	}
	var r routeRow
	if err := s.db.WithContext(ctx).Take(&r, route.(int64)).Error; err != nil {
		return processDef{}, 0, routeDef{}, fmt.Errorf("route %d: %w", route, err)
	}
	for v := r.Version; v > 0; v-- {
		def, err := s.definition(ctx, r.ID, v)
		if err != nil {
			return processDef{}, 0, routeDef{}, err
		}
		if p, _, ok := def.process(id); ok {
			return p, r.ID, def, nil
		}
	}
	return processDef{}, 0, routeDef{}, fmt.Errorf("process %d is in no version of route %d", id, r.ID)
}
