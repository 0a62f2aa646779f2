package accounts

import (
	"context"
	"fmt"
	"maps"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/revocation"
)

// ClaimUsers is what SetAdminClaim needs of Firebase Auth; *auth.Client
// implements it.
type ClaimUsers interface {
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
	GetUserByEmail(ctx context.Context, email string) (*auth.UserRecord, error)
	SetCustomUserClaims(ctx context.Context, uid string, customClaims map[string]interface{}) error
	RevokeRefreshTokens(ctx context.Context, uid string) error
}

// AdminClaimInput grants (Grant true) or withdraws the custom claim
// admin: true of the user with Email.
type AdminClaimInput struct {
	// Actor is recorded as the audit entry's actor.
	Actor string
	Email string
	Grant bool
	// At is the audit entry's time.
	At time.Time
}

// SetAdminClaim grants or withdraws the admin claim, keeping the user's
// other claims, and ends the user's sessions (refresh tokens revoked; with
// marks, a revocation marker that makes the API and the rules refuse the ID
// tokens already issued — without it, those keep the old claim in the rules
// until they expire). With audit it also writes an audit entry. It works
// without a Service (the CLI has no API server) against the Auth emulator
// and production alike. The user signs in again to get a token with the
// claim. It returns the Auth record as changed.
func SetAdminClaim(ctx context.Context, users ClaimUsers, marks RevocationWriter, audit Auditor, in AdminClaimInput) (*auth.UserRecord, error) {
	u, err := users.GetUserByEmail(ctx, in.Email)
	if err != nil {
		return nil, fmt.Errorf("find user %s: %w", in.Email, err)
	}
	claims := maps.Clone(u.CustomClaims)
	if claims == nil {
		claims = map[string]any{}
	}
	action := ActionGrantAdmin
	if in.Grant {
		claims["admin"] = true
	} else {
		delete(claims, "admin")
		action = ActionRevokeAdmin
	}
	if err := users.SetCustomUserClaims(ctx, u.UID, claims); err != nil {
		return nil, fmt.Errorf("set claims of %s: %w", in.Email, err)
	}
	if err := users.RevokeRefreshTokens(ctx, u.UID); err != nil {
		return nil, fmt.Errorf("revoke refresh tokens of %s: %w", in.Email, err)
	}
	if marks != nil {
		if _, err := marks.Revoke(ctx, u.UID, revocation.ReasonClaims); err != nil {
			return nil, fmt.Errorf("revocation marker of %s: %w", in.Email, err)
		}
	}
	if audit != nil {
		e := model.AuditEntry{At: in.At.UTC(), ActorUID: in.Actor, Action: action, Target: model.UserPath(u.UID),
			Details: map[string]string{"email": in.Email}}
		if err := audit.Audit(ctx, nil, e); err != nil {
			return nil, err
		}
	}
	return users.GetUser(ctx, u.UID)
}
