// Package runner runs the task, connection and wizard workflows and their
// activities against the services.
package runner

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/egress"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/mtls"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/connection"
	"github.com/telecomcrm/crm/workflows/imports"
	"github.com/telecomcrm/crm/workflows/taskflow"
	"github.com/telecomcrm/crm/workflows/wizard"
)

// Name is the worker's name in logs and as the identity it calls services with.
const Name = "worker"

// Config is the worker's configuration.
type Config struct {
	config.Common
	// WebhookSigningKey signs the calls of automatic processes' webhooks
	// (see taskflow.Sign); unset, webhook actions are refused.
	WebhookSigningKey string `env:"CRM_WEBHOOK_SIGNING_KEY"`
	// WebhookAllowPrivate lets webhook subscriptions call loopback and
	// private addresses (a development stack, a receiver inside the
	// operator's network); off, such calls are refused when dialled.
	WebhookAllowPrivate bool `env:"CRM_WEBHOOK_ALLOW_PRIVATE"`
	// PollStaleAfter is how long /healthz waits for a poll of the task
	// queue to come back (workflow and activity pollers each) before it
	// answers 503: twice the SDK's 70-second long poll by default.
	PollStaleAfter time.Duration `env:"CRM_WORKER_POLL_STALE_AFTER" envDefault:"2m20s"`
}

// Register puts the workflows and activities on a worker.
func Register(w worker.Registry, a *taskflow.Activities, contracts connection.Contracts) {
	w.RegisterWorkflowWithOptions(taskflow.TaskWorkflow, workflow.RegisterOptions{Name: taskflow.WorkflowName})
	w.RegisterWorkflowWithOptions(connection.ConnectionWorkflow, workflow.RegisterOptions{Name: connection.WorkflowName})
	w.RegisterWorkflowWithOptions(taskflow.FollowUpWorkflow, workflow.RegisterOptions{Name: taskflow.FollowUpWorkflowName})
	w.RegisterWorkflowWithOptions(taskflow.DeliveryWorkflow, workflow.RegisterOptions{Name: taskflow.DeliveryWorkflowName})
	w.RegisterActivity(a)
	w.RegisterActivity(&connection.Activities{Tasks: a.Tasks, Contracts: contracts})
}

// Run polls the task queue until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	key, err := cfg.SigningKey()
	if err != nil {
		return err
	}
	id, err := mtls.LoadFor(Name, cfg.TLS, log)
	if err != nil {
		return err
	}
	fwd := auth.NewForwarder(auth.NewKeyring(key), Name)
	dialer := grpcclient.Dialer{Forward: fwd, TLS: id}
	conns := map[string]*grpc.ClientConn{}
	for name, addr := range map[string]string{"task": cfg.Endpoints.Task, "contract": cfg.Endpoints.Contract, "customer": cfg.Endpoints.Customer, "notifier": cfg.Endpoints.Notifier} {
		c, err := dialer.Dial(name, addr)
		if err != nil {
			return err
		}
		defer c.Close()
		conns[name] = c
	}
	watch, stopServing, err := serveHealth(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopServing()
	tc, err := temporalclient.Dial(ctx, cfg.Temporal, log, time.Minute)
	if err != nil {
		return err
	}
	defer tc.Close()
	wc, err := watched(tc, cfg, watch, log)
	if err != nil {
		return err
	}
	defer wc.Close()
	w := worker.New(wc, cfg.Temporal.TaskQueue, worker.Options{})
	contracts := contractEffects{contractv1.NewContractServiceClient(conns["contract"]), taskv1.NewWebhookServiceClient(conns["task"])}
	Register(w, &taskflow.Activities{
		Tasks: taskv1.NewTaskServiceClient(conns["task"]), Contracts: contracts, ContractActions: contracts,
		Notifier: notifierv1.NewNotifierServiceClient(conns["notifier"]), Webhooks: taskflow.Webhooks{Key: []byte(cfg.WebhookSigningKey)},
		Subscriptions: taskflow.Subscriptions{
			InternalKey: key, Client: egress.Client(10*time.Second, cfg.WebhookAllowPrivate), Log: contracts.hooks,
		},
	}, contracts)
	imports.Register(w, &imports.Activities{Imports: contractv1.NewImportServiceClient(conns["contract"])})
	wizard.Register(w, &wizard.Activities{Customers: customerv1.NewCustomerServiceClient(conns["customer"]), Contracts: contractv1.NewContractServiceClient(conns["contract"]), Users: fwd, Log: log})
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting the worker on %s: %w", cfg.Temporal.TaskQueue, err)
	}
	log.Info("polling", "task_queue", cfg.Temporal.TaskQueue, "temporal", cfg.Temporal.Address)
	<-ctx.Done()
	w.Stop()
	return nil
}

// contractEffects changes contracts through the contract service.
type contractEffects struct {
	c     contractv1.ContractServiceClient
	hooks taskv1.WebhookServiceClient
}

func (e contractEffects) Record(ctx context.Context, req *contractv1.RecordContractRequest) error {
	_, err := e.c.RecordContract(ctx, req)
	return err
}

func (e contractEffects) Remove(ctx context.Context, id int64) error {
	_, err := e.c.DeleteContract(ctx, &contractv1.DeleteContractRequest{Id: id})
	return err
}

func (e contractEffects) Apply(ctx context.Context, id int64, effect taskv1.ContractEffect) error {
	var (
		c   interface{ GetContract() *contractv1.Contract }
		err error
	)
	switch effect {
	case taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE:
		c, err = e.c.ActivateContract(ctx, &contractv1.ActivateContractRequest{Id: id})
	case taskv1.ContractEffect_CONTRACT_EFFECT_CANCEL:
		c, err = e.c.CancelContract(ctx, &contractv1.CancelContractRequest{Id: id})
	case taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND:
		c, err = e.c.SuspendContract(ctx, &contractv1.SuspendContractRequest{Id: id})
	case taskv1.ContractEffect_CONTRACT_EFFECT_RESUME:
		c, err = e.c.ResumeContract(ctx, &contractv1.ResumeContractRequest{Id: id})
	case taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE:
		c, err = e.c.TerminateContract(ctx, &contractv1.TerminateContractRequest{Id: id})
	default:
		return nil
	}
	if err != nil {
		return err
	}
	return e.published(ctx, c.GetContract())
}

// published hands a contract's new status to the webhook subscriptions.
// The status changes are idempotent and keep their update time, so a
// retried activity publishes the same event id, which is taken once.
func (e contractEffects) published(ctx context.Context, c *contractv1.Contract) error {
	if e.hooks == nil || c == nil {
		return nil
	}
	at := c.GetUpdateTime()
	_, err := e.hooks.PublishWebhookEvent(ctx, &taskv1.PublishWebhookEventRequest{
		EventId: fmt.Sprintf("contract-%d/%s/%d", c.GetId(), strings.ToLower(strings.TrimPrefix(c.GetStatus().String(), "CONTRACT_STATUS_")), at.AsTime().UnixMicro()),
		Kind:    taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED, Time: at,
		ContractId: c.GetId(), ContractNumber: c.GetNumber(), CustomerId: c.GetCustomerId(), Status: c.GetStatus().String(), TariffId: c.GetTariffId(),
	})
	return err
}

// Change runs an automatic process's contract action.
func (e contractEffects) Change(ctx context.Context, a taskflow.ContractAction) error {
	if a.Operation == taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF {
		_, err := e.c.ChangeTariff(ctx, &contractv1.ChangeTariffRequest{Id: a.ContractID, TariffId: a.TariffID})
		return err
	}
	effect := map[taskv1.ContractOperation]taskv1.ContractEffect{
		taskv1.ContractOperation_CONTRACT_OPERATION_ACTIVATE:  taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE,
		taskv1.ContractOperation_CONTRACT_OPERATION_SUSPEND:   taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND,
		taskv1.ContractOperation_CONTRACT_OPERATION_RESUME:    taskv1.ContractEffect_CONTRACT_EFFECT_RESUME,
		taskv1.ContractOperation_CONTRACT_OPERATION_TERMINATE: taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE,
	}[a.Operation]
	if effect == taskv1.ContractEffect_CONTRACT_EFFECT_UNSPECIFIED {
		return status.Errorf(codes.InvalidArgument, "contract operation %s is unknown", a.Operation)
	}
	return e.Apply(ctx, a.ContractID, effect)
}
