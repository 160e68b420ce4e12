package task

import (
	"cmp"
	"context"
	"slices"
	"time"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// ReportServer implements taskv1.ReportServiceServer: the reports are
// computed from the tasks' rows and steps, read by time through their
// indexes (0020_report_indexes), and folded in one pass.
type ReportServer struct {
	taskv1.UnimplementedReportServiceServer
	tasks *Server
	zone  string
}

// NewReportServer reports on s's tasks; zone is the deployment's.
func NewReportServer(s *Server, zone string) *ReportServer {
	return &ReportServer{tasks: s, zone: cmp.Or(zone, "Europe/Moscow")}
}

// maxReportDays bounds a report's period.
const maxReportDays = 366

// moves are the steps that put a task in a process or take it out.
var moves = []int32{
	int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED), int32(taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED),
	int32(taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED), int32(taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED),
	int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED), int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED),
	int32(taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED),
}

type reportTask struct {
	ID, RouteID, CreatedAt, ClosedAt int64
	RouteVersion, Kind, State        int32
}

type reportEvent struct {
	TaskID, Sequence, At, ProcessID int64
	Kind                            int32
	Resolution                      string
}

func (r *ReportServer) GetTaskReport(ctx context.Context, req *taskv1.GetTaskReportRequest) (*taskv1.GetTaskReportResponse, error) {
	zone := cmp.Or(req.GetTimeZone(), r.zone)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fault.Field("timeZone", "time zone %q is unknown", zone)
	}
	from, err := time.ParseInLocation(time.DateOnly, req.GetFrom(), loc)
	if err != nil {
		return nil, fault.Field("from", "the first day is a date, YYYY-MM-DD")
	}
	last, err := time.ParseInLocation(time.DateOnly, req.GetTo(), loc)
	if err != nil {
		return nil, fault.Field("to", "the last day is a date, YYYY-MM-DD")
	}
	to := last.AddDate(0, 0, 1)
	days := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		days++
	}
	switch {
	case days <= 0:
		return nil, fault.Field("to", "the last day comes before the first")
	case days > maxReportDays:
		return nil, fault.Field("to", "a report covers %d days at the most", maxReportDays)
	}
	lo, hi := from.UnixMicro(), to.UnixMicro()

	// the tasks open at some moment of the period
	q := r.tasks.store.db.WithContext(ctx).Table("tasks").
		Select("id, route_id, route_version, kind, state, created_at, closed_at").
		Where("created_at < ? AND (closed_at = 0 OR closed_at >= ?)", hi, lo)
	if id := req.GetRouteId(); id > 0 {
		q = q.Where("route_id = ?", id)
	}
	var tasks []reportTask
	if err := q.Find(&tasks).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]*reportTask, len(tasks))
	for i := range tasks {
		byID[tasks[i].ID] = &tasks[i]
	}

	resp := &taskv1.GetTaskReportResponse{TimeZone: zone}
	resp.Days = dayCounts(tasks, from, days)

	var events []reportEvent
	if err := r.tasks.store.db.WithContext(ctx).Table("task_events").
		Select("task_id, sequence, at, process_id, kind, resolution").
		Where("at >= ? AND at < ? AND kind IN ?", lo, hi, moves).
		Order("task_id, sequence").Find(&events).Error; err != nil {
		return nil, err
	}
	procs, err := r.processes(ctx, events, byID, req.GetGroupId())
	if err != nil {
		return nil, err
	}
	resp.Processes = procs
	resp.Funnel = funnel(tasks, events, lo, hi)
	return resp, nil
}

// dayCounts are the opened, closed and cancelled tasks of each day and the
// backlog at its end: the tasks opened before the end less those closed
// before it (a task closed before the period adds to neither).
func dayCounts(tasks []reportTask, from time.Time, days int) []*taskv1.ReportDay {
	out := make([]*taskv1.ReportDay, days)
	ends := make([]int64, days)
	d := from
	for i := range out {
		out[i] = &taskv1.ReportDay{Date: d.Format(time.DateOnly)}
		d = d.AddDate(0, 0, 1)
		ends[i] = d.UnixMicro()
	}
	// day is the day an instant falls in: -1 before the period, days after
	day := func(at int64) int {
		if at < from.UnixMicro() {
			return -1
		}
		i, _ := slices.BinarySearch(ends, at+1)
		return i
	}
	var before int32
	for _, t := range tasks {
		if i := day(t.CreatedAt); i < 0 {
			before++
		} else if i < days {
			out[i].Opened++
		}
		if t.ClosedAt == 0 {
			continue
		}
		if i := day(t.ClosedAt); i >= 0 && i < days {
			if t.State == int32(taskv1.TaskState_TASK_STATE_CANCELLED) {
				out[i].Cancelled++
			} else {
				out[i].Closed++
			}
		}
	}
	backlog := before
	for _, d := range out {
		backlog += d.Opened - d.Closed - d.Cancelled
		d.Backlog = backlog
	}
	return out
}

type processKey struct{ route, process int64 }

// processes folds the period's steps into each process's entries, breaches
// and the lengths of the stays that ended.
func (r *ReportServer) processes(ctx context.Context, events []reportEvent, tasks map[int64]*reportTask, group int64) ([]*taskv1.ProcessReport, error) {
	type acc struct {
		rep   *taskv1.ProcessReport
		stays []int64
	}
	all := map[processKey]*acc{}
	get := func(t *reportTask, processID int64) (*acc, error) {
		k := processKey{t.RouteID, processID}
		if a, ok := all[k]; ok {
			return a, nil
		}
		def, err := r.tasks.routes.definition(ctx, t.RouteID, t.RouteVersion)
		if err != nil {
			return nil, err
		}
		p, _, ok := def.process(processID)
		if !ok {
			return nil, nil
		}
		a := &acc{rep: &taskv1.ProcessReport{RouteId: t.RouteID, RouteName: def.Name, ProcessId: p.ID, ProcessName: p.Name, GroupId: p.GroupID}}
		if p.SLASeconds == 0 || p.WaitsForCustomer {
			a.rep.WithSla = -1 // marks a process without an SLA; cleared below
		}
		all[k] = a
		return a, nil
	}
	var entered *reportEvent
	for i := range events {
		e := &events[i]
		t := tasks[e.TaskID]
		if t == nil {
			continue // another route's, or a task that was not open in the period
		}
		if entered != nil && entered.TaskID != e.TaskID {
			entered = nil
		}
		if e.Kind == int32(taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED) {
			if a, err := get(t, e.ProcessID); err != nil {
				return nil, err
			} else if a != nil {
				a.rep.Breached++
			}
			continue
		}
		if entered != nil {
			if a, err := get(t, entered.ProcessID); err != nil {
				return nil, err
			} else if a != nil {
				a.rep.Left++
				a.stays = append(a.stays, e.At-entered.At)
			}
			entered = nil
		}
		if e.ProcessID != 0 && e.Kind != int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED) && e.Kind != int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED) {
			a, err := get(t, e.ProcessID)
			if err != nil {
				return nil, err
			}
			if a != nil {
				a.rep.Entered++
				if a.rep.WithSla >= 0 {
					a.rep.WithSla++
				}
			}
			entered = e
		}
	}
	out := make([]*taskv1.ProcessReport, 0, len(all))
	for _, a := range all {
		if group > 0 && a.rep.GroupId != group {
			continue
		}
		a.rep.WithSla = max(a.rep.WithSla, 0)
		if len(a.stays) > 0 {
			slices.Sort(a.stays)
			a.rep.MedianSeconds = percentile(a.stays, 50) / 1e6
			a.rep.P90Seconds = percentile(a.stays, 90) / 1e6
		}
		out = append(out, a.rep)
	}
	slices.SortFunc(out, func(a, b *taskv1.ProcessReport) int {
		return cmp.Or(cmp.Compare(a.RouteId, b.RouteId), cmp.Compare(a.ProcessId, b.ProcessId))
	})
	return out, nil
}

// percentile is the p-th percentile of sorted values, nearest rank.
func percentile(sorted []int64, p int) int64 {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// funnel follows the connections opened in the period to their ends.
func funnel(tasks []reportTask, events []reportEvent, lo, hi int64) *taskv1.ConnectionFunnel {
	f := &taskv1.ConnectionFunnel{}
	cancelledBy := map[string]int32{}
	resolution := map[int64]string{}
	for _, e := range events {
		if e.Kind == int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED) || e.Kind == int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED) {
			resolution[e.TaskID] = e.Resolution
		}
	}
	var leads []int64
	for _, t := range tasks {
		if t.Kind != int32(taskv1.TaskKind_TASK_KIND_CONNECTION) || t.CreatedAt < lo || t.CreatedAt >= hi {
			continue
		}
		f.Opened++
		switch taskv1.TaskState(t.State) {
		case taskv1.TaskState_TASK_STATE_CLOSED:
			f.Activated++
			leads = append(leads, t.ClosedAt-t.CreatedAt)
		case taskv1.TaskState_TASK_STATE_CANCELLED:
			f.Cancelled++
			cancelledBy[cmp.Or(resolution[t.ID], "")]++
		default:
			f.InProgress++
		}
	}
	for res, n := range cancelledBy {
		f.CancelledBy = append(f.CancelledBy, &taskv1.ResolutionCount{Resolution: res, Count: n})
	}
	slices.SortFunc(f.CancelledBy, func(a, b *taskv1.ResolutionCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Resolution, b.Resolution))
	})
	if len(leads) > 0 {
		slices.Sort(leads)
		f.MedianLeadSeconds = percentile(leads, 50) / 1e6
	}
	return f
}
