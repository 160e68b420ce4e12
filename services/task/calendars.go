package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/workflows/calendar"
)

// calendarRow is a working-time calendar: its definition (hours, zone,
// dates and their notes) as JSON, and a version that goes up with each
// change. calendarGroupRow assigns a group to it: a group has one
// calendar at most.
type calendarRow struct {
	ID         int64
	Name       string
	Version    int32
	Definition string
	UpdatedAt  int64
}

func (calendarRow) TableName() string { return "calendars" }

type calendarGroupRow struct {
	GroupID    int64 `gorm:"primaryKey;autoIncrement:false"`
	CalendarID int64
}

func (calendarGroupRow) TableName() string { return "calendar_groups" }

// calendarDef is what a calendar row's definition holds.
type calendarDef struct {
	Calendar calendar.Calendar `json:"calendar"`
	Notes    map[string]string `json:"notes,omitempty"`
}

func (r *calendarRow) def() (calendarDef, error) {
	var d calendarDef
	err := json.Unmarshal([]byte(r.Definition), &d)
	d.Calendar.ID, d.Calendar.Version = r.ID, r.Version
	return d, err
}

func (r *calendarRow) toProto(groups []int64) (*taskv1.Calendar, error) {
	d, err := r.def()
	if err != nil {
		return nil, err
	}
	return calendar.ToProto(d.Calendar, r.Name, d.Notes, groups, time.UnixMicro(r.UpdatedAt)), nil
}

// calendarStore reads and writes calendars.
type calendarStore struct{ db *gorm.DB }

// groupsOf are the groups assigned to each calendar.
func (s calendarStore) groupsOf(ctx context.Context) (map[int64][]int64, error) {
	var links []calendarGroupRow
	if err := s.db.WithContext(ctx).Order("group_id").Find(&links).Error; err != nil {
		return nil, err
	}
	out := map[int64][]int64{}
	for _, l := range links {
		out[l.CalendarID] = append(out[l.CalendarID], l.GroupID)
	}
	return out, nil
}

// forGroups are the calendars of the given groups, each naming only
// those of the groups it serves: what a task starting on a route whose
// processes are in the groups counts its SLAs by.
func (s calendarStore) forGroups(ctx context.Context, groups []int64) ([]*taskv1.Calendar, error) {
	var links []calendarGroupRow
	if err := s.db.WithContext(ctx).Where("group_id IN ?", groups).Order("group_id").Find(&links).Error; err != nil || len(links) == 0 {
		return nil, err
	}
	byCalendar := map[int64][]int64{}
	var ids []int64
	for _, l := range links {
		if _, ok := byCalendar[l.CalendarID]; !ok {
			ids = append(ids, l.CalendarID)
		}
		byCalendar[l.CalendarID] = append(byCalendar[l.CalendarID], l.GroupID)
	}
	var rows []calendarRow
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*taskv1.Calendar, 0, len(rows))
	for i := range rows {
		p, err := rows[i].toProto(byCalendar[rows[i].ID])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// forGroup is the calendar of one group (nil: it has none).
func (s calendarStore) forGroup(ctx context.Context, group int64) (*calendar.Calendar, error) {
	cs, err := s.forGroups(ctx, []int64{group})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	c := calendar.FromProto(cs[0])
	return &c, nil
}

// routeForTask is a route version as a task starting now runs on it: its
// processes, rules and its groups' calendars.
func (s *Server) routeForTask(ctx context.Context, def routeDef, r routeRow, version int32) (*taskv1.Route, error) {
	out := def.toProto(r, version)
	var groups []int64
	for _, p := range def.Processes {
		if !slices.Contains(groups, p.GroupID) {
			groups = append(groups, p.GroupID)
		}
	}
	cals, err := s.calendars.forGroups(ctx, groups)
	if err != nil {
		return nil, err
	}
	out.Calendars = cals
	return out, nil
}

// slaLeft tells an open task's detail how much working time its process's
// SLA has left, in its group's calendar, and whether it waits for the
// customer.
func (s *Server) slaLeft(ctx context.Context, t *taskv1.Task) error {
	p := t.GetCurrentProcess()
	if t.GetState() != taskv1.TaskState_TASK_STATE_OPEN {
		return nil
	}
	t.WaitingForCustomer = p.GetWaitsForCustomer()
	if t.GetSlaDueAt() == nil || t.WaitingForCustomer {
		return nil
	}
	due, now := t.GetSlaDueAt().AsTime(), time.Now()
	left := due.Sub(now)
	cal, err := s.calendars.forGroup(ctx, p.GetGroupId())
	if err != nil {
		return err
	}
	if cal != nil {
		left = cal.Between(now, due)
	}
	secs := max(int64(left/time.Second), 0)
	t.SlaWorkingSecondsLeft = &secs
	return nil
}

// CalendarServer implements taskv1.CalendarServiceServer.
type CalendarServer struct {
	taskv1.UnimplementedCalendarServiceServer
	tasks *Server
	store calendarStore
	now   func() time.Time
}

// NewCalendarServer serves the calendars of s's groups.
func NewCalendarServer(s *Server) *CalendarServer {
	return &CalendarServer{tasks: s, store: s.calendars, now: time.Now}
}

func (c *CalendarServer) ListCalendars(ctx context.Context, _ *taskv1.ListCalendarsRequest) (*taskv1.ListCalendarsResponse, error) {
	var rows []calendarRow
	if err := c.store.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	groups, err := c.store.groupsOf(ctx)
	if err != nil {
		return nil, err
	}
	resp := &taskv1.ListCalendarsResponse{}
	for i := range rows {
		p, err := rows[i].toProto(groups[rows[i].ID])
		if err != nil {
			return nil, err
		}
		resp.Calendars = append(resp.Calendars, p)
	}
	return resp, nil
}

func (c *CalendarServer) get(ctx context.Context, tx *gorm.DB, id int64) (*calendarRow, error) {
	var r calendarRow
	err := tx.WithContext(ctx).Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "calendar %d does not exist", id)
	}
	return &r, err
}

func (c *CalendarServer) GetCalendar(ctx context.Context, req *taskv1.GetCalendarRequest) (*taskv1.GetCalendarResponse, error) {
	r, err := c.get(ctx, c.store.db, req.GetId())
	if err != nil {
		return nil, err
	}
	groups, err := c.store.groupsOf(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.toProto(groups[r.ID])
	return &taskv1.GetCalendarResponse{Calendar: p}, err
}

// check reads an edited calendar, refusing what cannot count working
// time, naming the field; it answers the name, the definition to store
// and the groups.
func (c *CalendarServer) check(ctx context.Context, in *taskv1.Calendar) (string, string, []int64, error) {
	name, def, groups, err := c.read(ctx, in)
	if err != nil {
		return "", "", nil, err
	}
	body, err := json.Marshal(def)
	return name, string(body), groups, err
}

func (c *CalendarServer) read(ctx context.Context, in *taskv1.Calendar) (string, calendarDef, []int64, error) {
	name := strings.TrimSpace(in.GetName())
	if name == "" {
		return "", calendarDef{}, nil, fault.Field("calendar.name", "name the calendar")
	}
	if len(in.GetWeek()) != 7 {
		return "", calendarDef{}, nil, fault.Field("calendar.week", "the week has seven days, Monday first")
	}
	def := calendarDef{Calendar: calendar.FromProto(in), Notes: map[string]string{}}
	seen := map[string]bool{}
	for i, d := range in.GetDates() {
		if seen[d.GetDate()] {
			return "", calendarDef{}, nil, fault.Field(fmt.Sprintf("calendar.dates[%d].date", i), "%s is listed twice", d.GetDate())
		}
		seen[d.GetDate()] = true
		if n := strings.TrimSpace(d.GetNote()); n != "" {
			def.Notes[d.GetDate()] = n
		}
	}
	if err := def.Calendar.Check(); err != nil {
		field := "calendar"
		switch {
		case strings.Contains(err.Error(), "time zone"):
			field = "calendar.timeZone"
		case strings.Contains(err.Error(), "day:") || strings.Contains(err.Error(), "week"):
			field = "calendar.week"
		default:
			field = "calendar.dates"
		}
		return "", calendarDef{}, nil, fault.Field(field, "%s", err.Error())
	}
	exists, err := c.tasks.groups(ctx)
	if err != nil {
		return "", calendarDef{}, nil, err
	}
	groups := slices.Clone(in.GetGroupIds())
	slices.Sort(groups)
	for _, g := range groups {
		if !exists(g) {
			return "", calendarDef{}, nil, fault.Field("calendar.groupIds", "group %d does not exist", g)
		}
	}
	return name, def, groups, nil
}

// assign gives the groups to calendar id, taking them from any other.
func assign(tx *gorm.DB, id int64, groups []int64) error {
	if err := tx.Where("calendar_id = ?", id).Delete(&calendarGroupRow{}).Error; err != nil {
		return err
	}
	for _, g := range groups {
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "group_id"}}, DoUpdates: clause.AssignmentColumns([]string{"calendar_id"})}).
			Create(&calendarGroupRow{GroupID: g, CalendarID: id}).Error; err != nil {
			return err
		}
	}
	return nil
}

func (c *CalendarServer) CreateCalendar(ctx context.Context, req *taskv1.CreateCalendarRequest) (*taskv1.CreateCalendarResponse, error) {
	name, body, groups, err := c.check(ctx, req.GetCalendar())
	if err != nil {
		return nil, err
	}
	r := calendarRow{Name: name, Version: 1, Definition: body, UpdatedAt: c.now().UnixMicro()}
	err = c.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return assign(tx, r.ID, groups)
	})
	if err != nil {
		return nil, err
	}
	c.tasks.audit(ctx, "calendar.create", calendarTarget(r.ID), "calendar_created", "name", r.Name, "after", describeCalendar(nil, &r, groups))
	p, err := r.toProto(groups)
	return &taskv1.CreateCalendarResponse{Calendar: p}, err
}

func (c *CalendarServer) UpdateCalendar(ctx context.Context, req *taskv1.UpdateCalendarRequest) (*taskv1.UpdateCalendarResponse, error) {
	name, body, groups, err := c.check(ctx, req.GetCalendar())
	if err != nil {
		return nil, err
	}
	var before, after calendarRow
	var beforeGroups []int64
	err = c.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := c.get(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), req.GetId())
		if err != nil {
			return err
		}
		before = *r
		if err := tx.Model(&calendarGroupRow{}).Where("calendar_id = ?", r.ID).Order("group_id").Pluck("group_id", &beforeGroups).Error; err != nil {
			return err
		}
		after = before
		after.Name, after.Definition, after.Version, after.UpdatedAt = name, body, before.Version+1, c.now().UnixMicro()
		if err := tx.Save(&after).Error; err != nil {
			return err
		}
		return assign(tx, after.ID, groups)
	})
	if err != nil {
		return nil, err
	}
	if b, a := auditlog.Change(calendarFields(&before, beforeGroups), calendarFields(&after, groups)); b != a {
		c.tasks.audit(ctx, "calendar.update", calendarTarget(after.ID), "calendar_changed", "name", after.Name, "before", b, "after", a)
	}
	p, err := after.toProto(groups)
	return &taskv1.UpdateCalendarResponse{Calendar: p}, err
}

func (c *CalendarServer) DeleteCalendar(ctx context.Context, req *taskv1.DeleteCalendarRequest) (*taskv1.DeleteCalendarResponse, error) {
	var r *calendarRow
	err := c.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if r, err = c.get(ctx, tx, req.GetId()); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&calendarGroupRow{}).Where("calendar_id = ?", r.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.FailedPrecondition, "calendar %q serves %d groups; give them another calendar first", r.Name, n)
		}
		return tx.Delete(r).Error
	})
	if err != nil {
		return nil, err
	}
	c.tasks.audit(ctx, "calendar.delete", calendarTarget(r.ID), "calendar_named", "name", r.Name)
	return &taskv1.DeleteCalendarResponse{}, nil
}

func calendarTarget(id int64) string { return "calendar:" + strconv.FormatInt(id, 10) }

// calendarFields are what the audit log compares: the zone, the week,
// the dates that differ, the groups.
func calendarFields(r *calendarRow, groups []int64) map[string]string {
	if r == nil {
		return nil
	}
	d, _ := r.def()
	week := make([]string, 0, 7)
	for i := range 7 {
		day := d.Calendar.Week[(i+1)%7]
		if day.Working() {
			week = append(week, fmt.Sprintf("%s %02d:%02d–%02d:%02d", time.Weekday((i + 1) % 7).String()[:3], day.Start/60, day.Start%60, day.End/60, day.End%60))
		}
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = strconv.FormatInt(g, 10)
	}
	return map[string]string{
		"name": r.Name, "timeZone": d.Calendar.TimeZone, "week": strings.Join(week, ", "),
		"dates": strconv.Itoa(len(d.Calendar.Dates)), "groups": strings.Join(ids, ", "),
	}
}

func describeCalendar(before, after *calendarRow, groups []int64) string {
	_, a := auditlog.Change(calendarFields(before, nil), calendarFields(after, groups))
	return a
}
