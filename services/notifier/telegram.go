package notifier

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tele "gopkg.in/telebot.v3"
)

// DefaultTelegramAPIURL is the Bot API's address.
const DefaultTelegramAPIURL = "https://api.telegram.org"

// errNotSent marks a request that never left this process (the connection
// could not be made), so Telegram cannot have acted on it.
type errNotSent struct{ err error }

func (e *errNotSent) Error() string { return "not sent: " + e.err.Error() }
func (e *errNotSent) Unwrap() error { return e.err }

// transport tells a request that never reached Telegram from one whose
// answer was lost, and, when bound to a context, cuts requests (a long
// poll) when that context ends.
type transport struct {
	base  http.RoundTripper
	bound context.Context
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var wrote atomic.Bool
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	var cancel context.CancelFunc = func() {}
	if t.bound != nil {
		var stop func() bool
		ctx, cancel = context.WithCancel(ctx)
		stop = context.AfterFunc(t.bound, cancel)
		inner := cancel
		cancel = func() { stop(); inner() }
	}
	resp, err := t.base.RoundTrip(req.Clone(ctx))
	if err != nil {
		cancel()
		// A keep-alive connection the server had closed before our
		// request came: no server read it.
		if !wrote.Load() || strings.Contains(err.Error(), "server closed idle connection") {
			return nil, &errNotSent{err: err}
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// newTelegramClient makes a telebot client for the Bot API at apiURL that does not
// call Telegram until asked (so a Telegram outage at start costs nothing).
// bound, when set, ends its requests with that context.
func newTelegramClient(apiURL, token string, timeout time.Duration, bound context.Context) (*tele.Bot, error) {
	client := &http.Client{
		Timeout:   timeout,
		Transport: &transport{base: http.DefaultTransport.(*http.Transport).Clone(), bound: bound},
	}
	return tele.NewBot(tele.Settings{
		URL:         strings.TrimRight(apiURL, "/"),
		Token:       token,
		Client:      client,
		Offline:     true,
		Synchronous: true,
		ParseMode:   tele.ModeHTML,
		OnError:     func(error, tele.Context) {},
	})
}

// outcome is what an attempt to send came to.
type outcome int

const (
	// sent: Telegram accepted the message.
	outcomeSent outcome = iota + 1
	// retry: not delivered (Telegram said so, or was not reached); try
	// again later.
	outcomeRetry
	// lost: the request went out but no answer came: Telegram may hold the
	// message. Try again, and count a possible duplicate if that succeeds.
	outcomeLost
	// flood: Telegram asks to wait retryAfter.
	outcomeFlood
	// blocked: the user blocked the bot (403); do not retry.
	outcomeBlocked
	// rejected: Telegram refused the message for good (400).
	outcomeRejected
)

// telegramCode reads the HTTP-like code telebot puts at the end of the
// errors it has no named value for ("telegram: Bad Gateway (502)").
var telegramCode = regexp.MustCompile(`^telegram: .*\((\d{3})\)$`)

// classify decides what a send's error means for the delivery.
func classify(err error) (outcome, time.Duration) {
	if err == nil {
		return outcomeSent, 0
	}
	var flood tele.FloodError
	if errors.As(err, &flood) {
		return outcomeFlood, time.Duration(flood.RetryAfter) * time.Second
	}
	var notSent *errNotSent
	if errors.As(err, &notSent) {
		return outcomeRetry, 0
	}
	code := 0
	var apiErr *tele.Error
	if errors.As(err, &apiErr) {
		code = apiErr.Code
	} else if m := telegramCode.FindStringSubmatch(err.Error()); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	switch {
	case code == 0:
		// A transport failure after the request went out, or an answer
		// that could not be read: Telegram may have taken the message.
		return outcomeLost, 0
	case code == http.StatusForbidden:
		return outcomeBlocked, 0
	case code == http.StatusBadRequest:
		return outcomeRejected, 0
	default:
		// 5xx, 429 without a delay, 401/404 (a token being fixed): an
		// answer saying the message was not taken.
		return outcomeRetry, 0
	}
}
