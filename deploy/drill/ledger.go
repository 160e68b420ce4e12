package drill

import (
	"fmt"
	"sync"
)

// Task states, events and kinds as the REST API names them.
const (
	stateOpen      = "TASK_STATE_OPEN"
	stateClosed    = "TASK_STATE_CLOSED"
	stateCancelled = "TASK_STATE_CANCELLED"

	eventCreated   = "TASK_EVENT_KIND_CREATED"
	eventAdvanced  = "TASK_EVENT_KIND_ADVANCED"
	eventReturned  = "TASK_EVENT_KIND_RETURNED"
	eventAssigned  = "TASK_EVENT_KIND_ASSIGNED"
	eventCommented = "TASK_EVENT_KIND_COMMENTED"
	eventSLA       = "TASK_EVENT_KIND_SLA_BREACHED"
	eventClosed    = "TASK_EVENT_KIND_CLOSED"
	eventCancelled = "TASK_EVENT_KIND_CANCELLED"

	kindConnection = "TASK_KIND_CONNECTION"
	kindService    = "TASK_KIND_SERVICE"

	contractPending   = "CONTRACT_STATUS_PENDING"
	contractActive    = "CONTRACT_STATUS_ACTIVE"
	contractCancelled = "CONTRACT_STATUS_CANCELLED"
)

// step is a command a client believes it carried out, and the timeline
// event it makes.
type step struct {
	Command string // comment, advance, return, cancel
	Event   string
	Text    string
	Actor   string
	// Comment: the step leaves a comment (its text) on the task.
	Comment bool
	// Seen: no answer said the step was done; the client found it in the
	// read model after an attempt whose answer was lost. Where it landed
	// among the client's other steps is not known (Temporal may deliver
	// that attempt after a later command).
	Seen bool
}

// taskRecord is what a client believes of one task: what it did to it and
// so where the task must stand.
type taskRecord struct {
	Job       int
	Kind      string
	ID        string
	Title     string
	Contract  string
	Processes []process
	Steps     []step
	// Where the task must stand.
	State       string
	Position    int
	CloseReason string
	// Abandoned says why the client stopped working on the task (an answer
	// it did not expect); the task's state is then not known.
	Abandoned string
}

func (t *taskRecord) expectedEvents() []step {
	return append([]step{{Event: eventCreated}}, t.Steps...)
}

// ledger is what every client believes it did.
type ledger struct {
	mu        sync.Mutex
	tasks     []*taskRecord
	customers map[string]bool
	contracts map[string]*taskRecord // contract id → its connection task
	// strayContracts are contracts a client found without a connection
	// task after an attempt whose answer was lost, and so opened another.
	strayContracts []string
}

func newLedger() *ledger {
	return &ledger{customers: map[string]bool{}, contracts: map[string]*taskRecord{}}
}

func (l *ledger) addTask(t *taskRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tasks = append(l.tasks, t)
	if t.Kind == kindConnection {
		l.contracts[t.Contract] = t
	}
}

func (l *ledger) addCustomer(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.customers[id] = true
}

func (l *ledger) addStrayContract(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.strayContracts = append(l.strayContracts, id)
}

// token marks a text the drill wrote, so a Telegram message can be traced
// back to its event: "[d:<job>.<n>]".
func token(job, n int) string { return fmt.Sprintf("[d:%d.%d]", job, n) }

// contractStatus is the status a contract must have after its connection
// task.
func contractStatus(t *taskRecord) string {
	switch t.State {
	case stateClosed:
		return contractActive
	case stateCancelled:
		return contractCancelled
	}
	return contractPending
}
