package temporalclient

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/telecomcrm/crm/services/platform/requestid"
)

// headerKey is the Temporal header that carries a request id from the
// call that started or updated a workflow to the activities it schedules.
const headerKey = "crm-request-id"

// requestIDPropagator carries the request id through Temporal: from the
// service that starts or updates a workflow, into the workflow, and from
// the workflow into its activities, whose calls to the services forward it
// again.
type requestIDPropagator struct{}

func (requestIDPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return inject(requestid.From(ctx), w)
}

func (requestIDPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if id := extract(r); id != "" {
		return requestid.With(ctx, id), nil
	}
	return ctx, nil
}

func (requestIDPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	id, _ := ctx.Value(wfKey{}).(string)
	return inject(id, w)
}

func (requestIDPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if id := extract(r); id != "" {
		return workflow.WithValue(ctx, wfKey{}, id), nil
	}
	return ctx, nil
}

type wfKey struct{}

func inject(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(headerKey, p)
	return nil
}

func extract(r workflow.HeaderReader) string {
	p, ok := r.Get(headerKey)
	if !ok {
		return ""
	}
	var id string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &id); err != nil || len(id) > 64 {
		return ""
	}
	return id
}

// activityLogging puts the request id on an activity's log lines and logs
// each activity with it (a failure as a warning, the rest at debug, like
// the services' calls), so a request can be followed from the gateway
// through the services into the worker.
type activityLogging struct {
	interceptor.InterceptorBase
	log *slog.Logger
}

func (a *activityLogging) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &activityInbound{log: a.log}
	i.Next = next
	return i
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
	log *slog.Logger
}

func (i *activityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &activityOutbound{}
	o.Next = outbound
	return i.Next.Init(o)
}

func (i *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	start := time.Now()
	out, err := i.Next.ExecuteActivity(ctx, in)
	info := activity.GetInfo(ctx)
	attrs := []any{"activity", info.ActivityType.Name, "workflow_id", info.WorkflowExecution.ID,
		"attempt", info.Attempt, "request_id", requestid.From(ctx), "duration", time.Since(start)}
	if err != nil && ctx.Err() == nil {
		i.log.WarnContext(ctx, "activity failed", append(attrs, "err", err)...)
	} else {
		i.log.DebugContext(ctx, "activity done", attrs...)
	}
	return out, err
}

type activityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (o *activityOutbound) GetLogger(ctx context.Context) tlog.Logger {
	l := o.Next.GetLogger(ctx)
	if id := requestid.From(ctx); id != "" {
		return tlog.With(l, "request_id", id)
	}
	return l
}
