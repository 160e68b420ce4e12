package database

import "gorm.io/gorm"

// UpdateVersioned writes cols to the row id of model's table if the row is
// still at version, stepping its version and setting its updated_at to now
// (Unix microseconds). It tells whether the row was written: false when it
// is gone or was changed meanwhile (an optimistic lock lost).
func UpdateVersioned(db *gorm.DB, model any, id, version int64, cols map[string]any, now int64) (bool, error) {
	cols["version"] = gorm.Expr("version + 1")
	cols["updated_at"] = now
	res := db.Model(model).Where("id = ? AND version = ?", id, version).Updates(cols)
	return res.RowsAffected > 0, res.Error
}
