package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

// An API token is a machine's access to the REST API. Each has a service
// account of its own: a user row that cannot sign in with a password and
// is not listed among the users, holding the token's roles, so whatever
// the machine does is done by a named actor with exactly those rights.
// The token is answered once and kept as its SHA-256; a revoked or expired
// one is refused like an ended session, and every use is audited.

// apiTokenPrefix starts every API token, so Authenticate tells one from a
// session's token without a lookup, and a leaked one is easy to grep for.
const apiTokenPrefix = "crm_"

// maxTokenDays bounds a token's life.
const maxTokenDays = 730

type apiTokenRow struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string
	Prefix     string
	CreatedBy  int64
	CreatedAt  int64
	ExpiresAt  int64
	RevokedAt  int64
	LastUsedAt int64
}

func (apiTokenRow) TableName() string { return "api_tokens" }

func (r apiTokenRow) proto(roles []string) *identityv1.ApiToken {
	out := &identityv1.ApiToken{
		Id: r.ID, Name: r.Name, Roles: roles, Prefix: r.Prefix, UserId: r.UserID, CreatedBy: r.CreatedBy,
		CreateTime: micros.Proto(r.CreatedAt), ExpireTime: micros.Proto(r.ExpiresAt),
	}
	if r.RevokedAt != 0 {
		out.RevokeTime = micros.Proto(r.RevokedAt)
	}
	if r.LastUsedAt != 0 {
		out.LastUseTime = micros.Proto(r.LastUsedAt)
	}
	return out
}

func tokenTarget(id int64) string { return "token:" + strconv.FormatInt(id, 10) }

func (s *Server) CreateApiToken(ctx context.Context, req *identityv1.CreateApiTokenRequest) (*identityv1.CreateApiTokenResponse, error) {
	var v []fault.Violation
	name := strings.TrimSpace(req.GetName())
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
		v = append(v, fault.Violation{Field: "name", Description: "a token needs a name of 1 to 100 characters: what it is for"})
	}
	if d := req.GetExpiresInDays(); d < 1 || d > maxTokenDays {
		v = append(v, fault.Violation{Field: "expiresInDays", Description: fmt.Sprintf("a token lasts 1 to %d days", maxTokenDays)})
	}
	roles, bad, err := s.checkRoles(ctx, req.GetRoles())
	if err != nil {
		return nil, err
	}
	v = append(v, bad...)
	if len(roles) == 0 && len(bad) == 0 {
		v = append(v, fault.Violation{Field: "roles", Description: "a token holds at least one role: what it may do"})
	}
	if len(v) > 0 {
		return nil, &fault.Error{Kind: fault.Invalid, Message: v[0].Description, Violations: v}
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, err
	}
	token = apiTokenPrefix + token
	now := s.store.micros()
	row := apiTokenRow{Name: name, TokenHash: hash, Prefix: token[:len(apiTokenPrefix)+4], CreatedBy: caller(ctx).UserID, CreatedAt: now,
		ExpiresAt: now + (time.Duration(req.GetExpiresInDays()) * 24 * time.Hour).Microseconds()}
	err = s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		account := userRow{Login: "token-" + hash[:12], DisplayName: name, DisplayNameLower: lowerName(name), Active: true,
			Language: s.cfg.Locale, ServiceAccount: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&account).Error; err != nil {
			return err
		}
		if err := setRoles(tx, account.ID, roles); err != nil {
			return err
		}
		row.UserID = account.ID
		return tx.Create(&row).Error
	})
	if err != nil {
		return nil, err
	}
	s.auditByCaller(ctx, "token.create", tokenTarget(row.ID), say("token_created", "name", name, "roles", strings.Join(roles, ", "), "days", strconv.Itoa(int(req.GetExpiresInDays()))))
	// the one time the token leaves the service
	return &identityv1.CreateApiTokenResponse{ApiToken: row.proto(roles), Token: token}, nil
}

func (s *Server) ListApiTokens(ctx context.Context, _ *identityv1.ListApiTokensRequest) (*identityv1.ListApiTokensResponse, error) {
	var rows []apiTokenRow
	if err := s.store.db.WithContext(ctx).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	roles, err := s.store.rolesOf(ctx, rows)
	if err != nil {
		return nil, err
	}
	resp := &identityv1.ListApiTokensResponse{}
	for _, r := range rows {
		resp.ApiTokens = append(resp.ApiTokens, r.proto(roles[r.UserID]))
	}
	return resp, nil
}

func (s *Server) RevokeApiToken(ctx context.Context, req *identityv1.RevokeApiTokenRequest) (*identityv1.RevokeApiTokenResponse, error) {
	var row apiTokenRow
	revoked := false
	err := s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&row, req.GetId()).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "there is no token %d", req.GetId())
		} else if err != nil {
			return err
		}
		if row.RevokedAt != 0 {
			return nil // revoked already: the same answer
		}
		row.RevokedAt, revoked = s.store.micros(), true
		if err := tx.Model(&apiTokenRow{}).Where("id = ?", row.ID).Update("revoked_at", row.RevokedAt).Error; err != nil {
			return err
		}
		return tx.Model(&userRow{}).Where("id = ?", row.UserID).Updates(map[string]any{"active": false, "updated_at": row.RevokedAt}).Error
	})
	if err != nil {
		return nil, err
	}
	if revoked {
		s.revocations.tell(ctx, userRevoked(row.UserID))
		s.auditByCaller(ctx, "token.revoke", tokenTarget(row.ID), say("token_revoked", "name", row.Name))
	}
	roles, err := s.store.rolesOf(ctx, []apiTokenRow{row})
	if err != nil {
		return nil, err
	}
	return &identityv1.RevokeApiTokenResponse{ApiToken: row.proto(roles[row.UserID])}, nil
}

// rolesOf answers the roles of the tokens' service accounts.
func (s *store) rolesOf(ctx context.Context, rows []apiTokenRow) (map[int64][]string, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	if len(ids) == 0 {
		return map[int64][]string{}, nil
	}
	return s.rolesByUser(ctx, ids)
}

// authenticateToken answers who is behind an API token; every use is an
// entry of the audit log.
func (s *Server) authenticateToken(ctx context.Context, token, address string) (*identityv1.AuthenticateResponse, error) {
	if !plausibleToken(strings.TrimPrefix(token, apiTokenPrefix)) {
		return nil, errSessionEnded
	}
	var row apiTokenRow
	err := s.store.db.WithContext(ctx).Take(&row, "token_hash = ?", hashToken(strings.TrimPrefix(token, apiTokenPrefix))).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errSessionEnded
	} else if err != nil {
		return nil, err
	}
	now := s.store.micros()
	if row.RevokedAt != 0 || now >= row.ExpiresAt {
		return nil, errSessionEnded
	}
	if err := s.store.db.WithContext(ctx).Model(&apiTokenRow{}).Where("id = ?", row.ID).Update("last_used_at", now).Error; err != nil {
		return nil, err
	}
	perms, err := s.store.permissionsOf(ctx, row.UserID)
	if err != nil {
		return nil, err
	}
	login := "token-" + row.TokenHash[:12]
	s.audit(ctx, auditRow{ActorID: row.UserID, ActorLogin: login, Action: "token.use", Target: tokenTarget(row.ID), ClientAddress: clip(address, 100)}.with(say("token_used", "name", row.Name)))
	return &identityv1.AuthenticateResponse{
		UserId: row.UserID, Login: login, DisplayName: row.Name, Permissions: perms,
		SessionId: tokenTarget(row.ID), ExpiresAt: micros.Proto(row.ExpiresAt),
		// every use is audited, so none is answered from the gateway's cache
		CheckEveryUse: true,
	}, nil
}
