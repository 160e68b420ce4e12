package patch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/patch"
)

type note struct {
	ID      int64
	Text    string
	Version int64
}

// notes is a table of one note, id 7, that records what Update was asked.
type notes struct {
	row     *note
	writes  []map[string]any
	atWrite int64 // the version Update was given
	race    bool  // Update finds the row changed by another writer
}

func (n *notes) kind() patch.Kind[note] {
	return patch.Kind[note]{
		Name: "note",
		Get: func(_ context.Context, id int64) (*note, error) {
			if n.row == nil || id != n.row.ID {
				return nil, fault.New(fault.NotFound, "note %d does not exist", id)
			}
			c := *n.row
			return &c, nil
		},
		Version: func(r *note) int64 { return r.Version },
		Set: func(next *note, path string, cols map[string]any) bool {
			if path != "text" {
				return false
			}
			next.Text = "new"
			cols["text"] = next.Text
			return true
		},
		Refusal: "%q is not a field of a note that can be changed",
		Check: func(r *note) []fault.Violation {
			if r.Text == "" {
				return []fault.Violation{{Field: "text", Description: "empty"}}
			}
			return nil
		},
		Update: func(_ context.Context, id, version int64, cols map[string]any) (bool, error) {
			n.writes = append(n.writes, cols)
			n.atWrite = version
			if n.race || version != n.row.Version {
				return false, nil
			}
			n.row.Text, n.row.Version = cols["text"].(string), n.row.Version+1
			return true, nil
		},
	}
}

func newNotes() *notes { return &notes{row: &note{ID: 7, Text: "old", Version: 3}} }

// fieldOf is the field the error's first violation names, if any.
func fieldOf(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) && len(fe.Violations) > 0 {
		return fe.Violations[0].Field
	}
	return ""
}

func kindOf(t *testing.T, err error) fault.Kind {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a fault", err)
	}
	return fe.Kind
}

func TestApplyWritesTheMaskedFieldsAtTheEtagsVersionAndAnswersTheStoredObject(t *testing.T) {
	n := newNotes()
	got, err := n.kind().Apply(context.Background(), patch.Request{PathID: 7, Etag: "3", Paths: []string{"text", "etag", "update_time"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "new" || got.Version != 4 || n.atWrite != 3 || len(n.writes) != 1 || len(n.writes[0]) != 1 {
		t.Fatalf("answered %+v after writes %v at version %d; want the note at version 4 written once, its text only, at 3", got, n.writes, n.atWrite)
	}
}

func TestApplyWithoutAnEtagWritesAtTheCurrentVersion(t *testing.T) {
	n := newNotes()
	if _, err := n.kind().Apply(context.Background(), patch.Request{BodyID: 7, Paths: []string{"text"}}); err != nil || n.atWrite != 3 {
		t.Fatalf("err %v, written at %d; want written at the current version 3", err, n.atWrite)
	}
}

func TestApplyRefusesBadRequestsWithoutWriting(t *testing.T) {
	for _, c := range []struct {
		name  string
		req   patch.Request
		kind  fault.Kind
		field string
	}{
		{"no id", patch.Request{Paths: []string{"text"}}, fault.Invalid, "id"},
		{"ids that differ", patch.Request{PathID: 7, BodyID: 8, Paths: []string{"text"}}, fault.Invalid, "id"},
		{"an object that does not exist", patch.Request{PathID: 9, Paths: []string{"text"}}, fault.NotFound, ""},
		{"an etag not given by the service", patch.Request{PathID: 7, Etag: "x", Paths: []string{"text"}}, fault.Invalid, "etag"},
		{"an empty mask", patch.Request{PathID: 7}, fault.Invalid, "updateMask"},
		{"a path that cannot be changed", patch.Request{PathID: 7, Paths: []string{"text", "owner"}}, fault.Invalid, "updateMask"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNotes()
			_, err := n.kind().Apply(context.Background(), c.req)
			if kindOf(t, err) != c.kind || fieldOf(err) != c.field || len(n.writes) != 0 {
				t.Fatalf("got %v (field %q) after %d writes; want a %v naming %q and no write", err, fieldOf(err), len(n.writes), c.kind, c.field)
			}
		})
	}
}

func TestApplyRefusesAnObjectItsCheckRefusesWithoutWriting(t *testing.T) {
	n := newNotes()
	k := n.kind()
	set := k.Set
	k.Set = func(next *note, path string, cols map[string]any) bool {
		set(next, path, cols)
		next.Text = ""
		return true
	}
	if _, err := k.Apply(context.Background(), patch.Request{PathID: 7, Paths: []string{"text"}}); fieldOf(err) != "text" || len(n.writes) != 0 {
		t.Fatalf("got %v after %d writes; want the check's violation of text and no write", err, len(n.writes))
	}
}

func TestApplyOnAStaleEtagIsAbortedAsStale(t *testing.T) {
	n := newNotes()
	_, err := n.kind().Apply(context.Background(), patch.Request{PathID: 7, Etag: "2", Paths: []string{"text"}})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Aborted || fe.Reason != "STALE_ETAG" || n.row.Text != "old" {
		t.Fatalf("got %v, note %+v; want Aborted for STALE_ETAG and the note unchanged", err, n.row)
	}
}

func TestApplyLosingARaceIsAbortedAsStale(t *testing.T) {
	n := newNotes()
	n.race = true
	if _, err := n.kind().Apply(context.Background(), patch.Request{PathID: 7, Etag: "3", Paths: []string{"text"}}); kindOf(t, err) != fault.Aborted {
		t.Fatalf("got %v, want Aborted", err)
	}
}

func TestApplyOfOnlySentBackFieldsWritesNothing(t *testing.T) {
	n := newNotes()
	got, err := n.kind().Apply(context.Background(), patch.Request{PathID: 7, Paths: []string{"id", "create_time"}})
	if err != nil || got.Version != 3 || len(n.writes) != 0 {
		t.Fatalf("got %+v, %v after %d writes; want the note unchanged and no write", got, err, len(n.writes))
	}
}
