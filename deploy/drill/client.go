package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telecomcrm/crm/deploy/restclient"
)

// user is one person of the drill: a login at the gateway, the groups
// they work in, the Telegram chat they linked.
type user struct {
	login    string
	password string
	id       string
	role     string
	groups   []string
	chat     int64

	mu sync.Mutex
	rc *restclient.Client
}

func (u *user) client() *restclient.Client {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rc
}

// counters are what the clients went through, for the report.
type counters struct {
	requests      atomic.Int64
	transportErrs atomic.Int64
	serverErrs    atomic.Int64
	relogins      atomic.Int64
	retried       atomic.Int64 // commands sent again after an answer that did not say what happened
	confirmed     atomic.Int64 // of those, found done by the answer to the repeat (409 moved on, closed)
	lookedUp      atomic.Int64 // of those, found done by looking (a comment, a task, a contract)
	commands      atomic.Int64 // commands that changed a task, as the clients believe
	gaveUp        atomic.Int64

	mu         sync.Mutex
	unexpected []string
	// why are the answers that said nothing of what happened, by kind.
	why map[string]int
}

// note counts an answer that said nothing of what happened.
func (c *counters) note(resp restclient.Response, err error) {
	var k string
	if err != nil {
		k = err.Error()
		// "…: dial tcp …: connect: connection refused" and the like
		if i := strings.LastIndex(k, ": "); i >= 0 {
			k = k[i+2:]
		}
	} else {
		k = fmt.Sprintf("%d %s", resp.Status, clip(string(resp.Raw), 120))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.why == nil {
		c.why = map[string]int{}
	}
	c.why[k]++
}

func (c *counters) refuse(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unexpected = append(c.unexpected, fmt.Sprintf(format, args...))
}

// answer is the last answer to a request, after retries.
type answer struct {
	status int
	raw    []byte
	// retried: an earlier attempt got no answer, or a 5xx, so it may have
	// been carried out.
	retried bool
	err     error
}

func (a answer) ok() bool { return a.err == nil && a.status == http.StatusOK }

func (a answer) decode(out any) error {
	if a.err != nil {
		return a.err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("answered %d: %s", a.status, clip(string(a.raw), 300))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(a.raw, out)
}

// says tells whether the error answer's message holds s.
func (a answer) says(s string) bool {
	return strings.Contains(strings.ToLower(string(a.raw)), strings.ToLower(s))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// caller sends requests as people do: an answer that says nothing about
// what happened (no connection, 5xx) is followed by the same request again
// after a pause; a session that ended is renewed by signing in again.
type caller struct {
	base    string
	stats   *counters
	timeout time.Duration
	// healthy waits until every component answers its health check.
	healthy func(context.Context) error
}

// call sends the request until it gets an answer that says what happened,
// or gives up after the caller's timeout.
func (c *caller) call(ctx context.Context, u *user, method, path string, body any) answer {
	return c.send(ctx, u, method, path, body, true)
}

// once sends the request until it reaches the service, but not again
// after an answer that leaves open whether it was carried out: the answer
// then has retried set, and the caller looks before sending it again.
func (c *caller) once(ctx context.Context, u *user, method, path string, body any) answer {
	return c.send(ctx, u, method, path, body, false)
}

func (c *caller) send(ctx context.Context, u *user, method, path string, body any, repeat bool) answer {
	deadline := time.Now().Add(c.timeout)
	pause := 100 * time.Millisecond
	retried := false
	for {
		c.stats.requests.Add(1)
		resp, err := u.client().Do(method, path, body)
		switch {
		case err != nil:
			c.stats.transportErrs.Add(1)
			c.stats.note(resp, err)
			retried = true
		case resp.Status == http.StatusUnauthorized && path != "/api/v1/auth/login":
			c.stats.relogins.Add(1)
			if err := c.login(ctx, u); err != nil {
				return answer{err: err, retried: retried}
			}
			continue
		case resp.Status >= 500 || resp.Status == http.StatusTooManyRequests:
			c.stats.serverErrs.Add(1)
			c.stats.note(resp, err)
			retried = retried || resp.Status != http.StatusTooManyRequests
		default:
			return answer{status: resp.Status, raw: resp.Raw, retried: retried}
		}
		if !repeat && retried {
			return answer{retried: true, status: statusOf(resp, err)}
		}
		if time.Now().After(deadline) {
			c.stats.gaveUp.Add(1)
			return answer{err: fmt.Errorf("%s %s: no answer within %s (last: %v)", method, path, c.timeout, describe(resp, err)), retried: retried}
		}
		if !sleep(ctx, pause+time.Duration(rand.Int64N(int64(pause)))) {
			return answer{err: ctx.Err(), retried: retried}
		}
		pause = min(2*pause, 2*time.Second)
	}
}

func statusOf(resp restclient.Response, err error) int {
	if err != nil {
		return 0
	}
	return resp.Status
}

func describe(resp restclient.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d %s", resp.Status, clip(string(resp.Raw), 200))
}

// login signs the user in (again), retrying while the stack is down.
func (c *caller) login(ctx context.Context, u *user) error {
	deadline := time.Now().Add(c.timeout)
	pause := 200 * time.Millisecond
	for {
		rc, err := restclient.Login(c.base, u.login, u.password)
		if err == nil {
			u.mu.Lock()
			u.rc = rc
			u.mu.Unlock()
			return nil
		}
		var re *restclient.Error
		if errors.As(err, &re) && re.Status < 500 && re.Status != http.StatusTooManyRequests {
			return fmt.Errorf("signing %s in: %w", u.login, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("signing %s in: %w", u.login, err)
		}
		if !sleep(ctx, pause) {
			return ctx.Err()
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// settle waits until the stack is whole again, so that what an earlier
// attempt set off has had its chance to finish.
func (c *caller) settle(ctx context.Context) {
	if c.healthy != nil {
		hctx, cancel := context.WithTimeout(ctx, c.timeout)
		_ = c.healthy(hctx)
		cancel()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
