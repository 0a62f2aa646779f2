package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/auditlog"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// apiUser is the JSON of a Firebase Auth user (admin routes).
type apiUser struct {
	UID              string         `json:"uid"`
	Email            string         `json:"email,omitempty"`
	EmailVerified    bool           `json:"emailVerified"`
	DisplayName      string         `json:"displayName,omitempty"`
	PhotoURL         string         `json:"photoURL,omitempty"`
	PhoneNumber      string         `json:"phoneNumber,omitempty"`
	Disabled         bool           `json:"disabled"`
	Admin            bool           `json:"admin"`
	CustomClaims     map[string]any `json:"customClaims,omitempty"`
	Providers        []string       `json:"providers"`
	CreatedAt        time.Time      `json:"createdAt,omitzero"`
	LastSignInAt     time.Time      `json:"lastSignInAt,omitzero"`
	LastRefreshAt    time.Time      `json:"lastRefreshAt,omitzero"`
	TokensValidAfter time.Time      `json:"tokensValidAfter,omitzero"`
}

func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func toAPIUser(u *auth.UserRecord) apiUser {
	out := apiUser{
		UID: u.UID, Email: u.Email, EmailVerified: u.EmailVerified, DisplayName: u.DisplayName,
		PhotoURL: u.PhotoURL, PhoneNumber: u.PhoneNumber, Disabled: u.Disabled,
		CustomClaims: u.CustomClaims, Providers: []string{},
		TokensValidAfter: millis(u.TokensValidAfterMillis),
	}
	out.Admin, _ = u.CustomClaims["admin"].(bool)
	if m := u.UserMetadata; m != nil {
		out.CreatedAt, out.LastSignInAt, out.LastRefreshAt = millis(m.CreationTimestamp), millis(m.LastLogInTimestamp), millis(m.LastRefreshTimestamp)
	}
	for _, p := range u.ProviderUserInfo {
		if p != nil {
			out.Providers = append(out.Providers, p.ProviderID)
		}
	}
	return out
}

// maxPageTokenLen bounds an Auth list page token from the client.
const maxPageTokenLen = 1024

// listUsers is GET /admin/v1/users?limit=&pageToken=&email=: Auth users in
// the backend's order (uid), paged; with email, the one user of that
// address (or none).
func (s *Server) listUsers(c *gin.Context) {
	ctx := c.Request.Context()
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	out := struct {
		Users         []apiUser `json:"users"`
		NextPageToken string    `json:"nextPageToken,omitempty"`
	}{Users: []apiUser{}}
	if email := c.Query("email"); email != "" {
		u, err := s.auth.GetUserByEmail(ctx, email)
		switch {
		case auth.IsUserNotFound(err):
		case err != nil:
			fail(c, fmt.Errorf("get user by email: %w", err))
			return
		default:
			out.Users = append(out.Users, toAPIUser(u))
		}
		c.JSON(http.StatusOK, out)
		return
	}
	token := c.Query("pageToken")
	if len(token) > maxPageTokenLen {
		fail(c, fieldsError("invalid query", FieldIssue{Field: "pageToken", Reason: "too long"}))
		return
	}
	var recs []*auth.ExportedUserRecord
	next, err := iterator.NewPager(s.auth.Users(ctx, ""), limit, token).NextPage(&recs)
	if err != nil {
		fail(c, fmt.Errorf("list users: %w", err))
		return
	}
	for _, r := range recs {
		out.Users = append(out.Users, toAPIUser(r.UserRecord))
	}
	out.NextPageToken = next
	c.JSON(http.StatusOK, out)
}

// apiProfile is the JSON of a users/{uid} profile.
type apiProfile struct {
	DisplayName string    `json:"displayName"`
	PhotoURL    string    `json:"photoURL,omitempty"`
	CreatedAt   time.Time `json:"createdAt,omitzero"`
}

// userDetail is the body of GET /admin/v1/users/{uid}.
type userDetail struct {
	User        apiUser     `json:"user"`
	Profile     *apiProfile `json:"profile"`
	DeviceCount int64       `json:"deviceCount"`
}

// getUser is GET /admin/v1/users/{uid}: the Auth record, the Firestore
// profile (null when the app never wrote one) and the number of devices.
func (s *Server) getUser(c *gin.Context) {
	uid, err := pathUID(c)
	if err != nil {
		fail(c, err)
		return
	}
	a, err := s.accounts.Get(c.Request.Context(), uid)
	if err != nil {
		fail(c, err)
		return
	}
	out := userDetail{User: toAPIUser(a.User), DeviceCount: a.Devices}
	if p := a.Profile; p != nil {
		out.Profile = &apiProfile{DisplayName: p.DisplayName, PhotoURL: p.PhotoURL, CreatedAt: p.CreatedAt}
	}
	c.JSON(http.StatusOK, out)
}

// targetUser reads the uid path parameter of an admin action and refuses
// the caller's own account (accounts.ErrSelfAction): an admin cannot lock
// themselves out. It checks before the body is read, so the refusal wins
// over a bad body.
func targetUser(c *gin.Context) (string, error) {
	uid, err := pathUID(c)
	if err != nil {
		return "", err
	}
	if err := accounts.CheckTarget(principalOf(c).UID, uid); err != nil {
		return "", err
	}
	return uid, nil
}

// accountAction reads an audited account action: the target uid (param)
// and the optional {"reason": "..."} body.
func accountAction(c *gin.Context, param func(*gin.Context) (string, error)) (accounts.Input, error) {
	uid, reason, err := pathAndReason(c, param)
	if err != nil {
		return accounts.Input{}, err
	}
	return accounts.Input{Actor: principalOf(c).UID, UID: uid, Reason: reason}, nil
}

// disableUser is POST /admin/v1/users/{uid}/disable {reason?}: sign-in and
// token refresh stop at once, and the user's revocation marker ends their
// current sessions: the API (on every instance within
// revocation.DefaultStaleAfter) and the Firestore and Storage rules refuse
// every ID token issued before it.
func (s *Server) disableUser(c *gin.Context) { s.setDisabled(c, true) }

// enableUser is POST /admin/v1/users/{uid}/enable {reason?}.
func (s *Server) enableUser(c *gin.Context) { s.setDisabled(c, false) }

func (s *Server) setDisabled(c *gin.Context, disabled bool) {
	in, err := accountAction(c, targetUser)
	if err != nil {
		fail(c, err)
		return
	}
	u, err := s.accounts.SetDisabled(actionContext(c), in, disabled)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIUser(u))
}

// claimsRequest is the body of PUT /admin/v1/users/{uid}/claims.
type claimsRequest struct {
	Claims map[string]any `json:"claims"`
	Reason string         `json:"reason"`
}

// MaxClaimsBytes is Firebase's limit on the serialized custom claims.
const MaxClaimsBytes = accounts.MaxClaimsBytes

// setUserClaims is PUT /admin/v1/users/{uid}/claims {claims, reason?}:
// replaces the user's custom claims ({} clears them), then revokes the
// user's refresh tokens and writes their revocation marker: every ID token
// carrying the old claims is refused (API and rules), and the app must
// sign in again, which gives it a token with the new claims. An admin
// cannot change their own claims (they could only lose the admin claim).
func (s *Server) setUserClaims(c *gin.Context) {
	uid, err := targetUser(c)
	if err != nil {
		fail(c, err)
		return
	}
	var req claimsRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := validateReason(req.Reason); err != nil {
		fail(c, err)
		return
	}
	in := accounts.Input{Actor: principalOf(c).UID, UID: uid, Reason: req.Reason}
	u, err := s.accounts.SetClaims(actionContext(c), in, req.Claims)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIUser(u))
}

// revokeUserTokens is POST /admin/v1/users/{uid}/revoke-tokens {reason?}:
// the user's refresh tokens stop working and their revocation marker makes
// the API and the rules refuse their current ID tokens (TOKEN_REVOKED).
// Admins may revoke their own tokens (signing out everywhere).
func (s *Server) revokeUserTokens(c *gin.Context) {
	in, err := accountAction(c, pathUID)
	if err != nil {
		fail(c, err)
		return
	}
	u, err := s.accounts.RevokeTokens(actionContext(c), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIUser(u))
}

// eraseResult is the body of DELETE /admin/v1/users/{uid}.
type eraseResult struct {
	UID                string `json:"uid"`
	AuthUserDeleted    bool   `json:"authUserDeleted"`
	RoomsLeft          int    `json:"roomsLeft"`
	MessagesAnonymised int    `json:"messagesAnonymised"`
	DocumentsDeleted   int    `json:"documentsDeleted"`
}

// ErasedSenderPrefix starts the senderId that replaces an erased user's uid
// in their messages (accounts.ErasedSenderPrefix).
const ErasedSenderPrefix = accounts.ErasedSenderPrefix

// ErasedSenderName replaces an erased user's name in room previews.
const ErasedSenderName = rooms.ErasedSenderName

// eraseUser is DELETE /admin/v1/users/{uid} {reason?}: erases a user
// (accounts.Service.Erase). Gone: the profile and everything under
// users/{uid}, presence, pending notification digests, media, the user's
// member docs (they leave every room; direct rooms are archived) and
// finally the Auth account. Kept, anonymised: their messages. It can be
// retried: a second call finishes what a failed one left.
func (s *Server) eraseUser(c *gin.Context) {
	in, err := accountAction(c, targetUser)
	if err != nil {
		fail(c, err)
		return
	}
	res, err := s.accounts.Erase(actionContext(c), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, eraseResult{UID: res.UID, AuthUserDeleted: res.AuthUserDeleted, RoomsLeft: res.RoomsLeft,
		MessagesAnonymised: res.MessagesAnonymised, DocumentsDeleted: res.DocumentsDeleted})
}

// RevocationWriter writes a user's revocation marker;
// *revocation.Markers implements it.
type RevocationWriter = accounts.RevocationWriter

// SetAdminClaim grants (grant true) or withdraws the custom claim
// admin: true of the user with email, keeping their other claims, and ends
// the user's sessions (refresh tokens revoked; with marks, a revocation
// marker that makes the API and the rules refuse the ID tokens already
// issued — without it, those keep the old claim in the rules until they
// expire). With fs it also writes an audit entry by CLIActor. It is what
// `hearth users grant-admin` runs (accounts.SetAdminClaim); it works
// against the Auth emulator and production alike. The user signs in again
// to get a token with the claim.
func SetAdminClaim(ctx context.Context, users UserManager, fs *firestore.Client, marks RevocationWriter, email string, grant bool, now time.Time) (*auth.UserRecord, error) {
	var audit accounts.Auditor
	if fs != nil {
		audit = auditlog.Writer{FS: fs}
	}
	return accounts.SetAdminClaim(ctx, users, marks, audit, accounts.AdminClaimInput{Actor: CLIActor, Email: email, Grant: grant, At: now})
}
