package task

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// VisitConfig is the visits' configuration.
type VisitConfig struct {
	// TimeZone of the groups that have no schedule of their own.
	TimeZone string `env:"CRM_TIME_ZONE" envDefault:"Europe/Moscow"`
	// RemindEvening is when the technicians are reminded the evening
	// before a visit ("18:00", in the group's time zone); empty: never.
	RemindEvening string `env:"CRM_VISIT_REMIND_EVENING" envDefault:"18:00"`
	// RemindBefore is how long before the window they are reminded again;
	// 0: never.
	RemindBefore time.Duration `env:"CRM_VISIT_REMIND_BEFORE" envDefault:"1h"`
}

// The longest window a visit is booked for, and the longest span a visit
// list covers.
const (
	maxVisitWindow = 12 * time.Hour
	maxVisitSpan   = 42 * 24 * time.Hour
	maxVisitList   = 2000
)

// VisitServer implements taskv1.VisitServiceServer over the tasks s keeps.
type VisitServer struct {
	taskv1.UnimplementedVisitServiceServer
	tasks *Server
	store *store
	cfg   VisitConfig
	now   func() time.Time
}

// NewVisitServer serves the visits of the tasks s keeps.
func NewVisitServer(s *Server, cfg VisitConfig) *VisitServer {
	if cfg.TimeZone == "" {
		cfg.TimeZone = "Europe/Moscow"
	}
	return &VisitServer{tasks: s, store: s.store, cfg: cfg, now: time.Now}
}

// names maps user ids to display names.
func (v *VisitServer) names(ctx context.Context, rows ...*visitRow) map[int64]string {
	out := map[int64]string{}
	for _, r := range rows {
		for _, id := range splitIDs(r.TechnicianIDs) {
			if _, ok := out[id]; !ok {
				out[id] = v.tasks.userName(ctx, id)
			}
		}
	}
	return out
}

func (v *VisitServer) GetVisit(ctx context.Context, req *taskv1.GetVisitRequest) (*taskv1.GetVisitResponse, error) {
	row, err := v.store.get(ctx, req.GetTaskId())
	if err != nil {
		return nil, err
	}
	b, err := v.store.activeVisit(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fault.New(fault.NotFound, "task %s has no visit booked", row.Number)
	}
	return &taskv1.GetVisitResponse{Visit: b.toProto(v.names(ctx, b))}, nil
}

// visitProcess is the process a task is in, when it waits for a visit.
func (v *VisitServer) visitProcess(ctx context.Context, row *taskRow, seen int64) (processDef, error) {
	if row.State != int32(taskv1.TaskState_TASK_STATE_OPEN) {
		return processDef{}, fault.New(fault.FailedPrecondition, "task %s is closed", row.Number)
	}
	if seen != 0 && seen != row.ProcessID {
		return processDef{}, fault.New(fault.Aborted, "task %s has moved on to %q meanwhile; reload it", row.Number, row.ProcessName).Because("TASK_MOVED", nil)
	}
	def, err := v.tasks.routes.definition(ctx, row.RouteID, row.RouteVersion)
	if err != nil {
		return processDef{}, err
	}
	p, _, ok := def.process(row.ProcessID)
	if !ok || !p.Visit {
		return processDef{}, fault.New(fault.FailedPrecondition, "task %s is in %q, which does not wait for a visit", row.Number, row.ProcessName).Because("VISIT_REFUSED", nil)
	}
	return p, nil
}

func (v *VisitServer) BookVisit(ctx context.Context, req *taskv1.BookVisitRequest) (*taskv1.BookVisitResponse, error) {
	row, err := v.store.get(ctx, req.GetTaskId())
	if err != nil {
		return nil, err
	}
	p, err := v.visitProcess(ctx, row, req.GetProcessId())
	if err != nil {
		return nil, err
	}
	if req.GetStartTime() == nil || req.GetEndTime() == nil {
		return nil, fault.Field("startTime", "a booking needs the window's start and end")
	}
	start, end := req.GetStartTime().AsTime(), req.GetEndTime().AsTime()
	switch {
	case !end.After(start):
		return nil, fault.Field("endTime", "the window ends after it starts")
	case end.Sub(start) > maxVisitWindow:
		return nil, fault.Field("endTime", "a window is at most %d hours long", int(maxVisitWindow.Hours()))
	case start.Before(v.now()):
		return nil, fault.Field("startTime", "the window starts in the past")
	}
	who := actor(ctx)
	if req.GetOverride() && !who.CanManage {
		return nil, fault.New(fault.PermissionDenied, "only supervisors may book outside working time or over a technician's daily limit")
	}
	sc, err := v.store.schedule(ctx, p.GroupID, v.cfg.TimeZone)
	if err != nil {
		return nil, err
	}
	from, to := sc.dayBounds(start)
	for i, tech := range req.GetTechnicianIds() {
		field := "technicianIds[" + strconv.Itoa(i) + "]"
		m, err := v.tasks.identity.CheckMembership(auth.AsService(ctx), &identityv1.CheckMembershipRequest{UserId: tech, GroupId: p.GroupID})
		if err != nil {
			return nil, err
		}
		if !m.GetMember() || !m.GetActive() {
			return nil, fault.Field(field, "user %d is not an active member of the group responsible for %q", tech, p.Name)
		}
		if why := sc.outside(tech, start, end); why != "" && !req.GetOverride() {
			return nil, fault.New(fault.Invalid, "%s is outside working time: %s", v.tasks.userName(ctx, tech), why).Because("OUTSIDE_WORKING_TIME", nil)
		}
		if _, capacity, _ := sc.of(tech); capacity > 0 && !req.GetOverride() {
			n, err := v.store.bookedOn(ctx, tech, row.ID, micros.Of(from), micros.Of(to))
			if err != nil {
				return nil, err
			}
			if n >= int64(capacity) {
				return nil, fault.New(fault.Invalid, "%s already has %d visits on %s, the most a day", v.tasks.userName(ctx, tech), n, from.Format(time.DateOnly)).Because("OVER_CAPACITY", nil)
			}
		}
		other, err := v.store.overlapping(ctx, tech, row.ID, micros.Of(start), micros.Of(end))
		if err != nil {
			return nil, err
		}
		if other != nil {
			return nil, clash(tech, *other)
		}
	}
	cmd := taskflow.Book{
		Actor: who, ProcessID: row.ProcessID, Start: start, End: end, Technicians: req.GetTechnicianIds(),
		Address: strings.TrimSpace(req.GetAddress()), Note: req.GetNote(), RemindAt: v.reminders(sc, start),
	}
	v.fromContract(ctx, row, &cmd)
	if _, err := v.tasks.command(ctx, row.ID, taskflow.UpdateBookVisit, cmd); err != nil {
		return nil, err
	}
	b, err := v.latest(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	return &taskv1.BookVisitResponse{Visit: b}, nil
}

// fromContract fills what a booking takes from the task's contract: its
// address (unless given), its tariff's name and the customer's phone.
// What cannot be read is left out; the booking does not wait for it.
func (v *VisitServer) fromContract(ctx context.Context, row *taskRow, cmd *taskflow.Book) {
	c, err := v.tasks.contract(ctx, row.ContractID)
	if err != nil {
		return
	}
	if cmd.Address == "" {
		cmd.Address = strings.Join(strings.Fields(c.GetAddress()), " ")
	}
	if t, err := v.tasks.contracts.GetTariff(ctx, &contractv1.GetTariffRequest{Id: c.GetTariffId()}); err == nil {
		cmd.TariffName = t.GetTariff().GetName()
	}
	if cu, err := v.tasks.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{Id: c.GetCustomerId()}); err == nil && len(cu.GetCustomer().GetPhones()) > 0 {
		cmd.CustomerPhone = cu.GetCustomer().GetPhones()[0].GetNumber()
	}
	if r := []rune(cmd.Address); len(r) > 500 {
		cmd.Address = string(r[:500])
	}
}

// reminders are the times the technicians are reminded of a visit
// starting at start: the evening before and a while before, those still
// ahead, earliest first.
func (v *VisitServer) reminders(sc *schedule, start time.Time) []time.Time {
	now := v.now()
	var out []time.Time
	if at, err := time.Parse("15:04", v.cfg.RemindEvening); err == nil {
		day, _ := sc.dayBounds(start)
		eve := day.AddDate(0, 0, -1).Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
		if eve.After(now) && eve.Before(start) {
			out = append(out, eve.UTC())
		}
	}
	if v.cfg.RemindBefore > 0 {
		if at := start.Add(-v.cfg.RemindBefore); at.After(now) {
			out = append(out, at.UTC())
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.Compact(out)
}

func (v *VisitServer) CancelVisit(ctx context.Context, req *taskv1.CancelVisitRequest) (*taskv1.CancelVisitResponse, error) {
	if err := requireText("reason", req.GetReason()); err != nil {
		return nil, err
	}
	if _, err := v.tasks.command(ctx, req.GetTaskId(), taskflow.UpdateCancelVisit, taskflow.CancelVisit{Actor: actor(ctx), Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	b, err := v.latest(ctx, req.GetTaskId())
	if err != nil {
		return nil, err
	}
	return &taskv1.CancelVisitResponse{Visit: b}, nil
}

func (v *VisitServer) ReportVisit(ctx context.Context, req *taskv1.ReportVisitRequest) (*taskv1.ReportVisitResponse, error) {
	if req.GetReport() == taskv1.VisitReport_VISIT_REPORT_CANT_DO {
		if err := requireText("comment", req.GetComment()); err != nil {
			return nil, err
		}
	}
	cmd := taskflow.ReportVisit{Actor: actor(ctx), Report: req.GetReport(), Comment: req.GetComment()}
	if _, err := v.tasks.command(ctx, req.GetTaskId(), taskflow.UpdateReportVisit, cmd); err != nil {
		return nil, err
	}
	b, err := v.latest(ctx, req.GetTaskId())
	if err != nil {
		return nil, err
	}
	return &taskv1.ReportVisitResponse{Visit: b}, nil
}

// latest is the task's last booking as the read model has it.
func (v *VisitServer) latest(ctx context.Context, taskID int64) (*taskv1.Visit, error) {
	b, err := v.store.latestVisit(ctx, taskID)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fault.New(fault.NotFound, "task %d has no visit", taskID)
	}
	return b.toProto(v.names(ctx, b)), nil
}

func (v *VisitServer) ListVisits(ctx context.Context, req *taskv1.ListVisitsRequest) (*taskv1.ListVisitsResponse, error) {
	f := visitFilter{GroupID: req.GetGroupId(), IncludeCancelled: req.GetIncludeCancelled(), Limit: maxVisitList}
	switch t := strings.TrimSpace(req.GetTechnician()); t {
	case "":
	case "me":
		f.TechnicianID = actor(ctx).UserID
	default:
		id, err := strconv.ParseInt(t, 10, 64)
		if err != nil || id <= 0 {
			return nil, fault.Field("technician", "a technician is a user id or \"me\"")
		}
		f.TechnicianID = id
	}
	if f.GroupID == 0 && f.TechnicianID == 0 {
		return nil, fault.Field("groupId", "name a group or a technician")
	}
	if req.GetFrom() == nil || req.GetTo() == nil {
		return nil, fault.Field("from", "a visit list covers a span: from and to")
	}
	from, to := req.GetFrom().AsTime(), req.GetTo().AsTime()
	if !to.After(from) || to.Sub(from) > maxVisitSpan {
		return nil, fault.Field("to", "to comes after from, at most %d days later", int(maxVisitSpan.Hours()/24))
	}
	f.From, f.To = micros.Of(from), micros.Of(to)
	rows, err := v.store.visits(ctx, f)
	if err != nil {
		return nil, err
	}
	ptrs := make([]*visitRow, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	names := v.names(ctx, ptrs...)
	out := &taskv1.ListVisitsResponse{}
	for _, r := range ptrs {
		out.Visits = append(out.Visits, r.toProto(names))
	}
	return out, nil
}

func (v *VisitServer) GetGroupSchedule(ctx context.Context, req *taskv1.GetGroupScheduleRequest) (*taskv1.GetGroupScheduleResponse, error) {
	if err := v.groupExists(ctx, req.GetGroupId()); err != nil {
		return nil, err
	}
	sc, err := v.store.schedule(ctx, req.GetGroupId(), v.cfg.TimeZone)
	if err != nil {
		return nil, err
	}
	return &taskv1.GetGroupScheduleResponse{Schedule: sc.toProto(v.techNames(ctx, sc))}, nil
}

func (v *VisitServer) UpdateGroupSchedule(ctx context.Context, req *taskv1.UpdateGroupScheduleRequest) (*taskv1.UpdateGroupScheduleResponse, error) {
	if err := v.groupExists(ctx, req.GetGroupId()); err != nil {
		return nil, err
	}
	row, err := scheduleFromProto(req.GetGroupId(), req.GetSchedule(), v.cfg.TimeZone)
	if err != nil {
		return nil, err
	}
	saved, err := v.store.saveSchedule(ctx, row, req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	sc, err := saved.schedule()
	if err != nil {
		return nil, err
	}
	v.tasks.audit(ctx, "schedule.update", "group:"+strconv.FormatInt(req.GetGroupId(), 10), "group_schedule", "version", strconv.Itoa(int(saved.Version)))
	return &taskv1.UpdateGroupScheduleResponse{Schedule: sc.toProto(v.techNames(ctx, sc))}, nil
}

func (v *VisitServer) groupExists(ctx context.Context, id int64) error {
	exists, err := v.tasks.groups(ctx)
	if err != nil {
		return err
	}
	if !exists(id) {
		return fault.New(fault.NotFound, "group %d does not exist", id)
	}
	return nil
}

func (v *VisitServer) techNames(ctx context.Context, sc *schedule) map[int64]string {
	out := map[int64]string{}
	for _, t := range sc.techs {
		out[t.UserID] = v.tasks.userName(ctx, t.UserID)
	}
	return out
}
