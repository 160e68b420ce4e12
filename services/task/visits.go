package task

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gorm.io/gorm"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

// A task's visits: one row per booking, written only by the task's
// workflow steps (apply). While a booking is active each of its
// technicians holds its window in visit_technicians, where the database
// refuses two active windows of one technician that overlap: an exclusion
// constraint on PostgreSQL, triggers on SQLite (noOverlap).

type visitRow struct {
	ID             int64
	TaskID         int64
	TaskNumber     string
	ProcessID      int64
	ProcessName    string
	GroupID        int64
	State          int32
	Active         bool
	StartsAt       int64
	EndsAt         int64
	TechnicianIDs  string `gorm:"column:technician_ids"`
	Address        string
	Note           string
	Late           bool
	Reason         string
	CustomerName   string
	CustomerPhone  string
	ContractNumber string
	TariffName     string
	BookedBy       int64
	BookedByName   string
	// Sequence is the step that wrote the row last.
	Sequence  int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
	UpdatedAt int64 `gorm:"autoUpdateTime:false"`
}

func (visitRow) TableName() string { return "visits" }

type visitTechRow struct {
	VisitID      int64 `gorm:"primaryKey;autoIncrement:false"`
	TechnicianID int64 `gorm:"primaryKey;autoIncrement:false"`
	StartsAt     int64
	EndsAt       int64
	Active       bool
}

func (visitTechRow) TableName() string { return "visit_technicians" }

// noOverlap names the constraint (and the SQLite triggers' message).
const noOverlap = "visit_technicians_no_overlap"

func activeVisitState(s taskv1.VisitState) bool {
	switch s {
	case taskv1.VisitState_VISIT_STATE_BOOKED, taskv1.VisitState_VISIT_STATE_ON_THE_WAY, taskv1.VisitState_VISIT_STATE_ARRIVED:
		return true
	}
	return false
}

// writeVisit writes a step's booking for task r, in the step's
// transaction: a new booking when the task has none active, else its
// active one changes. It answers the visit's id.
func writeVisit(tx *gorm.DB, r *taskRow, seq int64, w *taskv1.VisitWrite, process processDef, bookedByName string, now int64) (int64, error) {
	var v visitRow
	err := tx.Where("task_id = ? AND active = ?", r.ID, true).Take(&v).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		if !activeVisitState(w.GetState()) {
			return 0, nil // nothing booked to end
		}
		v = visitRow{TaskID: r.ID, TaskNumber: r.Number, ProcessID: process.ID, ProcessName: process.Name, GroupID: process.GroupID,
			CustomerName: r.CustomerName, ContractNumber: r.ContractNumber, CreatedAt: now}
	case err != nil:
		return 0, err
	}
	moved := v.ID == 0 || v.StartsAt != micros.FromProto(w.GetStartTime()) || v.EndsAt != micros.FromProto(w.GetEndTime()) || v.TechnicianIDs != joinIDs(w.GetTechnicianIds())
	v.State, v.Active = int32(w.GetState()), activeVisitState(w.GetState())
	v.StartsAt, v.EndsAt = micros.FromProto(w.GetStartTime()), micros.FromProto(w.GetEndTime())
	v.TechnicianIDs, v.Address, v.Note, v.Late, v.Reason = joinIDs(w.GetTechnicianIds()), w.GetAddress(), w.GetNote(), w.GetLate(), w.GetReason()
	if w.GetState() == taskv1.VisitState_VISIT_STATE_BOOKED && moved {
		v.BookedBy, v.BookedByName = w.GetBookedBy(), bookedByName
		v.CustomerPhone, v.TariffName = w.GetCustomerPhone(), w.GetTariffName()
	}
	v.Sequence, v.UpdatedAt = seq, now
	if err := tx.Save(&v).Error; err != nil {
		return 0, err
	}
	if moved {
		if err := tx.Where("visit_id = ?", v.ID).Delete(&visitTechRow{}).Error; err != nil {
			return 0, err
		}
		for _, id := range w.GetTechnicianIds() {
			if err := tx.Create(&visitTechRow{VisitID: v.ID, TechnicianID: id, StartsAt: v.StartsAt, EndsAt: v.EndsAt, Active: v.Active}).Error; err != nil {
				if database.IsConstraint(err, noOverlap) {
					return 0, clashError(tx, id, v)
				}
				return 0, err
			}
		}
	} else if err := tx.Model(&visitTechRow{}).Where("visit_id = ?", v.ID).Update("active", v.Active).Error; err != nil {
		return 0, err
	}
	return v.ID, nil
}

// clashError names the booking a technician already has in the window.
func clashError(tx *gorm.DB, technician int64, v visitRow) error {
	var other visitRow
	q := tx.Session(&gorm.Session{NewDB: true}).
		Joins("JOIN visit_technicians vt ON vt.visit_id = visits.id").
		Where("vt.technician_id = ? AND vt.active = ? AND vt.starts_at < ? AND vt.ends_at > ? AND visits.id <> ?", technician, true, v.EndsAt, v.StartsAt, v.ID)
	if err := q.Take(&other).Error; err != nil {
		return fault.New(fault.Conflict, "technician %d is already booked at that time", technician).Because("VISIT_CLASH", nil)
	}
	return clash(technician, other)
}

func clash(technician int64, other visitRow) error {
	return fault.New(fault.Conflict, "technician %d is already booked %s for %s", technician, window(other.StartsAt, other.EndsAt), other.TaskNumber).
		Because("VISIT_CLASH", map[string]string{"technicianId": fmt.Sprint(technician), "taskNumber": other.TaskNumber})
}

// window says a booking's window in UTC (the console shows local times).
func window(start, end int64) string {
	s, e := micros.Time(start), micros.Time(end)
	return s.Format("2006-01-02 15:04") + "–" + e.Format("15:04") + " UTC"
}

// activeVisit is the task's active booking (nil: none).
func (s *store) activeVisit(ctx context.Context, taskID int64) (*visitRow, error) {
	var v visitRow
	err := s.db.WithContext(ctx).Where("task_id = ? AND active = ?", taskID, true).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &v, err
}

func (s *store) visit(ctx context.Context, id int64) (*visitRow, error) {
	var v visitRow
	if err := s.db.WithContext(ctx).Take(&v, id).Error; err != nil {
		return nil, err
	}
	return &v, nil
}

// latestVisit is the task's last booking, active or not (nil: none).
func (s *store) latestVisit(ctx context.Context, taskID int64) (*visitRow, error) {
	var v visitRow
	err := s.db.WithContext(ctx).Where("task_id = ?", taskID).Order("id DESC").Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &v, err
}

// visitFilter selects visits whose window meets [From, To).
type visitFilter struct {
	GroupID, TechnicianID int64
	From, To              int64
	IncludeCancelled      bool
	Limit                 int
}

func (s *store) visits(ctx context.Context, f visitFilter) ([]visitRow, error) {
	q := s.db.WithContext(ctx).Model(&visitRow{}).Where("visits.starts_at < ? AND visits.ends_at > ?", f.To, f.From)
	if f.GroupID != 0 {
		q = q.Where("visits.group_id = ?", f.GroupID)
	}
	if f.TechnicianID != 0 {
		q = q.Where("EXISTS (SELECT 1 FROM visit_technicians vt WHERE vt.visit_id = visits.id AND vt.technician_id = ?)", f.TechnicianID)
	}
	if !f.IncludeCancelled {
		q = q.Where("visits.state NOT IN ?", []int32{int32(taskv1.VisitState_VISIT_STATE_CANCELLED), int32(taskv1.VisitState_VISIT_STATE_FAILED)})
	}
	var out []visitRow
	err := q.Order("visits.starts_at, visits.id").Limit(f.Limit).Find(&out).Error
	return out, err
}

// overlapping is a technician's active booking overlapping a window,
// other than task's own (nil: none).
func (s *store) overlapping(ctx context.Context, technician, taskID, start, end int64) (*visitRow, error) {
	var v visitRow
	err := s.db.WithContext(ctx).Joins("JOIN visit_technicians vt ON vt.visit_id = visits.id").
		Where("vt.technician_id = ? AND vt.active = ? AND vt.starts_at < ? AND vt.ends_at > ? AND visits.task_id <> ?", technician, true, end, start, taskID).
		Order("visits.starts_at").Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &v, err
}

// bookedOn counts a technician's active bookings starting in [from, to),
// other than task's own.
func (s *store) bookedOn(ctx context.Context, technician, taskID, from, to int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&visitRow{}).Joins("JOIN visit_technicians vt ON vt.visit_id = visits.id").
		Where("vt.technician_id = ? AND vt.active = ? AND vt.starts_at >= ? AND vt.starts_at < ? AND visits.task_id <> ?", technician, true, from, to, taskID).
		Count(&n).Error
	return n, err
}

func (v *visitRow) toProto(names map[int64]string) *taskv1.Visit {
	out := &taskv1.Visit{
		Id: v.ID, TaskId: v.TaskID, TaskNumber: v.TaskNumber, ProcessId: v.ProcessID, ProcessName: v.ProcessName, GroupId: v.GroupID,
		State: taskv1.VisitState(v.State), StartTime: micros.Proto(v.StartsAt), EndTime: micros.Proto(v.EndsAt),
		Address: v.Address, Note: v.Note, Late: v.Late, CustomerName: v.CustomerName, CustomerPhone: v.CustomerPhone,
		ContractNumber: v.ContractNumber, TariffName: v.TariffName, BookedBy: v.BookedBy, BookedByName: v.BookedByName,
		Reason: v.Reason, MapUrl: mapURL(v.Address), CreateTime: micros.Proto(v.CreatedAt), UpdateTime: micros.Proto(v.UpdatedAt),
	}
	for _, id := range splitIDs(v.TechnicianIDs) {
		out.Technicians = append(out.Technicians, &taskv1.VisitTechnician{UserId: id, Name: names[id]})
	}
	return out
}

// mapURL is a map search for an address (OpenStreetMap's: it needs no key
// and opens in any browser or map app).
func mapURL(address string) string {
	if strings.TrimSpace(address) == "" {
		return ""
	}
	return "https://www.openstreetmap.org/search?query=" + url.QueryEscape(address)
}
