package queueorder_test

import (
	"context"
	"testing"

	"github.com/telecomcrm/crm/workflows/queueorder"
)

func TestPeoplesWorkGoesBeforeAutomaticWorkAndThatBeforeBulkWork(t *testing.T) {
	people := queueorder.Start(context.Background()).PriorityKey
	bulk := queueorder.Start(queueorder.WithBulk(context.Background())).PriorityKey
	auto := queueorder.Automatic.PriorityKey
	// Temporal dispatches lower keys first, from 1 to 5.
	if !(1 <= people && people < auto && auto < bulk && bulk <= 5) {
		t.Fatalf("keys: people %d, automatic %d, bulk %d", people, auto, bulk)
	}
	if bulk != queueorder.Bulk.PriorityKey {
		t.Fatalf("a start marked bulk has key %d, bulk work's is %d", bulk, queueorder.Bulk.PriorityKey)
	}
}
