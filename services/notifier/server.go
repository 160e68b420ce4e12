package notifier

import (
	"context"
	"strings"

	"google.golang.org/protobuf/proto"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
)

const maxEventID = 200

// Server implements notifierv1.NotifierServiceServer.
type Server struct {
	notifierv1.UnimplementedNotifierServiceServer
	svc *Service
}

// EnqueueTaskEvent stores the notice in the outbox (one insert: it is on
// the path of every task transition) and leaves the rest to the expander.
func (s *Server) EnqueueTaskEvent(ctx context.Context, req *notifierv1.EnqueueTaskEventRequest) (*notifierv1.EnqueueTaskEventResponse, error) {
	n := req.GetNotice()
	switch {
	case n == nil:
		return nil, fault.Field("notice", "the notice is missing")
	case strings.TrimSpace(n.GetEventId()) == "":
		return nil, fault.Field("notice.eventId", "the event id is missing; it makes a repeated call harmless")
	case len(n.GetEventId()) > maxEventID:
		return nil, fault.Field("notice.eventId", "the event id is longer than %d characters", maxEventID)
	case n.GetTaskId() <= 0 && n.GetWebhookDisabled() == nil:
		return nil, fault.Field("notice.taskId", "the task id is missing")
	}
	body, err := proto.Marshal(n)
	if err != nil {
		return nil, err
	}
	fresh, err := s.svc.store.enqueue(ctx, &eventRow{EventID: n.GetEventId(), TaskID: n.GetTaskId(), Notice: body})
	if err != nil {
		return nil, err
	}
	if !fresh {
		return &notifierv1.EnqueueTaskEventResponse{}, nil
	}
	s.svc.wake(s.svc.wakeExpand)
	return &notifierv1.EnqueueTaskEventResponse{Queued: 1}, nil
}

// GetDeliveryStats reads the queue's figures from the tables.
func (s *Server) GetDeliveryStats(ctx context.Context, _ *notifierv1.GetDeliveryStatsRequest) (*notifierv1.GetDeliveryStatsResponse, error) {
	st, err := s.svc.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return &notifierv1.GetDeliveryStatsResponse{
		PendingEvents:         st.PendingEvents,
		PendingMessages:       st.PendingMessages,
		SentMessages:          st.Sent,
		SkippedMessages:       st.Skipped,
		UnreachableMessages:   st.Unreachable,
		PossibleDuplicates:    st.PossibleDuplicates,
		BotEnabled:            s.svc.BotEnabled(),
		Retries:               st.Retries,
		FailedMessages:        st.Failed,
		SmsPending:            st.SMSPending,
		SmsSent:               st.SMSSent,
		SmsFailed:             st.SMSFailed,
		SmsPossibleDuplicates: st.SMSPossibleDuplicates,
	}, nil
}
