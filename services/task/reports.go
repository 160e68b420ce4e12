package task

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

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
	q, err := newReportQuery(from, last, req.GetRouteId())
	if err != nil {
		return nil, err
	}
	// the three parts read apart, each on a connection of its own
	resp := &taskv1.GetTaskReportResponse{TimeZone: zone}
	g, gctx := errgroup.WithContext(ctx)
	db := r.tasks.store.db.WithContext(gctx)
	g.Go(func() (err error) { resp.Days, err = r.dayCounts(db, q); return err })
	g.Go(func() (err error) { resp.Processes, err = r.processes(gctx, db, q, req.GetGroupId()); return err })
	g.Go(func() (err error) { resp.Funnel, err = r.funnel(db, q); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return resp, nil
}

// reportQuery is a report's period cut into its days (days[i] is the
// start of day i in the report's zone, the last the end of the period) and
// its route (0: every route). Its statements count in the database, through
// covering indexes (0022_report_stays): a year's report reads millions of
// steps and sends back a few thousand counts.
type reportQuery struct {
	days  []int64
	route int64
	loc   *time.Location
	// bucket is the span the statements count in: the widest every day's
	// start is a multiple of.
	bucket int64
}

// newReportQuery cuts the days from first to last, both in the report's
// zone, refusing a period backwards or longer than maxReportDays.
func newReportQuery(first, last time.Time, route int64) (reportQuery, error) {
	q := reportQuery{route: route, loc: first.Location()}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if len(q.days) == maxReportDays {
			return q, fault.Field("to", "a report covers %d days at the most", maxReportDays)
		}
		q.days = append(q.days, d.UnixMicro())
	}
	if len(q.days) == 0 {
		return q, fault.Field("to", "the last day comes before the first")
	}
	q.days = append(q.days, last.AddDate(0, 0, 1).UnixMicro())
	// A day of any zone starts on a quarter hour (since 1972), so the days
	// are counted in quarter hours, and in finer spans should a zone ever
	// do otherwise.
	q.bucket = int64(15 * time.Minute / time.Microsecond)
	for _, d := range q.days {
		for d%q.bucket != 0 {
			q.bucket, d = d%q.bucket, q.bucket
		}
	}
	return q, nil
}

func (q reportQuery) lo() int64 { return q.days[0] }
func (q reportQuery) hi() int64 { return q.days[len(q.days)-1] }

// statements are the SQL a report is read with (the bare queries its
// benchmark races). Their values are the query's own integers, written
// out, so that the plan sees how few rows the period holds.
func (q reportQuery) statements() []string {
	return []string{q.opened(), q.ended(), q.before(), q.entries(), q.breaches(), q.connections(), q.cancelReasons()}
}

// day is the day a bucket falls in.
func (q reportQuery) day(bucket int64) int {
	i, found := slices.BinarySearch(q.days, bucket*q.bucket)
	if !found {
		i--
	}
	return i
}

// onRoute limits the tasks to the query's route.
func (q reportQuery) onRoute(column string) string {
	if q.route == 0 {
		return ""
	}
	return fmt.Sprintf(" AND %s = %d", column, q.route)
}

// onRouteProcess limits steps to the processes of the query's route.
func (q reportQuery) onRouteProcess() string {
	if q.route == 0 {
		return ""
	}
	return fmt.Sprintf(" AND process_id IN (SELECT id FROM process_ids WHERE route_id = %d)", q.route)
}

// opened counts the tasks opened in each bucket.
func (q reportQuery) opened() string {
	return fmt.Sprintf(`SELECT created_at / %d AS b, count(*) AS n FROM tasks WHERE created_at >= %d AND created_at < %d%s GROUP BY b`,
		q.bucket, q.lo(), q.hi(), q.onRoute("route_id"))
}

// ended counts the tasks that ended in each bucket, by how.
func (q reportQuery) ended() string {
	return fmt.Sprintf(`SELECT closed_at / %d AS b, state, count(*) AS n FROM tasks WHERE closed_at >= %d AND closed_at < %d%s GROUP BY b, state`,
		q.bucket, q.lo(), q.hi(), q.onRoute("route_id"))
}

// before counts the tasks open when the period starts: those still open
// and those that ended after it started, each read off the end index from
// where the period starts, not the older part of the table.
func (q reportQuery) before() string {
	return fmt.Sprintf(`SELECT (SELECT count(*) FROM tasks WHERE closed_at = 0 AND created_at < %[1]d%[2]s)
		+ (SELECT count(*) FROM tasks WHERE closed_at >= %[1]d AND created_at < %[1]d%[2]s) AS n`, q.lo(), q.onRoute("route_id"))
}

// entries counts the period's entries into each process by the length of
// the stay each began, in whole minutes; none for a stay that goes on past
// the period.
func (q reportQuery) entries() string {
	return fmt.Sprintf(`SELECT process_id, CASE WHEN left_at > 0 AND left_at < %d THEN (left_at - at) / %d END AS minute, count(*) AS n
		FROM task_events WHERE %s AND at >= %d AND at < %d%s GROUP BY process_id, minute`,
		q.hi(), time.Minute.Microseconds(), entrySteps, q.lo(), q.hi(), q.onRouteProcess())
}

// breaches counts the period's SLA breaches in each process.
func (q reportQuery) breaches() string {
	return fmt.Sprintf(`SELECT process_id, count(*) AS n FROM task_events WHERE kind = %d AND at >= %d AND at < %d%s GROUP BY process_id`,
		taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED, q.lo(), q.hi(), q.onRouteProcess())
}

// connections counts the period's connections by state, the activated
// ones by their lead time in whole minutes.
func (q reportQuery) connections() string {
	return fmt.Sprintf(`SELECT state, CASE WHEN state = %d THEN (closed_at - created_at) / %d END AS minute, count(*) AS n
		FROM tasks WHERE created_at >= %d AND created_at < %d AND kind = %d%s GROUP BY state, minute`,
		taskv1.TaskState_TASK_STATE_CLOSED, time.Minute.Microseconds(), q.lo(), q.hi(), taskv1.TaskKind_TASK_KIND_CONNECTION, q.onRoute("route_id"))
}

// cancelReasons counts the period's cancelled connections by the
// resolution of their (last) cancellation.
func (q reportQuery) cancelReasons() string {
	return fmt.Sprintf(`SELECT (SELECT e.resolution FROM task_events e WHERE e.task_id = t.id AND e.kind = %d ORDER BY e.sequence DESC LIMIT 1) AS resolution,
		count(*) AS n FROM tasks t WHERE t.created_at >= %d AND t.created_at < %d AND t.kind = %d AND t.state = %d%s GROUP BY 1`,
		taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED, q.lo(), q.hi(), taskv1.TaskKind_TASK_KIND_CONNECTION, taskv1.TaskState_TASK_STATE_CANCELLED,
		q.onRoute("t.route_id"))
}

// dayCounts are the opened, closed and cancelled tasks of each day and the
// backlog at its end: the tasks open when the period starts, plus those
// opened, less those ended.
func (r *ReportServer) dayCounts(db *gorm.DB, q reportQuery) ([]*taskv1.ReportDay, error) {
	out := make([]*taskv1.ReportDay, len(q.days)-1)
	for i := range out {
		out[i] = &taskv1.ReportDay{Date: time.UnixMicro(q.days[i]).In(q.loc).Format(time.DateOnly)}
	}
	var opened []struct{ B, N int64 }
	if err := db.Raw(q.opened()).Scan(&opened).Error; err != nil {
		return nil, err
	}
	for _, o := range opened {
		out[q.day(o.B)].Opened += int32(o.N)
	}
	var ended []struct{ B, State, N int64 }
	if err := db.Raw(q.ended()).Scan(&ended).Error; err != nil {
		return nil, err
	}
	for _, e := range ended {
		if d := out[q.day(e.B)]; e.State == int64(taskv1.TaskState_TASK_STATE_CANCELLED) {
			d.Cancelled += int32(e.N)
		} else {
			d.Closed += int32(e.N)
		}
	}
	var backlog int32
	if err := db.Raw(q.before()).Scan(&backlog).Error; err != nil {
		return nil, err
	}
	for _, d := range out {
		backlog += d.Opened - d.Closed - d.Cancelled
		d.Backlog = backlog
	}
	return out, nil
}

// minutes counts values in whole minutes, for their percentiles.
type minutes map[int64]int64

// percentile is the p-th percentile in seconds, nearest rank.
func (m minutes) percentile(p int) int64 {
	var total int64
	for _, n := range m {
		total += n
	}
	rank := max((int64(p)*total+99)/100, 1)
	for _, v := range slices.Sorted(maps.Keys(m)) {
		if rank -= m[v]; rank <= 0 {
			return v * 60
		}
	}
	return 0
}

// processes reads each process's entries, breaches and the lengths of the
// stays that ended, named as the newest version of its route that has it.
func (r *ReportServer) processes(ctx context.Context, db *gorm.DB, q reportQuery, group int64) ([]*taskv1.ProcessReport, error) {
	var entries []struct {
		ProcessID int64
		Minute    *int64
		N         int32
	}
	if err := db.Raw(q.entries()).Scan(&entries).Error; err != nil {
		return nil, err
	}
	var breaches []struct {
		ProcessID int64
		N         int32
	}
	if err := db.Raw(q.breaches()).Scan(&breaches).Error; err != nil {
		return nil, err
	}
	type acc struct {
		rep   *taskv1.ProcessReport
		p     processDef
		stays minutes
	}
	all := map[int64]*acc{}
	get := func(id int64) (*acc, error) {
		if a, ok := all[id]; ok {
			return a, nil
		}
		p, route, def, err := r.tasks.routes.processNamed(ctx, id)
		if err != nil {
			return nil, err
		}
		a := &acc{rep: &taskv1.ProcessReport{RouteId: route, RouteName: def.Name, ProcessId: p.ID, ProcessName: p.Name, GroupId: p.GroupID}, p: p, stays: minutes{}}
		all[id] = a
		return a, nil
	}
	for _, e := range entries {
		a, err := get(e.ProcessID)
		if err != nil {
			return nil, err
		}
		a.rep.Entered += e.N
		if e.Minute != nil {
			a.rep.Left += e.N
			a.stays[*e.Minute] += int64(e.N)
		}
	}
	for _, b := range breaches {
		a, err := get(b.ProcessID)
		if err != nil {
			return nil, err
		}
		a.rep.Breached += b.N
	}
	out := make([]*taskv1.ProcessReport, 0, len(all))
	for _, a := range all {
		if group > 0 && a.rep.GroupId != group {
			continue
		}
		if a.p.SLASeconds > 0 && !a.p.WaitsForCustomer {
			a.rep.WithSla = a.rep.Entered
		}
		if len(a.stays) > 0 {
			a.rep.MedianSeconds = a.stays.percentile(50)
			a.rep.P90Seconds = a.stays.percentile(90)
		}
		out = append(out, a.rep)
	}
	slices.SortFunc(out, func(a, b *taskv1.ProcessReport) int {
		return cmp.Or(cmp.Compare(a.RouteId, b.RouteId), cmp.Compare(a.ProcessId, b.ProcessId))
	})
	return out, nil
}

// funnel follows the connections opened in the period to their ends.
func (r *ReportServer) funnel(db *gorm.DB, q reportQuery) (*taskv1.ConnectionFunnel, error) {
	f := &taskv1.ConnectionFunnel{}
	var states []struct {
		State  int32
		Minute *int64
		N      int32
	}
	if err := db.Raw(q.connections()).Scan(&states).Error; err != nil {
		return nil, err
	}
	leads := minutes{}
	for _, s := range states {
		f.Opened += s.N
		switch taskv1.TaskState(s.State) {
		case taskv1.TaskState_TASK_STATE_CLOSED:
			f.Activated += s.N
			if s.Minute != nil {
				leads[*s.Minute] += int64(s.N)
			}
		case taskv1.TaskState_TASK_STATE_CANCELLED:
			f.Cancelled += s.N
		default:
			f.InProgress += s.N
		}
	}
	if len(leads) > 0 {
		f.MedianLeadSeconds = leads.percentile(50)
	}
	var reasons []struct {
		Resolution *string
		N          int32
	}
	if err := db.Raw(q.cancelReasons()).Scan(&reasons).Error; err != nil {
		return nil, err
	}
	for _, c := range reasons {
		rc := &taskv1.ResolutionCount{Count: c.N}
		if c.Resolution != nil {
			rc.Resolution = *c.Resolution
		}
		f.CancelledBy = append(f.CancelledBy, rc)
	}
	slices.SortFunc(f.CancelledBy, func(a, b *taskv1.ResolutionCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Resolution, b.Resolution))
	})
	return f, nil
}
