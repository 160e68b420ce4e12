package notifier

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// fakeUser is a user as the fake identity service keeps one.
type fakeUser struct {
	ID         int64
	Login      string
	Name       string
	Language   string
	NotifySelf bool
	Groups     []int64
	Perms      []string
	ChatID     int64
	Supervisor bool
}

type linkCode struct {
	UserID  int64
	Used    bool
	Expired bool
}

type unlinkCall struct {
	ChatID int64
	Reason string
}

// fakeIdentity implements the identity service's calls the notifier makes.
type fakeIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
	mu      sync.Mutex
	users   map[int64]*fakeUser
	codes   map[string]*linkCode
	unlinks []unlinkCall
	redeems int
	// tries counts the codes tried per chat; after five the chat must
	// wait, as the identity service rules.
	tries map[int64]int
	// down answers every call with Unavailable.
	down atomic.Bool
}

func (f *fakeIdentity) user(id int64) fakeUser {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.users[id]
}

func (f *fakeIdentity) unlinkCalls() []unlinkCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]unlinkCall(nil), f.unlinks...)
}

func (f *fakeIdentity) redeemCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.redeems
}

func (f *fakeIdentity) unavailable() error {
	if f.down.Load() {
		return status.Error(codes.Unavailable, "identity is restarting")
	}
	return nil
}

func (f *fakeIdentity) ListRecipients(ctx context.Context, req *identityv1.ListRecipientsRequest) (*identityv1.ListRecipientsResponse, error) {
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	if p, _ := auth.From(ctx); p == nil || p.Service != Name {
		return nil, status.Error(codes.PermissionDenied, "the notifier asks for recipients as itself")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*identityv1.Recipient
	for _, id := range sortedIDs(f.users) {
		u := f.users[id]
		var in []int64
		for _, g := range req.GetGroupIds() {
			if slices.Contains(u.Groups, g) {
				in = append(in, g)
			}
		}
		if len(in) == 0 && !(req.GetIncludeSupervisors() && u.Supervisor) && !slices.Contains(req.GetUserIds(), u.ID) {
			continue
		}
		out = append(out, &identityv1.Recipient{
			UserId: u.ID, DisplayName: u.Name, Language: u.Language, NotifySelf: u.NotifySelf,
			TelegramChatId: u.ChatID, GroupIds: in,
		})
	}
	return &identityv1.ListRecipientsResponse{Recipients: out}, nil
}

func (f *fakeIdentity) RedeemTelegramLink(_ context.Context, req *identityv1.RedeemTelegramLinkRequest) (*identityv1.RedeemTelegramLinkResponse, error) {
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redeems++
	if f.tries == nil {
		f.tries = map[int64]int{}
	}
	if f.tries[req.GetChatId()]++; f.tries[req.GetChatId()] > 5 {
		st, _ := status.New(codes.ResourceExhausted, "too many link codes tried from this chat; wait 10 min before trying again").
			WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(10 * time.Minute)})
		return nil, st.Err()
	}
	c, ok := f.codes[req.GetCode()]
	switch {
	case !ok:
		return nil, fault.New(fault.NotFound, "this link code is unknown; ask the console for a new one").Because("LINK_CODE_UNKNOWN", nil)
	case c.Used:
		return nil, fault.New(fault.FailedPrecondition, "this link code has been used already").Because("LINK_CODE_USED", nil)
	case c.Expired:
		return nil, fault.New(fault.FailedPrecondition, "this link code has expired").Because("LINK_CODE_EXPIRED", nil)
	}
	c.Used = true
	for _, u := range f.users {
		if u.ChatID == req.GetChatId() {
			u.ChatID = 0
		}
	}
	u := f.users[c.UserID]
	u.ChatID = req.GetChatId()
	return &identityv1.RedeemTelegramLinkResponse{UserId: u.ID, DisplayName: u.Name, Language: u.Language}, nil
}

func (f *fakeIdentity) UnlinkTelegram(_ context.Context, req *identityv1.UnlinkTelegramRequest) (*identityv1.UnlinkTelegramResponse, error) {
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unlinks = append(f.unlinks, unlinkCall{ChatID: req.GetChatId(), Reason: req.GetReason()})
	for _, u := range f.users {
		if u.ChatID == req.GetChatId() {
			u.ChatID = 0
		}
	}
	return &identityv1.UnlinkTelegramResponse{}, nil
}

func (f *fakeIdentity) ResolveTelegramChat(_ context.Context, req *identityv1.ResolveTelegramChatRequest) (*identityv1.ResolveTelegramChatResponse, error) {
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.ChatID != 0 && u.ChatID == req.GetChatId() {
			return &identityv1.ResolveTelegramChatResponse{
				UserId: u.ID, Login: u.Login, DisplayName: u.Name, Language: u.Language,
				Permissions: u.Perms, GroupIds: u.Groups,
			}, nil
		}
	}
	return nil, fault.New(fault.NotFound, "this chat is not linked")
}

func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// taskCall is a task command the fake task service carried out, with the
// caller it saw.
type taskCall struct {
	Method    string
	TaskID    int64
	ProcessID int64
	Text      string
	Caller    auth.Principal
}

// fakeTasks implements the task service's calls the bot makes, with the
// checks the real one makes: a user, a stale process refused (409), a
// closed task refused (400), a user outside the current group refused
// (403).
type fakeTasks struct {
	taskv1.UnimplementedTaskServiceServer
	mu    sync.Mutex
	tasks map[int64]*taskv1.Task
	calls []taskCall
}

func (f *fakeTasks) task(id int64) *taskv1.Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	return proto.Clone(f.tasks[id]).(*taskv1.Task)
}

func (f *fakeTasks) update(id int64, change func(t *taskv1.Task)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f.tasks[id])
}

func (f *fakeTasks) done() []taskCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]taskCall(nil), f.calls...)
}

// command checks a command on a task as the real service would and, when
// it passes, applies it under the lock.
func (f *fakeTasks) command(ctx context.Context, method string, id, processID int64, text string, apply func(t *taskv1.Task) error) (*taskv1.Task, error) {
	p, ok := auth.From(ctx)
	if !ok || p.IsService() {
		return nil, status.Error(codes.PermissionDenied, "a user must be behind this call")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[id]
	switch {
	case !ok:
		return nil, fault.New(fault.NotFound, "task %d does not exist", id)
	case t.GetState() != taskv1.TaskState_TASK_STATE_OPEN:
		return nil, fault.New(fault.FailedPrecondition, "task %d is closed", id)
	case processID != 0 && processID != t.GetCurrentProcess().GetId():
		return nil, fault.New(fault.Aborted, "task %d has moved on to another process", id)
	case !p.InGroup(t.GetCurrentProcess().GetGroupId()):
		return nil, fault.New(fault.PermissionDenied, "you are not a member of the group of the task's current process")
	}
	if err := apply(t); err != nil {
		return nil, err
	}
	f.calls = append(f.calls, taskCall{Method: method, TaskID: id, ProcessID: processID, Text: text, Caller: *p})
	return proto.Clone(t).(*taskv1.Task), nil
}

func moveTo(t *taskv1.Task, pos int) {
	if pos >= len(t.GetProcesses()) {
		t.State, t.CurrentProcess = taskv1.TaskState_TASK_STATE_CLOSED, nil
		return
	}
	t.CurrentProcess = proto.Clone(t.GetProcesses()[pos]).(*taskv1.Process)
}

func position(t *taskv1.Task) int {
	for i, p := range t.GetProcesses() {
		if p.GetId() == t.GetCurrentProcess().GetId() {
			return i
		}
	}
	return -1
}

func (f *fakeTasks) AssignTask(ctx context.Context, req *taskv1.AssignTaskRequest) (*taskv1.AssignTaskResponse, error) {
	t, err := f.command(ctx, "AssignTask", req.GetId(), req.GetProcessId(), "", func(t *taskv1.Task) error {
		p, _ := auth.From(ctx)
		t.AssigneeId = p.UserID
		if req.GetUserId() != 0 {
			t.AssigneeId = req.GetUserId()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskv1.AssignTaskResponse{Task: t}, nil
}

func (f *fakeTasks) AdvanceTask(ctx context.Context, req *taskv1.AdvanceTaskRequest) (*taskv1.AdvanceTaskResponse, error) {
	t, err := f.command(ctx, "AdvanceTask", req.GetId(), req.GetProcessId(), req.GetComment(), func(t *taskv1.Task) error {
		moveTo(t, position(t)+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskv1.AdvanceTaskResponse{Task: t}, nil
}

func (f *fakeTasks) ReturnTask(ctx context.Context, req *taskv1.ReturnTaskRequest) (*taskv1.ReturnTaskResponse, error) {
	if req.GetComment() == "" {
		return nil, fault.Field("comment", "say why the task goes back")
	}
	t, err := f.command(ctx, "ReturnTask", req.GetId(), req.GetProcessId(), req.GetComment(), func(t *taskv1.Task) error {
		pos := position(t)
		if pos <= 0 {
			return fault.New(fault.FailedPrecondition, "the task is in its first process; there is nothing to return it to")
		}
		moveTo(t, pos-1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskv1.ReturnTaskResponse{Task: t}, nil
}

func (f *fakeTasks) AddComment(ctx context.Context, req *taskv1.AddCommentRequest) (*taskv1.AddCommentResponse, error) {
	p, ok := auth.From(ctx)
	if !ok || p.IsService() {
		return nil, status.Error(codes.PermissionDenied, "a user must be behind this call")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.tasks[req.GetTaskId()]; !ok {
		return nil, fault.New(fault.NotFound, "task %d does not exist", req.GetTaskId())
	}
	f.calls = append(f.calls, taskCall{Method: "AddComment", TaskID: req.GetTaskId(), Text: req.GetText(), Caller: *p})
	return &taskv1.AddCommentResponse{Comment: &taskv1.Comment{TaskId: req.GetTaskId(), AuthorId: p.UserID, Text: req.GetText()}}, nil
}

func (f *fakeTasks) GetTask(ctx context.Context, req *taskv1.GetTaskRequest) (*taskv1.GetTaskResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[req.GetId()]
	if !ok {
		return nil, fault.New(fault.NotFound, "task %d does not exist", req.GetId())
	}
	return &taskv1.GetTaskResponse{Task: proto.Clone(t).(*taskv1.Task)}, nil
}

func (f *fakeTasks) ListTasks(ctx context.Context, req *taskv1.ListTasksRequest) (*taskv1.ListTasksResponse, error) {
	if p, ok := auth.From(ctx); !ok || p.IsService() {
		return nil, status.Error(codes.PermissionDenied, "a user must be behind this call")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*taskv1.Task
	for _, id := range sortedIDs(f.tasks) {
		t := f.tasks[id]
		if req.GetGroupId() != 0 && t.GetCurrentProcess().GetGroupId() != req.GetGroupId() {
			continue
		}
		if req.GetState() != taskv1.TaskState_TASK_STATE_UNSPECIFIED && t.GetState() != req.GetState() {
			continue
		}
		out = append(out, proto.Clone(t).(*taskv1.Task))
	}
	return &taskv1.ListTasksResponse{Tasks: out}, nil
}

// Work groups and people of the fixture.
const (
	groupInstallers   = 10
	groupProvisioning = 20
	groupSupervisors  = 30
)

var engineer = []string{"customers.read", "contracts.read", "tasks.read", "tasks.work", "settings.read"}

// fixtureUsers: Anna and Boris install (Boris reads Russian), Dina too but
// without Telegram; Carl and Egor provision (Egor hears of his own
// actions); Sveta supervises; Vera installs but may only look.
func fixtureUsers() map[int64]*fakeUser {
	return map[int64]*fakeUser{
		1: {ID: 1, Login: "anna", Name: "Anna <Lead> & Co", Language: "en", Groups: []int64{groupInstallers}, Perms: engineer, ChatID: 1001},
		2: {ID: 2, Login: "boris", Name: "Борис", Language: "ru", Groups: []int64{groupInstallers}, Perms: engineer, ChatID: 1002},
		3: {ID: 3, Login: "carl", Name: "Carl", Language: "en", Groups: []int64{groupProvisioning}, Perms: engineer, ChatID: 1003},
		4: {ID: 4, Login: "dina", Name: "Dina", Language: "ru", Groups: []int64{groupInstallers}, Perms: engineer},
		5: {ID: 5, Login: "egor", Name: "Egor", Language: "en", NotifySelf: true, Groups: []int64{groupProvisioning}, Perms: engineer, ChatID: 1005},
		6: {ID: 6, Login: "sveta", Name: "Sveta", Language: "en", Groups: []int64{groupSupervisors}, Perms: append([]string{"tasks.manage"}, engineer...), ChatID: 1006, Supervisor: true},
		7: {ID: 7, Login: "vera", Name: "Vera", Language: "en", Groups: []int64{groupInstallers}, Perms: servicetest.Viewer, ChatID: 1007},
	}
}

// Task 40 runs on the Repair route: Diagnostics (installers), Provisioning,
// Quality call (supervisors); it is in Diagnostics.
func fixtureTasks() map[int64]*taskv1.Task {
	procs := []*taskv1.Process{
		{Id: 101, Name: "Diagnostics", GroupId: groupInstallers, Position: 1},
		{Id: 102, Name: "Provisioning", GroupId: groupProvisioning, Position: 2},
		{Id: 103, Name: "Quality call", GroupId: groupSupervisors, Position: 3},
	}
	t := &taskv1.Task{
		Id: 40, Number: "T-000040", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, State: taskv1.TaskState_TASK_STATE_OPEN,
		Title: "No internet at home", RouteId: 2, RouteName: "Repair", ContractId: 7, ContractNumber: "C-000007",
		CustomerId: 3, CustomerName: "Ivan Petrov", Processes: procs,
		CurrentProcess: proto.Clone(procs[0]).(*taskv1.Process),
	}
	other := proto.Clone(t).(*taskv1.Task)
	other.Id, other.Number, other.Title = 41, "T-000041", "Change the tariff"
	other.CurrentProcess = proto.Clone(procs[1]).(*taskv1.Process)
	return map[int64]*taskv1.Task{40: t, 41: other}
}
