// Package restclient speaks the REST API the way the console does: JSON
// bodies, a bearer token, google.rpc.Status errors. Tests, the benchmark
// and the fault drills share it.
package restclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client is one signed-in user (or anonymous) at a gateway.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
}

// New returns an anonymous client of the gateway at base.
func New(base string) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Response is an answer with its raw body.
type Response struct {
	Status int
	Raw    []byte
}

// Error is a non-200 answer.
type Error struct {
	Method, Path string
	Response
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Raw)
}

// Do sends a request; body is marshalled as JSON unless it is a string.
func (c *Client) Do(method, path string, body any) (Response, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		r = bytes.NewReader(raw)
	}
	return c.Send(method, path, "application/json", r)
}

// Send sends a body of the given type as it is (a file to import).
func (c *Client) Send(method, path, contentType string, body io.Reader) (Response, error) {
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", contentType)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Raw: raw}, err
}

// Call sends a request that must answer 200 and decodes it into out.
func (c *Client) Call(method, path string, body, out any) error {
	resp, err := c.Do(method, path, body)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return &Error{Method: method, Path: path, Response: resp}
	}
	if out != nil {
		return json.Unmarshal(resp.Raw, out)
	}
	return nil
}

// Login signs in and returns the user's client.
func Login(base, login, password string) (*Client, error) {
	c := New(base)
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := c.Call(http.MethodPost, "/api/v1/auth/login", map[string]string{"login": login, "password": password}, &out); err != nil {
		return nil, err
	}
	c.Token = out.AccessToken
	return c, nil
}
