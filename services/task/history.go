package task

import (
	"context"
	"strconv"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

type seqCursor struct {
	After int64 `json:"a"`
}

func (s *Server) ListComments(ctx context.Context, req *taskv1.ListCommentsRequest) (*taskv1.ListCommentsResponse, error) {
	if _, err := s.store.get(ctx, req.GetTaskId()); err != nil {
		return nil, err
	}
	query := "comments|" + strconv.FormatInt(req.GetTaskId(), 10)
	var cur seqCursor
	if _, err := s.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize(), 100, 500)
	rows, err := s.store.comments(ctx, req.GetTaskId(), cur.After, size+1)
	if err != nil {
		return nil, err
	}
	resp := &taskv1.ListCommentsResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.pages, query, rows, size, func(r *commentRow) any { return seqCursor{After: r.Sequence} })
	for i := range rows {
		resp.Comments = append(resp.Comments, rows[i].toProto())
	}
	return resp, nil
}

func (s *Server) ListTaskEvents(ctx context.Context, req *taskv1.ListTaskEventsRequest) (*taskv1.ListTaskEventsResponse, error) {
	if _, err := s.store.get(ctx, req.GetTaskId()); err != nil {
		return nil, err
	}
	query := "events|" + strconv.FormatInt(req.GetTaskId(), 10)
	var cur seqCursor
	if _, err := s.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize(), 100, 500)
	rows, err := s.store.events(ctx, req.GetTaskId(), cur.After, size+1)
	if err != nil {
		return nil, err
	}
	resp := &taskv1.ListTaskEventsResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.pages, query, rows, size, func(r *eventRow) any { return seqCursor{After: r.Sequence} })
	for i := range rows {
		resp.TaskEvents = append(resp.TaskEvents, rows[i].toProto())
	}
	return resp, nil
}
