package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"gorm.io/gorm"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
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
}

type processDef struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	GroupID    int64  `json:"groupId"`
	SLASeconds int64  `json:"slaSeconds,omitempty"`
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
		Connection: r.Connection, ContractEffect: taskv1.ContractEffect(d.Effect), UpdateTime: micros(r.UpdatedAt),
	}
	for i, p := range d.Processes {
		out.Processes = append(out.Processes, &taskv1.Process{Id: p.ID, Name: p.Name, GroupId: p.GroupID, SlaSeconds: p.SLASeconds, Position: int32(i + 1)})
	}
	out.CloseRules = append(out.CloseRules, &taskv1.CloseRule{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_ROUTE_COMPLETED, Outcome: taskv1.TaskState_TASK_STATE_CLOSED})
	for _, c := range d.Rules {
		out.CloseRules = append(out.CloseRules, &taskv1.CloseRule{
			Kind: taskv1.CloseRuleKind(c.Kind), ProcessId: c.ProcessID, IdleSeconds: c.IdleSeconds,
			Resolution: c.Resolution, Outcome: taskv1.TaskState(c.Outcome),
		})
	}
	return out
}

// routeStore keeps routes and their versions.
type routeStore struct {
	db    *gorm.DB
	clock func() int64
	// versions caches route versions, which never change once written:
	// every step of every task reads its version.
	versions sync.Map // routeVersionKey → routeDef
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
		def, err := checkRoute(in, r.Connection, known, groupExists)
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

// checkRoute validates an edited route. known are the process ids this
// route already has; a process with id 0 is new. A close rule names a
// process by id, or a new process by its position as a negative number.
func checkRoute(in *taskv1.Route, connection bool, known []int64, groupExists func(int64) bool) (routeDef, error) {
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
		d := processDef{ID: p.GetId(), Name: strings.TrimSpace(p.GetName()), GroupID: p.GetGroupId(), SLASeconds: p.GetSlaSeconds()}
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
		def.Processes = append(def.Processes, d)
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
	if len(v) > 0 {
		return def, &fault.Error{Kind: fault.Invalid, Message: v[0].Description, Violations: v}
	}
	return def, nil
}
