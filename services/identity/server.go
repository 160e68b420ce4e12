package identity

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/logging"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

// ClientAddressHeader is the incoming metadata key in which the gateway
// passes the client's address; internal calls have none.
const ClientAddressHeader = "x-crm-client-address"

// wrongCredentials is the one answer to a wrong login and a wrong password
// alike, so it does not tell which logins exist.
const wrongCredentials = "wrong login or password"

// Server implements identityv1.IdentityServiceServer.
type Server struct {
	identityv1.UnimplementedIdentityServiceServer
	store *store
	pages *pagetoken.Codec
	// revocations tells the gateways which sessions they must check again.
	revocations *revocations
	cfg         Config
	deps        Deps
	log         *slog.Logger
	dummy       string
	// hashing bounds the password hashes computed at once: each takes
	// 19 MiB, and a burst of sign-ins must not exhaust memory.
	hashing chan struct{}
	// giveBack fires hashQuiet after the last hash ends.
	giveBack     *time.Timer
	giveBackLock sync.Mutex
}

// hashQuiet is how long after the last password hash its memory is given
// back to the system. Sign-ins come in bursts, and the collector alone
// keeps the hashes' 19 MiB each until its next cycle, which a service
// waiting for requests reaches only every two minutes.
const hashQuiet = time.Second

func (s *Server) logger(ctx context.Context) *slog.Logger { return logging.From(ctx, s.log) }

// hash and verify run argon2id within the bound of concurrent hashes.
func (s *Server) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return hashPassword(s.deps.argon, password)
}

func (s *Server) verify(ctx context.Context, hash, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return verifyPassword(hash, password)
}

func (s *Server) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) release() {
	<-s.hashing
	s.giveBackLock.Lock()
	s.giveBack.Reset(hashQuiet)
	s.giveBackLock.Unlock()
}

// clientAddress is the client's address as the gateway passed it, bounded
// and stripped of control characters.
func clientAddress(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(ClientAddressHeader)
	if len(vals) == 0 {
		return ""
	}
	return clip(vals[0], 100)
}

// clip trims s, drops control characters and cuts it to n bytes at a rune
// boundary.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// caller returns the principal of the request; the guard has put one there
// for every RPC but Login.
func caller(ctx context.Context) *auth.Principal {
	if p, ok := auth.From(ctx); ok {
		return p
	}
	return &auth.Principal{}
}

// signedInUser is the caller's user id, for RPCs only users may call.
func signedInUser(ctx context.Context) (int64, error) {
	p := caller(ctx)
	if p.UserID == 0 {
		return 0, fault.New(fault.FailedPrecondition, "only a signed-in user can do this")
	}
	return p.UserID, nil
}

// validLogin tells whether s has the shape of a login.
func validLogin(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Server) Login(ctx context.Context, req *identityv1.LoginRequest) (*identityv1.LoginResponse, error) {
	login := strings.ToLower(strings.TrimSpace(req.GetLogin()))
	password := req.GetPassword()
	switch {
	case login == "":
		return nil, fault.Field("login", "give your login")
	case password == "":
		return nil, fault.Field("password", "give your password")
	case len(password) > maxPassword:
		return nil, fault.Field("password", "a password is at most %d bytes long", maxPassword)
	}
	addr := clientAddress(ctx)
	// Something typed into the login field that cannot be a login (a
	// password in the wrong box, a phone number) is not kept anywhere.
	shaped := validLogin(login)
	attempted := login
	if !shaped {
		attempted = "[not a login]"
	}
	if err := s.admit(ctx, attempted, addr); err != nil {
		return nil, err
	}
	var u *userRow
	var err error
	if shaped {
		if u, err = s.store.userByLogin(ctx, login); err != nil {
			return nil, err
		}
		if u != nil && u.ServiceAccount {
			u = nil // an API token's account has no password
		}
	}
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.verify(ctx, hash, password)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		s.logger(ctx).Error("a stored password hash is unreadable", "err", err)
		ok = false
	}
	reason := ""
	switch {
	case u == nil:
		reason = "unknown_login"
	case !ok:
		reason = "wrong_password"
	case !u.Active:
		reason = "user_deactivated"
	}
	if reason != "" {
		ev := auditRow{Action: "login.failure", ActorLogin: attempted, ClientAddress: addr}.with(say(reason))
		if u != nil {
			ev.ActorID, ev.Target = u.ID, userTarget(u.ID)
		}
		s.audit(ctx, ev)
		s.logger(ctx).Info("sign-in refused", "reason", reason)
		return nil, fault.New(fault.Unauthenticated, wrongCredentials)
	}
	if err := s.store.succeeded(ctx, login, addr); err != nil {
		return nil, err
	}
	token, tokenHash, err := newToken()
	if err != nil {
		return nil, err
	}
	sess, err := s.store.createSession(ctx, u.ID, tokenHash, addr, s.cfg.SessionMax)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, auditRow{Action: "login.success", ActorID: u.ID, ActorLogin: u.Login, Target: userTarget(u.ID), ClientAddress: addr})
	s.logger(ctx).Info("signed in", "user_id", u.ID, "session_id", sess.ID)
	full, err := s.store.oneUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &identityv1.LoginResponse{
		AccessToken:        token,
		ExpiresAt:          micros.Proto(sess.ExpiresAt),
		User:               userProto(full),
		MustChangePassword: u.MustChangePassword,
	}, nil
}

// admit counts a password check against the login and the client address
// before it happens: it refuses the check while the login must wait, and
// holds it while the address is slowed down.
func (s *Server) admit(ctx context.Context, login, addr string) error {
	refused, delay, err := s.store.attempt(ctx, login, addr)
	if err != nil {
		return err
	}
	if refused > 0 {
		s.logger(ctx).Info("password check refused: throttled", "wait", refused)
		return throttled(refused)
	}
	if delay > 0 {
		s.logger(ctx).Info("password check slowed down: many failures from this address", "delay", delay)
		return s.deps.sleep(ctx, delay)
	}
	return nil
}

// throttled is the answer to an attempt that must wait: 429 over HTTP,
// with the wait in words and as a RetryInfo.
func throttled(wait time.Duration) error {
	return mustWait(wait, "too many failed sign-ins", "SIGN_IN_THROTTLED")
}

// linkThrottled answers a chat that tried too many link codes.
func linkThrottled(wait time.Duration) error {
	return mustWait(wait, "too many link codes tried from this chat", "LINK_CODE_THROTTLED")
}

func mustWait(wait time.Duration, what, reason string) error {
	secs := int64(math.Ceil(wait.Seconds()))
	words := fmt.Sprintf("%d s", secs)
	if secs >= 60 {
		words = fmt.Sprintf("%d min", (secs+59)/60)
	}
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("%s; wait %s before trying again", what, words))
	if d, err := st.WithDetails(
		&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(secs) * time.Second)},
		&errdetails.ErrorInfo{Reason: reason, Domain: "crm", Metadata: map[string]string{"retryAfterSeconds": strconv.FormatInt(secs, 10)}},
	); err == nil {
		st = d
	}
	return st.Err()
}

func (s *Server) Logout(ctx context.Context, _ *identityv1.LogoutRequest) (*identityv1.LogoutResponse, error) {
	p := caller(ctx)
	id, err := strconv.ParseInt(p.SessionID, 10, 64)
	if p.UserID == 0 || err != nil {
		return nil, fault.New(fault.FailedPrecondition, "the call carries no session to end")
	}
	ended, err := s.store.endUserSession(ctx, p.UserID, id)
	if err != nil {
		return nil, err
	}
	if ended {
		s.revocations.tell(ctx, sessionRevoked(id))
		s.audit(ctx, auditRow{Action: "logout", ActorID: p.UserID, ActorLogin: p.Login, Target: userTarget(p.UserID), ClientAddress: clientAddress(ctx)})
	}
	return &identityv1.LogoutResponse{}, nil
}

// errSessionEnded answers every token that opens no session.
var errSessionEnded = fault.New(fault.Unauthenticated, "the session has ended or the token is not valid; sign in again")

func (s *Server) Authenticate(ctx context.Context, req *identityv1.AuthenticateRequest) (*identityv1.AuthenticateResponse, error) {
	token := req.GetAccessToken()
	if strings.HasPrefix(token, apiTokenPrefix) {
		return s.authenticateToken(ctx, token, req.GetClientAddress())
	}
	if !plausibleToken(token) {
		return nil, errSessionEnded
	}
	sess, err := s.store.sessionByHash(ctx, hashToken(token))
	if err != nil {
		return nil, err
	}
	if sess == nil || !sess.Active {
		return nil, errSessionEnded
	}
	now := s.store.micros()
	idleEnd := sess.LastSeenAt + s.cfg.SessionIdle.Microseconds()
	if now >= sess.ExpiresAt || now >= idleEnd {
		if err := s.store.endSession(ctx, sess.ID); err != nil {
			return nil, err
		}
		return nil, errSessionEnded
	}
	if now-sess.LastSeenAt >= touchEvery.Microseconds() {
		if err := s.store.touchSession(ctx, sess.ID, sess.LastSeenAt, now, clip(req.GetClientAddress(), 100)); err != nil {
			return nil, err
		}
		idleEnd = now + s.cfg.SessionIdle.Microseconds()
	}
	perms, err := s.store.permissionsOf(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.groupsOf(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	return &identityv1.AuthenticateResponse{
		UserId:      sess.UserID,
		Login:       sess.Login,
		DisplayName: sess.DisplayName,
		Permissions: perms,
		GroupIds:    groups,
		SessionId:   strconv.FormatInt(sess.ID, 10),
		ExpiresAt:   micros.Proto(min(sess.ExpiresAt, idleEnd)),
		// The gateway carries it to every service's guard.
		MustChangePassword: sess.MustChangePassword,
	}, nil
}

func (s *Server) GetMe(ctx context.Context, _ *identityv1.GetMeRequest) (*identityv1.GetMeResponse, error) {
	id, err := signedInUser(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.store.oneUser(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errSessionEnded
	}
	if err != nil {
		return nil, err
	}
	perms, err := s.store.permissionsOf(ctx, id)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.groups(ctx, u.groups)
	if err != nil {
		return nil, err
	}
	resp := &identityv1.GetMeResponse{
		User:               userProto(u),
		Roles:              u.roles,
		Permissions:        perms,
		TelegramLinked:     u.telegram,
		Profile:            profileProto(&u.userRow),
		MustChangePassword: u.MustChangePassword,
	}
	for i := range groups {
		resp.Groups = append(resp.Groups, groupProto(&groups[i]))
	}
	return resp, nil
}

// ChangePassword replaces the caller's password after checking the
// current one, which counts against the sign-in throttle like a login.
func (s *Server) ChangePassword(ctx context.Context, req *identityv1.ChangePasswordRequest) (*identityv1.ChangePasswordResponse, error) {
	id, err := signedInUser(ctx)
	if err != nil {
		return nil, err
	}
	current, next := req.GetCurrentPassword(), req.GetNewPassword()
	var errs []fault.Violation
	switch {
	case current == "":
		errs = append(errs, fault.Violation{Field: "currentPassword", Description: "give your current password"})
	case len(current) > maxPassword:
		errs = append(errs, fault.Violation{Field: "currentPassword", Description: fmt.Sprintf("a password is at most %d bytes long", maxPassword)})
	case current == next:
		errs = append(errs, fault.Violation{Field: "newPassword", Description: "choose a new password, not the current one"})
	}
	if v := checkPassword("newPassword", next); v != nil {
		errs = append(errs, *v)
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	u, err := s.store.userByID(ctx, id)
	if fault.Is(err, fault.NotFound) || err == nil && !u.Active {
		return nil, errSessionEnded
	}
	if err != nil {
		return nil, err
	}
	if u.ServiceAccount {
		return nil, fault.New(fault.FailedPrecondition, "an API token has no password; make a new token instead")
	}
	addr := clientAddress(ctx)
	if err := s.admit(ctx, u.Login, addr); err != nil {
		return nil, err
	}
	ok, err := s.verify(ctx, u.PasswordHash, current)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		s.logger(ctx).Error("a stored password hash is unreadable", "err", err)
	}
	if !ok {
		s.audit(ctx, auditRow{Action: "password.change.failure", ActorID: u.ID, ActorLogin: u.Login, Target: userTarget(u.ID), ClientAddress: addr}.with(say("wrong_current_password")))
		return nil, fault.Field("currentPassword", "the current password is wrong")
	}
	if err := s.store.succeeded(ctx, u.Login, addr); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return nil, err
	}
	keep, _ := strconv.ParseInt(caller(ctx).SessionID, 10, 64)
	if err := s.store.updateUser(ctx, id, userChange{
		cols:             map[string]any{"password_hash": hash, "must_change_password": false},
		endOtherSessions: true,
		keepSession:      keep,
	}); err != nil {
		return nil, err
	}
	// The other sessions ended, and this one may now do more than change
	// the password.
	s.revocations.tell(ctx, userRevoked(id))
	s.audit(ctx, auditRow{Action: "password.change", ActorID: u.ID, ActorLogin: u.Login, Target: userTarget(u.ID), ClientAddress: addr})
	s.logger(ctx).Info("password changed", "user_id", u.ID)
	return &identityv1.ChangePasswordResponse{}, nil
}

func (s *Server) UpdateProfile(ctx context.Context, req *identityv1.UpdateProfileRequest) (*identityv1.UpdateProfileResponse, error) {
	id, err := signedInUser(ctx)
	if err != nil {
		return nil, err
	}
	p := req.GetProfile()
	paths, err := fault.Mask(req.GetUpdateMask().GetPaths(), "displayName", "language", "notifySelf")
	if err != nil {
		return nil, err
	}
	cols := map[string]any{}
	var errs []fault.Violation
	for _, path := range paths {
		switch path {
		case "display_name", "displayName":
			name, v := checkDisplayName("displayName", p.GetDisplayName())
			if v != nil {
				errs = append(errs, *v)
			}
			cols["display_name"], cols["display_name_lower"] = name, lowerName(name)
		case "language":
			lang, v := checkLanguage("language", p.GetLanguage())
			if v != nil {
				errs = append(errs, *v)
			}
			cols["language"] = lang
		case "notify_self", "notifySelf":
			cols["notify_self"] = p.GetNotifySelf()
		default:
			errs = append(errs, fault.Violation{Field: "updateMask", Description: fmt.Sprintf("%q is not part of the profile (displayName, language, notifySelf)", path)})
		}
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if err := s.store.updateUser(ctx, id, userChange{cols: cols}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, errSessionEnded
		}
		return nil, err
	}
	// The principal carries the display name.
	s.revocations.tell(ctx, userRevoked(id))
	u, err := s.store.userByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &identityv1.UpdateProfileResponse{Profile: profileProto(u)}, nil
}

func userTarget(id int64) string  { return "user:" + strconv.FormatInt(id, 10) }
func groupTarget(id int64) string { return "group:" + strconv.FormatInt(id, 10) }

func userProto(u *user) *identityv1.User {
	active := u.Active
	return &identityv1.User{
		Id:             u.ID,
		Login:          u.Login,
		DisplayName:    u.DisplayName,
		Roles:          u.roles,
		Active:         &active,
		Language:       u.Language,
		GroupIds:       u.groups,
		TelegramLinked: u.telegram,
		CreateTime:     micros.Proto(u.CreatedAt),
	}
}

func profileProto(u *userRow) *identityv1.Profile {
	return &identityv1.Profile{DisplayName: u.DisplayName, Language: u.Language, NotifySelf: u.NotifySelf}
}
