package identity

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/locale"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

const (
	maxAction = 64
	maxTarget = 200
	maxDetail = 1000
	maxParam  = 200
)

// auditRow is one entry of the audit log: who did what, when and from
// where. It never holds a password, token or link code.
type auditRow struct {
	ID            int64
	At            int64
	ActorID       int64
	ActorLogin    string
	Action        string
	Target        string
	ClientAddress string
	// Detail is free text: all that entries written before the codes have.
	Detail string
	// DetailCode and DetailParams (a JSON object) are what the server
	// composed, rendered by each reader's console in its language.
	DetailCode   string
	DetailParams string
}

// detail is what an entry says beyond its action: a code and its named
// parameters (docs/language.md).
type detail struct {
	code   string
	params map[string]string
}

// say makes a detail of a code and pairs of parameter names and values.
func say(code string, pairs ...string) detail {
	d := detail{code: code}
	if len(pairs) > 0 {
		d.params = make(map[string]string, len(pairs)/2)
		for i := 0; i+1 < len(pairs); i += 2 {
			d.params[pairs[i]] = clip(pairs[i+1], maxParam)
		}
	}
	return d
}

// with sets the entry's detail.
func (r auditRow) with(d detail) auditRow {
	r.DetailCode, r.DetailParams = d.code, locale.EncodeParams(d.params)
	return r
}

func (auditRow) TableName() string { return "audit_events" }

// audit writes an entry. The change it records has happened already, so a
// failure to write is logged rather than answered; a cancelled request
// still gets its entry.
func (s *Server) audit(ctx context.Context, ev auditRow) {
	if err := s.writeAudit(ctx, ev); err != nil {
		s.logger(ctx).Error("writing the audit log failed", "action", ev.Action, "err", err)
	}
}

func (s *Server) writeAudit(ctx context.Context, ev auditRow) error {
	if ev.At == 0 {
		ev.At = s.store.micros()
	}
	ev.ActorLogin = clip(ev.ActorLogin, 64)
	ev.Target = clip(ev.Target, maxTarget)
	ev.ClientAddress = clip(ev.ClientAddress, 100)
	ev.Detail = clip(ev.Detail, maxDetail)
	return s.store.db.WithContext(context.WithoutCancel(ctx)).Create(&ev).Error
}

// auditByCaller writes an entry for what the caller of the request did.
func (s *Server) auditByCaller(ctx context.Context, action, target string, d detail) {
	p := caller(ctx)
	login := p.Login
	if p.IsService() {
		login = "service:" + p.Service
	}
	s.audit(ctx, auditRow{ActorID: p.UserID, ActorLogin: login, Action: action, Target: target, ClientAddress: clientAddress(ctx)}.with(d))
}

// validAction tells whether s is a dotted action name ("task.advance").
func validAction(s string) bool {
	if s == "" || len(s) > maxAction {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Server) ListAuditEvents(ctx context.Context, req *identityv1.ListAuditEventsRequest) (*identityv1.ListAuditEventsResponse, error) {
	prefix := strings.ToLower(strings.TrimSpace(req.GetActionPrefix()))
	if prefix != "" && !validAction(prefix) {
		return nil, fault.Field("actionPrefix", "an action prefix is up to %d characters: a-z, 0-9, '.', '_' or '-'", maxAction)
	}
	if req.GetActorId() < 0 {
		return nil, fault.Field("actorId", "an actor id is positive")
	}
	size := pagetoken.Size(req.GetPageSize(), 50, 200)
	query := "audit|" + prefix + "|" + strconv.FormatInt(req.GetActorId(), 10)
	var before int64
	if _, err := s.pages.Decode(req.GetPageToken(), query, &before); err != nil {
		return nil, err
	}
	q := s.store.db.WithContext(ctx).Model(&auditRow{})
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if prefix != "" {
		q = q.Where(`action LIKE ? ESCAPE '\'`, textsearch.EscapeLike(prefix)+"%")
	}
	if req.GetActorId() != 0 {
		q = q.Where("actor_id = ?", req.GetActorId())
	}
	var rows []auditRow
	if err := q.Order("id DESC").Limit(size + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	resp := &identityv1.ListAuditEventsResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.pages, query, rows, size, func(r *auditRow) any { return r.ID })
	for _, r := range rows {
		resp.AuditEvents = append(resp.AuditEvents, &identityv1.AuditEvent{
			Id:            r.ID,
			Time:          micros.Proto(r.At),
			ActorId:       r.ActorID,
			ActorLogin:    r.ActorLogin,
			Action:        r.Action,
			Target:        r.Target,
			ClientAddress: r.ClientAddress,
			Detail:        r.Detail,
			DetailCode:    r.DetailCode,
			DetailParams:  locale.DecodeParams(r.DetailParams),
		})
	}
	return resp, nil
}

func (s *Server) RecordAuditEvent(ctx context.Context, req *identityv1.RecordAuditEventRequest) (*identityv1.RecordAuditEventResponse, error) {
	ev := req.GetEvent()
	if ev == nil {
		return nil, fault.Field("event", "the event is missing")
	}
	var errs []fault.Violation
	action := strings.TrimSpace(ev.GetAction())
	if !validAction(action) {
		errs = append(errs, fault.Violation{Field: "event.action", Description: fmt.Sprintf("an action is a dotted name of up to %d characters (a-z, 0-9, '.', '_', '-'), such as task.advance", maxAction)})
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"event.target", ev.GetTarget(), maxTarget},
		{"event.clientAddress", ev.GetClientAddress(), 100},
		{"event.detail", ev.GetDetail(), maxDetail},
		{"event.actorLogin", ev.GetActorLogin(), 64},
	} {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			errs = append(errs, fault.Violation{Field: f.field, Description: fmt.Sprintf("at most %d characters, not %d", f.max, n)})
		}
	}
	if ev.GetActorId() < 0 {
		errs = append(errs, fault.Violation{Field: "event.actorId", Description: "an actor id is positive"})
	}
	if ev.GetTime() != nil && !ev.GetTime().IsValid() {
		errs = append(errs, fault.Violation{Field: "event.time", Description: "the time is not a valid timestamp"})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	row := auditRow{
		ActorID: ev.GetActorId(), ActorLogin: ev.GetActorLogin(), Action: action,
		Target: ev.GetTarget(), ClientAddress: ev.GetClientAddress(), Detail: ev.GetDetail(),
		DetailCode: ev.GetDetailCode(), DetailParams: locale.EncodeParams(ev.GetDetailParams()),
	}
	row.At = micros.FromProto(ev.GetTime())
	if row.ActorLogin == "" && row.ActorID != 0 {
		if u, err := s.store.userByID(ctx, row.ActorID); err == nil {
			row.ActorLogin = u.Login
		}
	}
	if err := s.writeAudit(ctx, row); err != nil {
		return nil, err
	}
	return &identityv1.RecordAuditEventResponse{}, nil
}
