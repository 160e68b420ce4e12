// Package sessioncache keeps the identity service's answers about access
// tokens for a few seconds, so a request whose session was checked lately
// costs neither a call nor a database lookup, and forgets them as soon as
// the identity service says they went stale (WatchRevocations: a logout,
// a new password, a deactivation, changed roles or groups).
//
// It fails closed: an answer is kept only while the revocation stream is
// live and only when no revocation arrived while it was being asked for;
// when the stream breaks everything kept is forgotten and every request is
// asked about until the stream is back.
package sessioncache

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/grpc"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/process"
)

// MaxTTL bounds how long an answer is kept. The identity service records
// a session's last use when asked at least touchEvery (30 s) after the
// previous record, so with answers kept no longer the recorded use trails
// the real one by under a minute, and the idle timeout holds as before.
const MaxTTL = 30 * time.Second

// Silence is how long the revocation stream may say nothing before it is
// taken for broken: the identity service repeats "live" every 2 s.
const Silence = 5 * time.Second

// Config sizes the cache.
type Config struct {
	// Size bounds the sessions kept; the least recently used goes first.
	Size int
	// TTL is how long an answer is kept (at most MaxTTL); 0 keeps none.
	TTL time.Duration
}

// Check refuses a configuration that would keep answers too long.
func (c Config) Check() error {
	switch {
	case c.TTL < 0 || c.TTL > MaxTTL:
		return fmt.Errorf("CRM_SESSION_CACHE_TTL must be between 0 (no cache) and %s, not %s", MaxTTL, c.TTL)
	case c.TTL > 0 && c.Size < 1:
		return fmt.Errorf("CRM_SESSION_CACHE_SIZE must be positive, not %d", c.Size)
	}
	return nil
}

// Cache answers Authenticate from what it kept, else from the identity
// service. Watch must run for it to keep anything.
type Cache struct {
	identity identityv1.IdentityServiceClient
	ttl      time.Duration
	log      *slog.Logger
	now      func() time.Time
	// kept is keyed by the token's SHA-256, so the process's memory holds
	// no token longer than its request; nil when caching is off.
	kept *lru.Cache[[sha256.Size]byte, kept]

	mu sync.Mutex
	// live: the revocation stream is up and has said so.
	live bool
	// epoch changes with every revocation and every change of live: an
	// answer asked for in an earlier epoch may be stale and is not kept.
	epoch uint64
}

type kept struct {
	resp  *identityv1.AuthenticateResponse
	until time.Time
}

// New returns a cache in front of identity.
func New(identity identityv1.IdentityServiceClient, cfg Config, log *slog.Logger) (*Cache, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	c := &Cache{identity: identity, ttl: cfg.TTL, log: log, now: time.Now}
	if cfg.TTL > 0 {
		l, err := lru.New[[sha256.Size]byte, kept](cfg.Size)
		if err != nil {
			return nil, err
		}
		c.kept = l
	}
	return c, nil
}

// Authenticate answers who is behind req's token, as the identity service
// does. The answer is shared: callers must not change it.
func (c *Cache) Authenticate(ctx context.Context, req *identityv1.AuthenticateRequest, opts ...grpc.CallOption) (*identityv1.AuthenticateResponse, error) {
	if c.kept == nil {
		return c.identity.Authenticate(ctx, req, opts...)
	}
	key := sha256.Sum256([]byte(req.GetAccessToken()))
	if k, ok := c.kept.Get(key); ok {
		if c.now().Before(k.until) {
			return k.resp, nil
		}
		c.kept.Remove(key)
	}
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	resp, err := c.identity.Authenticate(ctx, req, opts...)
	if err != nil || resp.GetCheckEveryUse() {
		return resp, err
	}
	until := c.now().Add(c.ttl)
	if exp := resp.GetExpiresAt(); exp != nil && exp.AsTime().Before(until) {
		until = exp.AsTime()
	}
	// Under the lock, so a revocation is either seen here (and the answer
	// not kept) or applied after the answer is in.
	c.mu.Lock()
	if c.live && c.epoch == epoch {
		c.kept.Add(key, kept{resp: resp, until: until})
	}
	c.mu.Unlock()
	return resp, nil
}

// apply forgets what a revocation makes stale.
func (c *Cache) apply(r *identityv1.WatchRevocationsResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.GetLive() {
		// The first makes the stream live; the rest are its heartbeat.
		if !c.live {
			c.live = true
			c.epoch++
		}
		return
	}
	c.epoch++
	switch r.GetRevoked().(type) {
	case *identityv1.WatchRevocationsResponse_SessionId:
		c.forget(func(a *identityv1.AuthenticateResponse) bool { return a.GetSessionId() == r.GetSessionId() })
	case *identityv1.WatchRevocationsResponse_UserId:
		c.forget(func(a *identityv1.AuthenticateResponse) bool { return a.GetUserId() == r.GetUserId() })
	default:
		// everyone, or what a newer identity service sends that this
		// gateway cannot read
		c.kept.Purge()
	}
}

// forget removes the answers stale matches. Revocations are rare next to
// requests, so a scan of at most Size entries beats an index kept up to
// date on every fill.
func (c *Cache) forget(stale func(*identityv1.AuthenticateResponse) bool) {
	for _, key := range c.kept.Keys() {
		if k, ok := c.kept.Peek(key); ok && stale(k.resp) {
			c.kept.Remove(key)
		}
	}
}

// down forgets everything until the stream is live again.
func (c *Cache) down() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = false
	c.epoch++
	c.kept.Purge()
}

// Live tells whether answers are being kept (the stream is up).
func (c *Cache) Live() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// Watch follows the identity service's revocations until ctx ends,
// watching again after a broken stream with a growing pause (100 ms to
// 5 s). It returns at once when caching is off.
func (c *Cache) Watch(ctx context.Context) {
	if c.kept == nil {
		return
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = 100*time.Millisecond, 5*time.Second
	for {
		heard, err := c.follow(ctx)
		c.down()
		if ctx.Err() != nil {
			return
		}
		if heard {
			b.Reset()
		}
		c.log.WarnContext(ctx, "the session revocation stream broke; every request is checked with the identity service until it is back", "err", err)
		if !process.Sleep(ctx, b.NextBackOff()) {
			return
		}
	}
}

// follow applies one stream's revocations until it breaks or falls
// silent for longer than Silence (a connection lost without a word);
// heard tells whether it went live.
func (c *Cache) follow(ctx context.Context) (heard bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	silent := time.AfterFunc(Silence, cancel)
	defer silent.Stop()
	stream, err := c.identity.WatchRevocations(ctx, &identityv1.WatchRevocationsRequest{})
	if err != nil {
		return false, err
	}
	for {
		r, err := stream.Recv()
		if err != nil {
			return heard, err
		}
		silent.Reset(Silence)
		if r.GetLive() && !heard {
			heard = true
			c.log.InfoContext(ctx, "following session revocations; verified sessions are kept", "ttl", c.ttl)
		}
		c.apply(r)
	}
}
