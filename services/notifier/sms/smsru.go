package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultSMSRuURL is SMS.ru's API.
const DefaultSMSRuURL = "https://sms.ru"

// SMSRu is SMS.ru's HTTP API: POST {base}/sms/send and {base}/sms/status,
// form-encoded, with api_id and json=1; answers are JSON with a status
// ("OK" or "ERROR") and a numeric status_code for the request and for
// each number or message.
type SMSRu struct {
	base   string
	key    string
	sender string
	client *http.Client
}

// NewSMSRu makes the client: base is the API's address (DefaultSMSRuURL;
// a local fake in tests), key the api_id, sender the approved sender name
// (empty: the account's default).
func NewSMSRu(base, key, sender string, timeout time.Duration) *SMSRu {
	if base == "" {
		base = DefaultSMSRuURL
	}
	return &SMSRu{base: strings.TrimRight(base, "/"), key: key, sender: sender, client: &http.Client{Timeout: timeout}}
}

func (p *SMSRu) Name() string { return "sms.ru" }

// smsruAnswer is the shape of both methods' answers.
type smsruAnswer struct {
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
	StatusText string `json:"status_text"`
	SMS        map[string]struct {
		Status     string `json:"status"`
		StatusCode int    `json:"status_code"`
		StatusText string `json:"status_text"`
		SMSID      string `json:"sms_id"`
	} `json:"sms"`
}

// smsruTemporary are the refusals worth another try: the service is
// unavailable (220), a server error (500), identical messages to the
// number too often this minute (231).
var smsruTemporary = map[int]bool{220: true, 231: true, 500: true}

func (p *SMSRu) refusal(code int, text string) *Error {
	if text == "" {
		text = "no explanation given"
	}
	return &Error{Provider: p.Name(), Code: code, Text: text, Temporary: smsruTemporary[code]}
}

// call posts a method's form and reads the answer; a request the API
// refused as a whole is an *Error.
func (p *SMSRu) call(ctx context.Context, method string, form url.Values) (*smsruAnswer, error) {
	form.Set("api_id", p.key)
	form.Set("json", "1")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/"+method, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		// turned away before any work: the message was not taken, so
		// sending it again cannot double it
		return nil, &Error{Provider: p.Name(), Text: fmt.Sprintf("%s: HTTP %d", method, resp.StatusCode), Temporary: true}
	default:
		return nil, fmt.Errorf("%s %s: HTTP %d", p.Name(), method, resp.StatusCode)
	}
	var a smsruAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("%s %s: unreadable answer: %w", p.Name(), method, err)
	}
	if a.Status != "OK" {
		return nil, p.refusal(a.StatusCode, a.StatusText)
	}
	return &a, nil
}

// digits is a number as SMS.ru takes it: digits only ("79161234567").
func digits(e164 string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, e164)
}

func (p *SMSRu) Send(ctx context.Context, m Message) (string, error) {
	to := digits(m.To)
	form := url.Values{"to": {to}, "msg": {m.Text}}
	if p.sender != "" {
		form.Set("from", p.sender)
	}
	a, err := p.call(ctx, "sms/send", form)
	if err != nil {
		return "", err
	}
	one, ok := a.SMS[to]
	switch {
	case !ok:
		return "", fmt.Errorf("%s sms/send: the answer does not mention %s", p.Name(), to)
	case one.Status != "OK":
		return "", p.refusal(one.StatusCode, one.StatusText)
	case one.SMSID == "":
		return "", fmt.Errorf("%s sms/send: no sms_id for %s", p.Name(), to)
	}
	return one.SMSID, nil
}

// smsruStates maps SMS.ru's delivery codes: 100 queued, 101 going to the
// operator, 102 sent (in transit), 103 delivered, 110 read; 104 expired,
// 105 deleted by the operator, 106 phone failure, 107 unknown reason,
// 108 rejected, 150 no route.
var smsruStates = map[int]State{
	100: Queued, 101: InTransit, 102: InTransit, 103: Delivered, 110: Delivered,
	104: Undelivered, 105: Undelivered, 106: Undelivered, 107: Undelivered, 108: Undelivered, 150: Undelivered,
}

func (p *SMSRu) Status(ctx context.Context, id string) (Status, error) {
	a, err := p.call(ctx, "sms/status", url.Values{"sms_id": {id}})
	if err != nil {
		return Status{}, err
	}
	one, ok := a.SMS[id]
	if !ok {
		return Status{}, fmt.Errorf("%s sms/status: the answer does not mention %s", p.Name(), id)
	}
	st, known := smsruStates[one.StatusCode]
	if !known {
		if one.Status != "OK" {
			return Status{}, p.refusal(one.StatusCode, one.StatusText)
		}
		st = InTransit
	}
	return Status{State: st, Code: one.StatusCode, Text: one.StatusText}, nil
}
