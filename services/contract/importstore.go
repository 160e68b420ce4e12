package contract

import (
	"context"
	"encoding/json"
	"errors"

	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

// importRecord is an import: its file's check and its run's progress.
type importRecord struct {
	ID       int64
	FileName string
	// Header is the file's names of the columns (JSON), for the problems
	// a run finds.
	Header             string
	State              int32
	TotalRows          int32
	ProblemRows        int32
	Customers          int32
	ContractsAsIs      int32
	ContractsToConnect int32
	RowsDone           int32
	CustomersCreated   int32
	ContractsCreated   int32
	Error              string
	CreatedBy          int64
	CreatedAt          int64 `gorm:"autoCreateTime:false"`
	StartedAt          int64
	FinishedAt         int64
}

func (importRecord) TableName() string { return "imports" }

// importLine is one checked data row: its reading as JSON, and its
// problems as JSON ("" for none).
type importLine struct {
	ImportID   int64 `gorm:"primaryKey;autoIncrement:false"`
	RowNo      int32 `gorm:"primaryKey;autoIncrement:false"`
	Line       int32
	GroupFirst int32
	Data       string
	Problems   string
}

func (importLine) TableName() string { return "import_rows" }

func (r *importLine) row() (*importRow, error) {
	out := &importRow{Row: r.RowNo, Line: r.Line, First: r.GroupFirst}
	if err := json.Unmarshal([]byte(r.Data), out); err != nil {
		return nil, err
	}
	if r.Problems != "" {
		if err := json.Unmarshal([]byte(r.Problems), &out.problems); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func problemsJSON(ps []*contractv1.ImportProblem) (string, error) {
	if len(ps) == 0 {
		return "", nil
	}
	b, err := json.Marshal(ps)
	return string(b), err
}

// saveImport writes a checked file with its rows in one transaction.
func (s *store) saveImport(ctx context.Context, rec *importRecord, rows []*importRow) error {
	rec.CreatedAt = s.micros()
	rec.State = int32(contractv1.ImportState_IMPORT_STATE_CHECKED)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(rec).Error; err != nil {
			return err
		}
		lines := make([]importLine, len(rows))
		for i, r := range rows {
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			problems, err := problemsJSON(r.problems)
			if err != nil {
				return err
			}
			lines[i] = importLine{ImportID: rec.ID, RowNo: r.Row, Line: r.Line, GroupFirst: r.First, Data: string(data), Problems: problems}
		}
		return tx.CreateInBatches(lines, database.InsertBatch).Error
	})
}

func (s *store) importByID(ctx context.Context, id int64) (*importRecord, error) {
	var rec importRecord
	err := s.db.WithContext(ctx).Take(&rec, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "import %d does not exist", id)
	}
	return &rec, err
}

// imports lists imports newest first, below the id before (0: from the
// newest).
func (s *store) imports(ctx context.Context, before int64, limit int) ([]importRecord, error) {
	q := s.db.WithContext(ctx).Model(&importRecord{})
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []importRecord
	err := q.Order("id DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// problemLines lists an import's rows with problems after the row after.
func (s *store) problemLines(ctx context.Context, id int64, after int32, limit int) ([]importLine, error) {
	var rows []importLine
	err := s.db.WithContext(ctx).Where("import_id = ? AND row_no > ? AND problems <> ''", id, after).
		Order("row_no").Limit(limit).Find(&rows).Error
	return rows, err
}

// batchLines reads the rows of a batch: up to n from the row from, and
// on to the end of the last row's customer.
func (s *store) batchLines(ctx context.Context, id int64, from int32, n int) ([]importLine, error) {
	var rows []importLine
	db := s.db.WithContext(ctx)
	if err := db.Where("import_id = ? AND row_no >= ?", id, from).Order("row_no").Limit(n).Find(&rows).Error; err != nil {
		return nil, err
	}
	for len(rows) > 0 {
		last := rows[len(rows)-1]
		var more []importLine
		if err := db.Where("import_id = ? AND row_no > ? AND row_no <= ? AND group_first = ?", id, last.RowNo, last.RowNo+int32(n), last.GroupFirst).
			Order("row_no").Find(&more).Error; err != nil {
			return nil, err
		}
		if len(more) == 0 {
			break
		}
		rows = append(rows, more...)
	}
	return rows, nil
}

// batchWrite is what a batch writes in its closing transaction.
type batchWrite struct {
	importID   int64
	from, next int32
	contracts  []*contractRow // as they stand, ids to allocate
	customers  int32
	connected  int32
	problems   map[int32][]*contractv1.ImportProblem // new problems by row
}

// finishBatch writes a batch's contracts, its rows' new problems and the
// import's progress in one transaction, if the progress is still where
// the batch began; it tells whether it did (false: written already).
func (s *store) finishBatch(ctx context.Context, w *batchWrite) (bool, error) {
	now := s.micros()
	wrote := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&importRecord{}).Where("id = ? AND rows_done = ?", w.importID, w.from-1).Updates(map[string]any{
			"rows_done":         w.next - 1,
			"customers_created": gorm.Expr("customers_created + ?", w.customers),
			"contracts_created": gorm.Expr("contracts_created + ?", w.connected+int32(len(w.contracts))),
			"problem_rows":      gorm.Expr("problem_rows + ?", len(w.problems)),
		})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		wrote = true
		ids, err := contractIDs.AllocateMany(tx, len(w.contracts), now)
		if err != nil {
			return err
		}
		for i, c := range w.contracts {
			number := formatNumber(ids[i])
			c.ID, c.Number = ids[i], &number
			c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
		}
		if len(w.contracts) > 0 {
			if err := tx.CreateInBatches(w.contracts, database.InsertBatch).Error; err != nil {
				return err
			}
		}
		for row, ps := range w.problems {
			js, err := problemsJSON(ps)
			if err != nil {
				return err
			}
			if err := tx.Model(&importLine{}).Where("import_id = ? AND row_no = ?", w.importID, row).Update("problems", js).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return wrote, err
}

// setImportState moves an import to state: RUNNING from any state but
// DONE (a resumed run), the others from RUNNING.
func (s *store) setImportState(ctx context.Context, id int64, state contractv1.ImportState, why string) (*importRecord, error) {
	now := s.micros()
	q := s.db.WithContext(ctx).Model(&importRecord{}).Where("id = ?", id)
	cols := map[string]any{"state": int32(state)}
	if state == contractv1.ImportState_IMPORT_STATE_RUNNING {
		q = q.Where("state <> ?", int32(contractv1.ImportState_IMPORT_STATE_DONE))
		cols["error"], cols["finished_at"] = "", 0
		cols["started_at"] = gorm.Expr("CASE WHEN started_at = 0 THEN ? ELSE started_at END", now)
	} else {
		q = q.Where("state = ?", int32(contractv1.ImportState_IMPORT_STATE_RUNNING))
		cols["error"], cols["finished_at"] = why, now
	}
	if err := q.Updates(cols).Error; err != nil {
		return nil, err
	}
	rec, err := s.importByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.State != int32(state) {
		return nil, fault.New(fault.FailedPrecondition, "import %d is %s", id, importStateWord(contractv1.ImportState(rec.State))).
			Because("IMPORT_STATE", map[string]string{"state": contractv1.ImportState(rec.State).String()})
	}
	return rec, nil
}

func importStateWord(s contractv1.ImportState) string {
	switch s {
	case contractv1.ImportState_IMPORT_STATE_CHECKED:
		return "checked and not run"
	case contractv1.ImportState_IMPORT_STATE_RUNNING:
		return "running"
	case contractv1.ImportState_IMPORT_STATE_DONE:
		return "done"
	case contractv1.ImportState_IMPORT_STATE_FAILED:
		return "stopped by an error"
	case contractv1.ImportState_IMPORT_STATE_CANCELLED:
		return "stopped"
	}
	return "unknown"
}

func importProto(r *importRecord) *contractv1.Import {
	p := &contractv1.Import{
		Id: r.ID, FileName: r.FileName, State: contractv1.ImportState(r.State),
		TotalRows: r.TotalRows, ProblemRows: r.ProblemRows, Customers: r.Customers,
		ContractsAsIs: r.ContractsAsIs, ContractsToConnect: r.ContractsToConnect,
		RowsDone: r.RowsDone, CustomersCreated: r.CustomersCreated, ContractsCreated: r.ContractsCreated,
		Error: r.Error, CreatedBy: r.CreatedBy, CreateTime: micros.Proto(r.CreatedAt),
	}
	if r.StartedAt != 0 {
		p.StartTime = micros.Proto(r.StartedAt)
	}
	if r.FinishedAt != 0 {
		p.FinishTime = micros.Proto(r.FinishedAt)
	}
	return p
}
