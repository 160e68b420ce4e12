// Package patch carries out an update request the one way every service
// does: it finds the object the request names (by the id in the path or
// in the body), takes the version its etag was read at, applies the paths
// of its update mask to a copy of the object, checks the copy as a whole,
// and writes the changed columns only if the object is still at that
// version. What a path changes is the service's; the steps are shared.
package patch

import (
	"context"

	"github.com/telecomcrm/crm/services/platform/fault"
)

// Request is what an update request says about the object it changes.
type Request struct {
	// PathID and BodyID are the object's id in the REST path and in the
	// body; either serves, and two that differ are refused.
	PathID, BodyID int64
	// Etag is the version the caller read; empty: the update wins over
	// any other.
	Etag string
	// Paths are the update mask's paths.
	Paths []string
}

// Kind is how one kind of stored object R is updated.
type Kind[R any] struct {
	// Name names the object in messages ("tariff", "customer").
	Name string
	// Get reads the object; a missing one is a fault.NotFound.
	Get func(ctx context.Context, id int64) (*R, error)
	// Version is the object's version, the one its etag names.
	Version func(*R) int64
	// Set applies the field path names to next and adds the columns it
	// writes to cols; false: the path names no field that can be changed.
	Set func(next *R, path string, cols map[string]any) bool
	// Refusal describes a path Set refused, as a format for the path (%q).
	Refusal string
	// Check validates the object as it would be stored.
	Check func(*R) []fault.Violation
	// Update writes cols to the object if it is still at version, and
	// tells whether it did.
	Update func(ctx context.Context, id, version int64, cols map[string]any) (bool, error)
	// Changed, when set, is told of a change written: the object as it
	// was (the version the write was made on) and as it is now.
	Changed func(ctx context.Context, before, after *R)
}

// sentBack are the paths of fields a client sends back with the rest of
// an object it read; they are never changed, and naming them is no error.
var sentBack = map[string]bool{"id": true, "etag": true, "create_time": true, "update_time": true}

// Apply carries out r and returns the object as stored afterwards. An
// object changed since the caller read it is refused as Aborted with the
// reason STALE_ETAG, and nothing is written.
func (k Kind[R]) Apply(ctx context.Context, r Request) (*R, error) {
	id, err := fault.UpdatedID(k.Name, r.PathID, r.BodyID)
	if err != nil {
		return nil, err
	}
	current, err := k.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	version, err := fault.Version(r.Etag, k.Version(current))
	if err != nil {
		return nil, err
	}
	paths, err := fault.Mask(r.Paths)
	if err != nil {
		return nil, err
	}
	next := *current
	cols := map[string]any{}
	for _, p := range paths {
		if !sentBack[p] && !k.Set(&next, p, cols) {
			return nil, fault.Field("updateMask", k.Refusal, p)
		}
	}
	if errs := k.Check(&next); len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if len(cols) > 0 {
		written, err := k.Update(ctx, id, version, cols)
		if err != nil {
			return nil, err
		}
		if !written {
			// gone meanwhile (NotFound), or changed: a lost race
			if _, err := k.Get(ctx, id); err != nil {
				return nil, err
			}
			return nil, fault.New(fault.Aborted, "%s %d was changed by someone else meanwhile; reload it and try again", k.Name, id).Because("STALE_ETAG", nil)
		}
	}
	after, err := k.Get(ctx, id)
	if err == nil && len(cols) > 0 && k.Changed != nil {
		k.Changed(ctx, current, after)
	}
	return after, err
}
