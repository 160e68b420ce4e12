package taskflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// A webhook subscription's event reaches it through a DeliveryWorkflow of
// its own: one POST activity, retried while the receiver is down or
// answering 5xx, then the outcome written to the delivery log. The
// workflow's id is the subscription and the event, and an id is never
// reused, so an event handed over twice is still delivered once.
const (
	DeliveryWorkflowName        = "WebhookDelivery"
	ActivityDeliverWebhook      = "DeliverWebhook"
	ActivityRecordDelivery      = "RecordWebhookDelivery"
	defaultDeliveryAttempts     = 20
	deliveryStartToCloseTimeout = 30 * time.Second
)

// deliveryRetry spaces a delivery's attempts: 5 s, then doubling up to
// every 5 minutes. Twenty attempts span about 75 minutes, which a
// receiver's restart or a short outage never outlasts. (A variable so a
// test can shorten it.)
var deliveryRetry = temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute}

// Delivery is one event for one subscription.
type Delivery struct {
	WebhookID int64
	// Salt is the subscription's part of its signing secret (see
	// WebhookSecret); not a secret itself.
	Salt    string
	URL     string
	EventID string
	// Body is the JSON posted, as the event was when it happened.
	Body json.RawMessage
	// Attempts bounds the tries (0: twenty).
	Attempts int32
}

// DeliveryOutcome is how the POST went: the attempt that ended it and the
// receiver's last status.
type DeliveryOutcome struct {
	Attempts   int32
	StatusCode int32
}

// Subscriptions is what deliveries use: the internal key their secrets
// are derived from, the HTTP client (nil: one with a ten-second timeout;
// production's refuses private addresses, see egress.Client), and the
// task service's delivery log.
type Subscriptions struct {
	InternalKey []byte
	Client      *http.Client
	Log         taskv1.WebhookServiceClient
}

// DeliveryWorkflowID names the delivery of an event to a subscription.
func DeliveryWorkflowID(webhookID int64, eventID string) string {
	return "webhook-" + strconv.FormatInt(webhookID, 10) + "/" + eventID
}

// WebhookSecret is a subscription's signing secret: derived from the
// deployment's internal key, the subscription and its salt, so it is
// stored nowhere and shown once when the subscription is made. (Changing
// the internal key changes every subscription's secret.)
func WebhookSecret(internalKey []byte, webhookID int64, salt string) string {
	m := hmac.New(sha256.New, auth.Derive(internalKey, "webhook-subscription"))
	m.Write([]byte(strconv.FormatInt(webhookID, 10) + "/" + salt))
	return "whsec_" + hex.EncodeToString(m.Sum(nil))
}

// DeliveryWorkflow posts one event to one subscription and logs how it went.
func DeliveryWorkflow(ctx workflow.Context, d Delivery) error {
	attempts := d.Attempts
	if attempts <= 0 {
		attempts = defaultDeliveryAttempts
	}
	retry := deliveryRetry
	retry.MaximumAttempts = attempts
	post := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: deliveryStartToCloseTimeout, RetryPolicy: &retry, Summary: d.EventID,
	})
	var out DeliveryOutcome
	err := workflow.ExecuteActivity(post, ActivityDeliverWebhook, d).Get(ctx, &out)
	rec := &taskv1.RecordWebhookDeliveryRequest{
		WebhookId: d.WebhookID, EventId: d.EventID, Delivered: err == nil,
		Attempts: out.Attempts, StatusCode: out.StatusCode, Time: timestamppb.New(workflow.Now(ctx)),
	}
	if err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			rec.Error = fitReason(app.Message())
			if app.HasDetails() {
				var last DeliveryOutcome
				if app.Details(&last) == nil {
					rec.Attempts, rec.StatusCode = last.Attempts, last.StatusCode
				}
			}
		} else {
			rec.Error = fitReason(err.Error())
		}
	}
	// Writing the outcome retries for as long as the task service is away.
	write := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	return workflow.ExecuteActivity(write, ActivityRecordDelivery, rec).Get(ctx, nil)
}

// DeliverWebhook posts a subscription's event, signed with its secret. A
// failed attempt's error carries the attempt and the status, so the log
// tells them when the last attempt fails.
func (a *Activities) DeliverWebhook(ctx context.Context, d Delivery) (DeliveryOutcome, error) {
	attempt := activity.GetInfo(ctx).Attempt
	if len(a.Subscriptions.InternalKey) == 0 {
		return DeliveryOutcome{}, temporal.NewNonRetryableApplicationError("webhook subscriptions are not configured: the worker has no internal key", "FailedPrecondition", nil)
	}
	code, err := Webhooks{Client: a.Subscriptions.Client, Now: a.Webhooks.Now}.post(ctx, d.URL, d.EventID, []byte(WebhookSecret(a.Subscriptions.InternalKey, d.WebhookID, d.Salt)), d.Body)
	out := DeliveryOutcome{Attempts: attempt, StatusCode: int32(code)}
	if err == nil {
		return out, nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		if app.NonRetryable() {
			return out, temporal.NewNonRetryableApplicationError(app.Message(), app.Type(), nil, out)
		}
		return out, temporal.NewApplicationError(app.Message(), app.Type(), out)
	}
	return out, temporal.NewApplicationError(err.Error(), "WebhookUnavailable", out)
}

// RecordWebhookDelivery writes a delivery's outcome to its log.
func (a *Activities) RecordWebhookDelivery(ctx context.Context, rec *taskv1.RecordWebhookDeliveryRequest) error {
	_, err := a.Subscriptions.Log.RecordWebhookDelivery(ctx, rec)
	return Retryable(err)
}

// Deliver starts the delivery of an event to a subscription; an event
// already handed over (its workflow running or done) is not sent again.
func (c *Client) Deliver(ctx context.Context, d Delivery) error {
	_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    DeliveryWorkflowID(d.WebhookID, d.EventID),
		TaskQueue:             c.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		Priority:              queueorder.Automatic,
	}, DeliveryWorkflowName, d)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("starting the delivery of %s: %w", d.EventID, err)
	}
	return nil
}
