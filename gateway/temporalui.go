package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/metrics"
)

// The Temporal Web UI is served by the gateway at /temporal/ when
// CRM_TEMPORAL_UI_UPSTREAM names its server, to signed-in users whose role
// shows the console's workflow links (tasks.manage), and to no one else.
//
// The console keeps its session as a bearer token, which a browser does not
// send when it opens a page. So the console first asks for a ticket
// (POST /api/v1/auth/temporal-ui with its bearer) and opens the UI after:
// the ticket is a cookie for /temporal/ only, HttpOnly and SameSite=Strict,
// sealed with a key of its own derived from the internal key. It carries
// the session's token, sealed, so the proxy can ask the identity service
// again whether the session still stands and still holds the permission;
// it does so at most every ticketRecheck, and renews the ticket then. A
// ticket not renewed within ticketTTL (the UI left idle) is refused, and
// the console's link issues a new one.
//
// The UI is read-only twice over: its server runs with
// disableWriteActions (deploy/temporal-ui/production.yaml), and the proxy
// lets through only reads and workflow queries, so a UI started with the
// wrong configuration still cannot terminate, signal or reset anything.

const (
	temporalUIPath     = "/temporal/"
	temporalUITicketAt = "POST /api/v1/auth/temporal-ui"
	ticketCookie       = "crm_temporal_ui"
	// ticketTTL is how long a ticket lasts after its session was last
	// checked.
	ticketTTL = 10 * time.Minute
	// ticketRecheck bounds how long a revoked session or a withdrawn
	// permission still reaches the UI.
	ticketRecheck = 30 * time.Second
	// seesWorkflows is the permission the console shows workflow links to.
	seesWorkflows = "tasks.manage"
	// maxUIPage bounds an HTML page of the UI read to hash its scripts
	// (its index is a few KiB).
	maxUIPage = 1 << 20
)

// ticket is what the cookie holds, sealed.
type ticket struct {
	// Bearer is the console session's access token, asked about again at
	// each re-check.
	Bearer string `json:"b"`
	UserID int64  `json:"u"`
	// Checked is when the session was last found valid (Unix seconds).
	Checked int64 `json:"c"`
}

type temporalUI struct {
	identity identityv1.IdentityServiceClient
	seal     cipher.AEAD
	proxy    *httputil.ReverseProxy
	// publicHTTPS: the console's public address (CRM_PUBLIC_URL) is https;
	// unset, each request tells by itself.
	publicHTTPS *bool
	proxies     []netip.Prefix
	now         func() time.Time
	log         *slog.Logger
}

// newTemporalUI checks the upstream's address; it returns nil when none is
// set.
func newTemporalUI(cfg Config, key []byte, proxies []netip.Prefix, log *slog.Logger) (*temporalUI, error) {
	if cfg.TemporalUIUpstream == "" {
		return nil, nil
	}
	upstream, err := url.Parse(cfg.TemporalUIUpstream)
	if err != nil || (upstream.Scheme != "http" && upstream.Scheme != "https") || upstream.Host == "" ||
		strings.Trim(upstream.Path, "/") != "" || upstream.RawQuery != "" || upstream.User != nil {
		return nil, fmt.Errorf("configuration: CRM_TEMPORAL_UI_UPSTREAM must be the Temporal UI server's http(s)://host:port, without a path (the UI itself runs with publicPath /temporal), not %q", cfg.TemporalUIUpstream)
	}
	block, err := aes.NewCipher(auth.Derive(key, "temporal-ui"))
	if err != nil {
		return nil, err
	}
	seal, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	ui := &temporalUI{seal: seal, proxies: proxies, now: time.Now, log: log}
	if cfg.PublicURL != "" {
		pub, err := url.Parse(cfg.PublicURL)
		if err != nil || (pub.Scheme != "http" && pub.Scheme != "https") {
			return nil, fmt.Errorf("configuration: CRM_PUBLIC_URL must be an http(s) address, not %q", cfg.PublicURL)
		}
		https := pub.Scheme == "https"
		ui.publicHTTPS = &https
	}
	ui.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The UI runs with publicPath /temporal: the path goes as it is.
			pr.SetURL(upstream)
			pr.Out.Header.Del("Authorization")
			withoutCookie(pr.Out.Header, ticketCookie)
		},
		ModifyResponse: ui.secureResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.WarnContext(r.Context(), "the Temporal Web UI does not answer", "path", r.URL.Path, "err", err)
			writeStatusAs(w, http.StatusBadGateway, status.New(codes.Unavailable, "the Temporal Web UI does not answer; try again in a moment"))
		},
	}
	return ui, nil
}

// mount adds the ticket's call and the UI's path; nothing when no upstream
// is set.
func (u *temporalUI) mount(mux *http.ServeMux, m *metrics.Metrics, identity identityv1.IdentityServiceClient) {
	if u == nil {
		return
	}
	u.identity = identity
	mux.Handle(temporalUITicketAt, m.InstrumentHTTP("temporal-ui-ticket", http.HandlerFunc(u.issue)))
	mux.Handle(temporalUIPath, m.InstrumentHTTP("temporal-ui", u))
}

// issue answers the console's request for a ticket: 204 with the cookie
// to a session whose user may see workflows.
func (u *temporalUI) issue(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	bearer = strings.TrimSpace(bearer)
	if !ok || bearer == "" {
		writeStatus(w, status.New(codes.Unauthenticated, "sign in first"))
		return
	}
	who, st := u.check(r.Context(), bearer)
	if st != nil {
		writeStatus(w, st)
		return
	}
	u.setTicket(w, r, ticket{Bearer: bearer, UserID: who, Checked: u.now().Unix()})
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// check asks the identity service whether the session stands and may see
// workflows; it answers the user, or the refusal to send.
func (u *temporalUI) check(ctx context.Context, bearer string) (int64, *status.Status) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := u.identity.Authenticate(ctx, &identityv1.AuthenticateRequest{AccessToken: bearer})
	switch status.Code(err) {
	case codes.OK:
	case codes.Unauthenticated:
		return 0, status.New(codes.Unauthenticated, "the session has ended; sign in to the console again")
	default:
		u.log.WarnContext(ctx, "cannot check a Temporal UI ticket: identity service failed", "err", err)
		return 0, status.New(codes.Unavailable, "sign-in is unavailable for a moment; try again")
	}
	if resp.GetMustChangePassword() || !slices.Contains(resp.GetPermissions(), seesWorkflows) {
		return 0, status.New(codes.PermissionDenied, "the Temporal Web UI is open to roles with the permission "+seesWorkflows)
	}
	return resp.GetUserId(), nil
}

// ServeHTTP passes a request with a good ticket to the UI.
func (u *temporalUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(ticketCookie)
	if err != nil {
		writeStatus(w, status.New(codes.Unauthenticated, "open the Temporal Web UI from a task in the console (the link signs you in to it)"))
		return
	}
	t, err := u.open(c.Value)
	if err != nil {
		u.clearTicket(w, r)
		writeStatus(w, status.New(codes.Unauthenticated, "the Temporal Web UI's sign-in has expired; open it again from a task in the console"))
		return
	}
	if now := u.now(); now.Sub(time.Unix(t.Checked, 0)) >= ticketRecheck {
		who, st := u.check(r.Context(), t.Bearer)
		if st != nil {
			if st.Code() != codes.Unavailable {
				u.clearTicket(w, r)
			}
			writeStatus(w, st)
			return
		}
		u.setTicket(w, r, ticket{Bearer: t.Bearer, UserID: who, Checked: now.Unix()})
	}
	if !readOnly(r) {
		writeStatus(w, status.New(codes.PermissionDenied, "the Temporal Web UI is read-only here: act on a task from the console"))
		return
	}
	// The console's policy would stop the UI's own script; secureResponse
	// sets the UI's.
	w.Header().Del("Content-Security-Policy")
	w.Header().Del("X-Frame-Options")
	u.proxy.ServeHTTP(w, r)
}

// queryPath is the one write-method call the read-only UI makes: a
// workflow query (its stack trace, for one), which runs no workflow code
// but the query handler. The escaped path is matched, so an encoded slash
// in an id cannot make another call look like a query.
var queryPath = regexp.MustCompile(`^/temporal/api/v1/namespaces/[^/]+/workflows/[^/]+/query/[^/]+$`)

// readOnly mirrors the UI server's disableWriteActions.
func readOnly(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		return queryPath.MatchString(r.URL.EscapedPath())
	}
	return false
}

// withoutCookie drops the named cookie from a request's Cookie headers,
// keeping the others (the UI's own CSRF cookie).
func withoutCookie(h http.Header, name string) {
	var kept []string
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k != name && strings.TrimSpace(part) != "" {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// ticketAAD binds a sealed value to its use.
var ticketAAD = []byte("crm/temporal-ui-ticket")

func (u *temporalUI) setTicket(w http.ResponseWriter, r *http.Request, t ticket) {
	body, _ := json.Marshal(t) // a ticket always marshals
	nonce := make([]byte, u.seal.NonceSize())
	rand.Read(nonce)
	sealed := u.seal.Seal(nonce, nonce, body, ticketAAD)
	http.SetCookie(w, u.cookie(r, base64.RawURLEncoding.EncodeToString(sealed), int(ticketTTL/time.Second)))
}

func (u *temporalUI) clearTicket(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, u.cookie(r, "", -1))
}

func (u *temporalUI) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	secure := overHTTPS(r, u.proxies)
	if u.publicHTTPS != nil {
		secure = *u.publicHTTPS
	}
	return &http.Cookie{
		Name: ticketCookie, Value: value, Path: temporalUIPath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure,
	}
}

var errBadTicket = errors.New("bad ticket")

// open unseals a ticket and refuses one past its time.
func (u *temporalUI) open(value string) (ticket, error) {
	var t ticket
	raw, err := base64.RawURLEncoding.DecodeString(value)
	n := u.seal.NonceSize()
	if err != nil || len(raw) < n {
		return t, errBadTicket
	}
	body, err := u.seal.Open(nil, raw[:n], raw[n:], ticketAAD)
	if err != nil || json.Unmarshal(body, &t) != nil || t.Bearer == "" {
		return t, errBadTicket
	}
	if !u.now().Before(time.Unix(t.Checked, 0).Add(ticketTTL)) {
		return t, errBadTicket
	}
	return t, nil
}

// secureResponse gives the UI's answers the browser protections that fit
// it: the UI is framed only by itself (its markdown view), and since it
// runs on the console's origin its pages get a script policy of their
// own: the UI's files and the inline scripts the page holds as served
// (hashed here; the UI server drops its own policy when given a public
// path, because rewriting the page for the path breaks its hashes).
func (u *temporalUI) secureResponse(res *http.Response) error {
	h := res.Header
	// kept from the gateway's own headers, set once
	for _, name := range []string{"X-Content-Type-Options", "Referrer-Policy", "Strict-Transport-Security"} {
		h.Del(name)
	}
	h.Set("X-Frame-Options", "SAMEORIGIN")
	scopeCookies(h)
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "text/html" {
		return nil
	}
	page, err := readPage(res)
	if err != nil {
		return err
	}
	h.Add("Content-Security-Policy", uiPolicy(page))
	return nil
}

// scopeCookies keeps the UI's cookies (its CSRF token, set for "/") to
// the UI's path, out of the console's requests.
func scopeCookies(h http.Header) {
	lines := h.Values("Set-Cookie")
	if len(lines) == 0 {
		return
	}
	h.Del("Set-Cookie")
	for _, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if c.Path == "" || c.Path == "/" {
			c.Path = temporalUIPath
		}
		h.Add("Set-Cookie", c.String())
	}
}

// readPage reads an HTML answer whole, unzipped, and puts it back as the
// body.
func readPage(res *http.Response) ([]byte, error) {
	var r io.Reader = res.Body
	defer res.Body.Close()
	switch res.Header.Get("Content-Encoding") {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			return nil, fmt.Errorf("the Temporal UI's page: %w", err)
		}
		r = zr
	default:
		return nil, fmt.Errorf("the Temporal UI's page comes in %q, which cannot be read", res.Header.Get("Content-Encoding"))
	}
	page, err := io.ReadAll(io.LimitReader(r, maxUIPage+1))
	if err != nil {
		return nil, fmt.Errorf("the Temporal UI's page: %w", err)
	}
	if len(page) > maxUIPage {
		return nil, fmt.Errorf("the Temporal UI's page is larger than %d bytes", maxUIPage)
	}
	res.Body = io.NopCloser(bytes.NewReader(page))
	res.ContentLength = int64(len(page))
	res.Header.Del("Content-Encoding")
	res.Header.Set("Content-Length", strconv.Itoa(len(page)))
	return page, nil
}

// inlineScript is a <script> element without a src, and its text.
var inlineScript = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)

var srcAttribute = regexp.MustCompile(`(?i)\ssrc\s*=`)

// uiPolicy is the Content-Security-Policy of a UI page: its scripts come
// from the gateway's origin, and inline ones only as served.
func uiPolicy(page []byte) string {
	scripts := []string{"'self'"}
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		if srcAttribute.Match(m[1]) {
			continue
		}
		sum := sha256.Sum256(m[2])
		scripts = append(scripts, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return "default-src 'self'; script-src " + strings.Join(scripts, " ") +
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; " +
		"worker-src 'self' blob:; object-src 'none'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
}

// consoleSettings is what /console-config.json tells the console: where
// a task's workflow is shown, and whether a ticket is needed first. The
// link is CRM_TEMPORAL_UI_URL, else the UI behind the gateway when there
// is one; it takes a ticket when it leads to the gateway's /temporal/.
func consoleSettings(cfg Config) map[string]any {
	link := cfg.TemporalUIURL
	if link == "" && cfg.TemporalUIUpstream != "" {
		link = strings.TrimSuffix(temporalUIPath, "/")
	}
	out := map[string]any{"temporalUiUrl": link, "temporalNamespace": cfg.Temporal.Namespace}
	if cfg.TemporalUIUpstream != "" && behindGateway(link) {
		out["temporalUiTicket"] = true
	}
	return out
}

// behindGateway tells a link to the gateway's /temporal/ ("/temporal", or
// the console's own address with that path) from one to another UI.
func behindGateway(link string) bool {
	u, err := url.Parse(link)
	return err == nil && strings.TrimSuffix(u.Path, "/")+"/" == temporalUIPath
}
