// Package queueorder says which work Temporal hands the workers first when
// the task queue backs up: what a person waits on (opening a contract or a
// task, a command), then what workflows do on their own (automatic
// actions, webhook deliveries, follow-ups, contract effects), then bulk
// work (an import and the connections it opens). It is Temporal's task
// priority: keys 1 (first) to 5 (last); 3 for work that names none. The
// server's priority matcher must be on (matching.useNewMatcher, which the
// stacks of deploy/ set); without it the keys are carried and ignored.
package queueorder

import (
	"context"

	"go.temporal.io/sdk/temporal"
)

// The keys, in the order Temporal dispatches them.
const (
	peopleKey    = 2
	automaticKey = 4
	bulkKey      = 5
)

var (
	// Automatic is the priority of the activities a workflow runs on
	// its own rather than for a person who waits on the answer.
	Automatic = temporal.Priority{PriorityKey: automaticKey}
	// Bulk is the priority of bulk work's own workflows (imports).
	Bulk = temporal.Priority{PriorityKey: bulkKey}
)

type inBulk struct{}

// WithBulk marks the workflows started under ctx as bulk work's: an
// import's connections wait behind the contracts people open meanwhile.
func WithBulk(ctx context.Context) context.Context {
	return context.WithValue(ctx, inBulk{}, true)
}

// Start is the priority of a workflow started under ctx: a person's, or
// bulk work's when ctx is marked so. The workflow's own workflow tasks
// and its activities inherit it unless they name another.
func Start(ctx context.Context) temporal.Priority {
	if bulk, _ := ctx.Value(inBulk{}).(bool); bulk {
		return Bulk
	}
	return temporal.Priority{PriorityKey: peopleKey}
}
