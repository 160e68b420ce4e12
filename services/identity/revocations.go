package identity

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/process"
)

// The gateway keeps the answers of Authenticate for a few seconds and
// drops them when told here that they went stale. Each change is told
// after its transaction commits, so a gateway that drops an answer and
// asks again reads the change.
//
// Every replica must tell its watchers of every change, whichever replica
// made it: on PostgreSQL a change is sent as a NOTIFY and each replica
// passes on what its LISTEN hears; on SQLite there is one process, which
// passes its changes on itself. A replica that may have missed one (its
// LISTEN connection broke, a watcher fell behind) ends its streams, and
// the gateway then forgets what it kept until it watches again.

// revocationChannel is the PostgreSQL notification channel of the changes.
const revocationChannel = "crm_identity_revocations"

// heartbeat is how often a quiet stream says it is still live, so a
// gateway tells a lost connection from a quiet time (it waits 5 s).
const heartbeat = 2 * time.Second

// watcherBuffer is how many revocations a watcher may fall behind before
// its stream is ended.
const watcherBuffer = 256

// revocation is what went stale: one session, one user's sessions, or
// every session.
type revocation struct {
	sessionID string
	userID    int64
	everyone  bool
}

func sessionRevoked(id int64) revocation { return revocation{sessionID: strconv.FormatInt(id, 10)} }
func userRevoked(id int64) revocation    { return revocation{userID: id} }

// encode and decodeRevocation are a NOTIFY's payload: "s:ID", "u:ID", "*".
func (r revocation) encode() string {
	switch {
	case r.everyone:
		return "*"
	case r.sessionID != "":
		return "s:" + r.sessionID
	}
	return "u:" + strconv.FormatInt(r.userID, 10)
}

func decodeRevocation(s string) (revocation, bool) {
	if s == "*" {
		return revocation{everyone: true}, true
	}
	kind, id, ok := strings.Cut(s, ":")
	switch {
	case !ok || id == "":
		return revocation{}, false
	case kind == "s":
		return revocation{sessionID: id}, true
	case kind == "u":
		n, err := strconv.ParseInt(id, 10, 64)
		return revocation{userID: n}, err == nil
	}
	return revocation{}, false
}

func (r revocation) proto() *identityv1.WatchRevocationsResponse {
	switch {
	case r.everyone:
		return &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_Everyone{Everyone: true}}
	case r.sessionID != "":
		return &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_SessionId{SessionId: r.sessionID}}
	}
	return &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_UserId{UserId: r.userID}}
}

// revocations passes changes on to the streams watching this replica.
type revocations struct {
	db  *gorm.DB
	log *slog.Logger

	mu sync.Mutex
	// live: every change from now on reaches the watchers; streams are
	// refused while it is false.
	live     bool
	watchers map[chan revocation]struct{}
}

func newRevocations(db *gorm.DB, log *slog.Logger) *revocations {
	return &revocations{db: db, log: log, watchers: map[chan revocation]struct{}{}}
}

// errNotLive refuses a watcher while changes could be missed.
var errNotLive = status.Error(codes.Unavailable, "revocations cannot be watched at the moment; try again")

// watch adds a watcher; its channel is closed when it has fallen behind or
// the replica stopped hearing changes.
func (h *revocations) watch() (chan revocation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.live {
		return nil, errNotLive
	}
	ch := make(chan revocation, watcherBuffer)
	h.watchers[ch] = struct{}{}
	return ch, nil
}

func (h *revocations) unwatch(ch chan revocation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[ch]; ok {
		delete(h.watchers, ch)
		close(ch)
	}
}

// pass hands r to every watcher; one whose buffer is full is dropped, as
// it has missed a change.
func (h *revocations) pass(r revocation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.watchers {
		select {
		case ch <- r:
		default:
			delete(h.watchers, ch)
			close(ch)
			h.log.Warn("a revocation watcher fell behind; its stream ends")
		}
	}
}

// setLive turns watching on or off; off ends every stream.
func (h *revocations) setLive(live bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.live = live
	if !live {
		for ch := range h.watchers {
			delete(h.watchers, ch)
			close(ch)
		}
	}
}

// tell sends r to the watchers of every replica. It is called after the
// change committed; when it fails, the gateways hold the stale answer no
// longer than their cache's lifetime (CRM_SESSION_CACHE_TTL).
func (h *revocations) tell(ctx context.Context, r revocation) {
	if !database.IsPostgres(h.db) {
		h.pass(r)
		return
	}
	// Delivered to every listener, this replica's included, on commit.
	if err := h.db.WithContext(context.WithoutCancel(ctx)).Exec("SELECT pg_notify(?, ?)", revocationChannel, r.encode()).Error; err != nil {
		h.log.ErrorContext(ctx, "cannot tell the gateways of a revocation", "revocation", r.encode(), "err", err)
	}
}

// run keeps watching possible until ctx ends: on PostgreSQL it listens
// for the changes of every replica, coming back after a broken connection
// with a growing pause.
func (h *revocations) run(ctx context.Context) error {
	defer h.setLive(false)
	if !database.IsPostgres(h.db) {
		h.setLive(true)
		<-ctx.Done()
		return nil
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = 100*time.Millisecond, 5*time.Second
	for {
		started := time.Now()
		err := h.listen(ctx)
		h.setLive(false)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > time.Minute {
			b.Reset()
		}
		h.log.Warn("listening for revocations failed; the gateways re-check every session until it is back", "err", err)
		if !process.Sleep(ctx, b.NextBackOff()) {
			return nil
		}
	}
}

// listen holds one pooled connection in LISTEN and passes on what it
// hears until the connection breaks or ctx ends. The connection is then
// discarded, not returned to the pool still listening.
func (h *revocations) listen(ctx context.Context) error {
	sqlDB, err := h.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var heard error
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			heard = errors.New("the PostgreSQL driver is not pgx")
			return driver.ErrBadConn
		}
		pg := c.Conn()
		if _, err := pg.Exec(ctx, "LISTEN "+revocationChannel); err != nil {
			heard = err
			return driver.ErrBadConn
		}
		h.setLive(true)
		for {
			n, err := pg.WaitForNotification(ctx)
			if err != nil {
				heard = err
				return driver.ErrBadConn
			}
			if r, ok := decodeRevocation(n.Payload); ok {
				h.pass(r)
			} else {
				h.log.Warn("an unreadable revocation was heard; the gateways start afresh", "payload", n.Payload)
				h.pass(revocation{everyone: true})
			}
		}
	})
	if heard != nil {
		return heard
	}
	return err
}

func (s *Server) WatchRevocations(_ *identityv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
	ch, err := s.revocations.watch()
	if err != nil {
		return err
	}
	defer s.revocations.unwatch(ch)
	if err := stream.Send(&identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_Live{Live: true}}); err != nil {
		return err
	}
	ctx := stream.Context()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			if err := stream.Send(&identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_Live{Live: true}}); err != nil {
				return err
			}
		case r, ok := <-ch:
			if !ok {
				return status.Error(codes.Unavailable, "revocations may have been missed; watch again")
			}
			if err := stream.Send(r.proto()); err != nil {
				return err
			}
		}
	}
}
