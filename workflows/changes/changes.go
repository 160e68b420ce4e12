// Package changes says which of a workflow's changes a run takes, asking
// Temporal once per run instead of once per change.
//
// A change to a workflow whose runs are open is asked of Temporal with
// workflow.GetVersion: old histories replay on the old path, new runs take
// the new one. Each first ask records a marker and upserts the
// TemporalChangeVersion search attribute — an event, a visibility task and
// a visibility write on the cluster, per change and per run. A workflow
// that has gathered a handful of changes paid for all of them again in
// every new run's first steps.
//
// A Set names a workflow's changes and the level of the set each came in
// with. A run opens the set first thing: Temporal records the latest level
// once, and every change at or below it is taken without being asked.
// Runs recorded before the set existed find no marker, open it at
// DefaultVersion, and ask each change as they did. A change added later
// gets the next level: runs opened at an older level ask it alone.
//
// Histories of runs opened at a level replay only on code that knows that
// level; like any GetVersion change, the set does not support going back
// to older code while such runs are open.
package changes

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// Set is a workflow's changes, each with the level it came in with.
type Set struct {
	id     string
	since  map[string]workflow.Version
	latest workflow.Version
}

// New names a set; since gives each change's level (from 1).
func New(id string, since map[string]workflow.Version) *Set {
	s := &Set{id: id, since: since}
	for change, v := range since {
		if v < 1 {
			panic(fmt.Sprintf("changes: %s: change %q at level %d, want 1 or more", id, change, v))
		}
		s.latest = max(s.latest, v)
	}
	return s
}

// ID is the set's change ID: its runs' TemporalChangeVersion holds
// "<ID>-<level>".
func (s *Set) ID() string { return s.id }

// Latest is the level new runs open the set at.
func (s *Set) Latest() workflow.Version { return s.latest }

// Run is one run's view of the set.
type Run struct {
	set   *Set
	level workflow.Version
}

// Open asks which level of the set this run takes. Call it first in the
// workflow function, before anything asks about a change.
func (s *Set) Open(ctx workflow.Context) Run {
	return Run{set: s, level: workflow.GetVersion(ctx, s.id, workflow.DefaultVersion, s.latest)}
}

// Has tells whether the run takes the change: at once when the run's
// level includes it, else by asking Temporal about the change alone.
func (r Run) Has(ctx workflow.Context, change string) bool {
	since, ok := r.set.since[change]
	if !ok {
		panic(fmt.Sprintf("changes: %s has no change %q", r.set.id, change))
	}
	if r.level >= since {
		return true
	}
	return workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) == 1
}
