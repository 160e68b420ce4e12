// Package changestest tells a test which changes a workflow asked
// Temporal about.
package changestest

import (
	"slices"
	"sync"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Asked collects the change IDs a test environment's workflows pass to
// workflow.GetVersion.
type Asked struct {
	interceptor.WorkerInterceptorBase
	mu  sync.Mutex
	ids []string
}

// Watch has env's workflows report their GetVersion calls to the result.
func Watch(env *testsuite.TestWorkflowEnvironment) *Asked {
	a := &Asked{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{a}})
	return a
}

// IDs are the change IDs asked, each once, in the order first asked.
func (a *Asked) IDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ids)
}

func (a *Asked) asked(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(a.ids, id) {
		a.ids = append(a.ids, id)
	}
}

func (a *Asked) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &inbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, asked: a}
}

type inbound struct {
	interceptor.WorkflowInboundInterceptorBase
	asked *Asked
}

func (i *inbound) Init(next interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&outbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: next}, asked: i.asked})
}

type outbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	asked *Asked
}

func (o *outbound) GetVersion(ctx workflow.Context, changeID string, minSupported, maxSupported workflow.Version) workflow.Version {
	o.asked.asked(changeID)
	return o.Next.GetVersion(ctx, changeID, minSupported, maxSupported)
}
