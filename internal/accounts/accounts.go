// Package accounts holds the operations on a user's account: disabling and
// enabling it, setting custom claims, ending sessions and erasing the user
// from the whole system. Firebase Auth changes come first where a session
// must not outlive them; each operation writes the user's revocation marker
// where current ID tokens must stop working, and an audit entry.
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/revocation"
)

// Users is the part of Firebase Auth the account operations use;
// *auth.Client implements it.
type Users interface {
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
	UpdateUser(ctx context.Context, uid string, user *auth.UserToUpdate) (*auth.UserRecord, error)
	SetCustomUserClaims(ctx context.Context, uid string, customClaims map[string]interface{}) error
	RevokeRefreshTokens(ctx context.Context, uid string) error
	DeleteUser(ctx context.Context, uid string) error
}

// RevocationWriter writes a user's revocation marker; *revocation.Markers
// implements it.
type RevocationWriter interface {
	Revoke(ctx context.Context, uid string, reason revocation.Reason) (time.Time, error)
}

// Auditor records an audited action, in tx when it is not nil.
type Auditor interface {
	Audit(ctx context.Context, tx *firestore.Transaction, e model.AuditEntry) error
}

// RoomEraser takes an erased user out of every room, attributing the
// previews of their messages to pseudonym, and returns how many rooms they
// left; *rooms.Service implements it.
type RoomEraser interface {
	EraseMember(ctx context.Context, uid, pseudonym string) (int, error)
}

// MediaEraser removes an erased user's uploads (objects, thumbnails, upload
// records) and quota documents, and returns how many quota documents it
// deleted.
type MediaEraser interface {
	EraseUserMedia(ctx context.Context, uid string) (quotasDeleted int, err error)
}

// The audited actions of this package (auditLog/{id}.action).
const (
	ActionDisable      = "user.disable"
	ActionEnable       = "user.enable"
	ActionClaims       = "user.setClaims"
	ActionRevokeTokens = "user.revokeTokens"
	ActionErase        = "user.erase"
	ActionGrantAdmin   = "user.grantAdmin"
	ActionRevokeAdmin  = "user.revokeAdmin"
)

// ErrSelfAction: an admin tried to disable, erase or change the claims of
// their own account (they could only lock themselves out).
var ErrSelfAction = errors.New("admins cannot do this to their own account")

// CheckTarget refuses an action of actor on their own account, and a uid
// that is not a valid id (*model.ValidationError): it becomes a document
// path and a key prefix of the erasure.
func CheckTarget(actor, uid string) error {
	if err := model.ValidateID("uid", uid); err != nil {
		return err
	}
	if uid == actor {
		return ErrSelfAction
	}
	return nil
}

// Deps are the Service's dependencies. Media may be nil (no media storage:
// nothing to erase there); the others are required.
type Deps struct {
	Firestore   *firestore.Client
	Users       Users
	Revocations RevocationWriter
	Audit       Auditor
	Rooms       RoomEraser
	Media       MediaEraser
	Clock       clock.Clock
}

// Service runs the account operations. Create it with New; it is safe for
// concurrent use.
type Service struct {
	fs    *firestore.Client
	users Users
	marks RevocationWriter
	audit Auditor
	rooms RoomEraser
	media MediaEraser
	clock clock.Clock
}

// New checks deps and returns a Service.
func New(deps Deps) (*Service, error) {
	var errs []error
	if deps.Firestore == nil {
		errs = append(errs, errors.New("accounts: Firestore client required"))
	}
	if deps.Users == nil {
		errs = append(errs, errors.New("accounts: Auth users required"))
	}
	if deps.Revocations == nil {
		errs = append(errs, errors.New("accounts: revocation writer required"))
	}
	if deps.Audit == nil {
		errs = append(errs, errors.New("accounts: auditor required"))
	}
	if deps.Rooms == nil {
		errs = append(errs, errors.New("accounts: room eraser required"))
	}
	if deps.Clock == nil {
		errs = append(errs, errors.New("accounts: clock required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{fs: deps.Firestore, users: deps.Users, marks: deps.Revocations, audit: deps.Audit,
		rooms: deps.Rooms, media: deps.Media, clock: deps.Clock}, nil
}

// Input is an admin's audited action on the account UID.
type Input struct {
	Actor  string
	UID    string
	Reason string
}

func (s *Service) record(ctx context.Context, in Input, action string, details map[string]string) error {
	return s.audit.Audit(ctx, nil, model.AuditEntry{At: s.clock.Now().UTC(), ActorUID: in.Actor, Action: action,
		Target: model.UserPath(in.UID), Reason: in.Reason, Details: details})
}

// SetDisabled disables (sign-in and token refresh stop at once, and the
// revocation marker ends the current sessions: the API and the Firestore and
// Storage rules refuse every ID token issued before it) or enables the
// account, and returns the Auth record as changed.
func (s *Service) SetDisabled(ctx context.Context, in Input, disabled bool) (*auth.UserRecord, error) {
	if err := CheckTarget(in.Actor, in.UID); err != nil {
		return nil, err
	}
	u, err := s.users.UpdateUser(ctx, in.UID, (&auth.UserToUpdate{}).Disabled(disabled))
	if err != nil {
		return nil, fmt.Errorf("update user %s: %w", in.UID, err)
	}
	// The marker after the Auth change: a session that begins after it
	// cannot exist while the account is disabled.
	if disabled {
		if _, err := s.marks.Revoke(ctx, in.UID, revocation.ReasonDisable); err != nil {
			return nil, fmt.Errorf("revocation marker of %s: %w", in.UID, err)
		}
	}
	action := ActionDisable
	if !disabled {
		action = ActionEnable
	}
	if err := s.record(ctx, in, action, nil); err != nil {
		return nil, err
	}
	return u, nil
}

// MaxClaimsBytes is Firebase's limit on the serialized custom claims.
const MaxClaimsBytes = 1000

// reservedClaims may not be custom claims (Firebase rejects them).
var reservedClaims = []string{"acr", "amr", "at_hash", "aud", "auth_time", "azp", "cnf", "c_hash",
	"exp", "firebase", "iat", "iss", "jti", "nbf", "nonce", "sub"}

// CheckClaims returns nil or a *model.ValidationError naming every problem
// of a set of custom claims (nil, reserved names, too large), and the
// claims as JSON.
func CheckClaims(claims map[string]any) ([]byte, error) {
	var issues []model.FieldError
	if claims == nil {
		issues = append(issues, model.FieldError{Field: "claims", Reason: "required (an object; {} clears the claims)"})
	}
	for _, k := range slices.Sorted(maps.Keys(claims)) {
		if slices.Contains(reservedClaims, k) {
			issues = append(issues, model.FieldError{Field: "claims." + k, Reason: "reserved claim name"})
		}
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		issues = append(issues, model.FieldError{Field: "claims", Reason: "not representable as JSON"})
	}
	if len(raw) > MaxClaimsBytes {
		issues = append(issues, model.FieldError{Field: "claims", Reason: fmt.Sprintf("too large: %d > %d bytes of JSON", len(raw), MaxClaimsBytes)})
	}
	if len(issues) > 0 {
		return nil, &model.ValidationError{Fields: issues}
	}
	return raw, nil
}

// SetClaims replaces the user's custom claims ({} clears them), then ends
// their sessions (EndSessions): every ID token carrying the old claims is
// refused, and the app must sign in again, which gives it a token with the
// new claims. An admin cannot change their own claims (they could only lose
// the admin claim). It returns the Auth record as changed.
func (s *Service) SetClaims(ctx context.Context, in Input, claims map[string]any) (*auth.UserRecord, error) {
	if err := CheckTarget(in.Actor, in.UID); err != nil {
		return nil, err
	}
	raw, err := CheckClaims(claims)
	if err != nil {
		return nil, err
	}
	if err := s.users.SetCustomUserClaims(ctx, in.UID, claims); err != nil {
		return nil, fmt.Errorf("set claims of %s: %w", in.UID, err)
	}
	if err := EndSessions(ctx, s.users, s.marks, in.UID, revocation.ReasonClaims); err != nil {
		return nil, err
	}
	if err := s.record(ctx, in, ActionClaims, map[string]string{"claims": string(raw)}); err != nil {
		return nil, err
	}
	return s.user(ctx, in.UID)
}

// RevokeTokens ends the user's sessions (EndSessions). Admins may revoke
// their own tokens (signing out everywhere). It returns the Auth record as
// changed.
func (s *Service) RevokeTokens(ctx context.Context, in Input) (*auth.UserRecord, error) {
	if err := model.ValidateID("uid", in.UID); err != nil {
		return nil, err
	}
	if err := EndSessions(ctx, s.users, s.marks, in.UID, revocation.ReasonRevoke); err != nil {
		return nil, err
	}
	if err := s.record(ctx, in, ActionRevokeTokens, nil); err != nil {
		return nil, err
	}
	return s.user(ctx, in.UID)
}

// user reads the Auth record of uid (after a change, so it shows it).
func (s *Service) user(ctx context.Context, uid string) (*auth.UserRecord, error) {
	u, err := s.users.GetUser(ctx, uid)
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", uid, err)
	}
	return u, nil
}

// SessionEnder is what EndSessions needs of Firebase Auth.
type SessionEnder interface {
	RevokeRefreshTokens(ctx context.Context, uid string) error
}

// EndSessions ends every current session of uid after a change in Firebase
// Auth: refresh tokens revoked (the app must sign in again), then the
// revocation marker (the API and the rules refuse the ID tokens already
// issued).
func EndSessions(ctx context.Context, users SessionEnder, marks RevocationWriter, uid string, reason revocation.Reason) error {
	if err := users.RevokeRefreshTokens(ctx, uid); err != nil {
		return fmt.Errorf("revoke refresh tokens of %s: %w", uid, err)
	}
	if _, err := marks.Revoke(ctx, uid, reason); err != nil {
		return fmt.Errorf("revocation marker of %s: %w", uid, err)
	}
	return nil
}
