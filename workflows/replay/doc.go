// Package replay keeps histories of real runs of the workflows and replays
// them against the current code: a change that would break a running
// workflow fails here instead of in production. `go test -tags record
// ./replay/` records them afresh on a Temporal dev server (after a change
// added to a workflow's change set, record new ones beside the old).
package replay
