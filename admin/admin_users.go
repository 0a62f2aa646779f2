package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/revocation"
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
	ctx := c.Request.Context()
	uid, err := pathUID(c)
	if err != nil {
		fail(c, err)
		return
	}
	u, err := s.auth.GetUser(ctx, uid)
	if err != nil {
		fail(c, err)
		return
	}
	out := userDetail{User: toAPIUser(u)}
	snap, err := s.fs.Doc(model.UserPath(uid)).Get(ctx)
	switch {
	case isNotFound(err):
	case err != nil:
		fail(c, fmt.Errorf("get profile: %w", err))
		return
	default:
		var p model.User
		if err := snap.DataTo(&p); err != nil {
			fail(c, fmt.Errorf("decode profile: %w", err))
			return
		}
		out.Profile = &apiProfile{DisplayName: p.DisplayName, PhotoURL: p.PhotoURL, CreatedAt: p.CreatedAt}
	}
	if out.DeviceCount, err = count(ctx, s.fs.Collection(model.DevicesCollectionPath(uid)).Query); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// targetUser reads the uid path parameter of an admin action and refuses
// the caller's own account: an admin cannot lock themselves out.
func targetUser(c *gin.Context) (string, error) {
	uid, err := pathUID(c)
	if err != nil {
		return "", err
	}
	if uid == principalOf(c).UID {
		return "", errPrecondition(ReasonSelfAction, "admins cannot do this to their own account")
	}
	return uid, nil
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
	ctx := c.Request.Context()
	uid, reason, err := pathAndReason(c, targetUser)
	if err != nil {
		fail(c, err)
		return
	}
	u, err := s.auth.UpdateUser(ctx, uid, (&auth.UserToUpdate{}).Disabled(disabled))
	if err != nil {
		fail(c, err)
		return
	}
	// The marker after the Auth change: a session that begins after it
	// cannot exist while the account is disabled.
	if disabled {
		if _, err := s.revocations.Revoke(ctx, uid, revocation.ReasonDisable); err != nil {
			fail(c, err)
			return
		}
	}
	action := ActionUserDisable
	if !disabled {
		action = ActionUserEnable
	}
	if err := s.audit(c, nil, action, model.UserPath(uid), reason, nil); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIUser(u))
}

// replyUser answers 200 with the current Auth record of uid (read after
// a change, so it shows the change).
func (s *Server) replyUser(c *gin.Context, uid string) {
	u, err := s.auth.GetUser(c.Request.Context(), uid)
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
const MaxClaimsBytes = 1000

// reservedClaims may not be custom claims (Firebase rejects them).
var reservedClaims = []string{"acr", "amr", "at_hash", "aud", "auth_time", "azp", "cnf", "c_hash",
	"exp", "firebase", "iat", "iss", "jti", "nbf", "nonce", "sub"}

// setUserClaims is PUT /admin/v1/users/{uid}/claims {claims, reason?}:
// replaces the user's custom claims ({} clears them), then revokes the
// user's refresh tokens and writes their revocation marker: every ID token
// carrying the old claims is refused (API and rules), and the app must
// sign in again, which gives it a token with the new claims. An admin
// cannot change their own claims (they could only lose the admin claim).
func (s *Server) setUserClaims(c *gin.Context) {
	ctx := c.Request.Context()
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
	var issues []FieldIssue
	if req.Claims == nil {
		issues = append(issues, FieldIssue{Field: "claims", Reason: "required (an object; {} clears the claims)"})
	}
	for _, k := range slices.Sorted(maps.Keys(req.Claims)) {
		if slices.Contains(reservedClaims, k) {
			issues = append(issues, FieldIssue{Field: "claims." + k, Reason: "reserved claim name"})
		}
	}
	raw, _ := json.Marshal(req.Claims)
	if len(raw) > MaxClaimsBytes {
		issues = append(issues, FieldIssue{Field: "claims", Reason: fmt.Sprintf("too large: %d > %d bytes of JSON", len(raw), MaxClaimsBytes)})
	}
	if err := validateReason(req.Reason); err != nil {
		fail(c, err)
		return
	}
	if len(issues) > 0 {
		fail(c, fieldsError("invalid request", issues...))
		return
	}
	if err := s.auth.SetCustomUserClaims(ctx, uid, req.Claims); err != nil {
		fail(c, err)
		return
	}
	if err := endSessions(ctx, s.auth, s.revocations, uid, revocation.ReasonClaims); err != nil {
		fail(c, err)
		return
	}
	if err := s.audit(c, nil, ActionUserClaims, model.UserPath(uid), req.Reason, map[string]string{"claims": string(raw)}); err != nil {
		fail(c, err)
		return
	}
	s.replyUser(c, uid)
}

// revokeUserTokens is POST /admin/v1/users/{uid}/revoke-tokens {reason?}:
// the user's refresh tokens stop working and their revocation marker makes
// the API and the rules refuse their current ID tokens (TOKEN_REVOKED).
// Admins may revoke their own tokens (signing out everywhere).
func (s *Server) revokeUserTokens(c *gin.Context) {
	ctx := c.Request.Context()
	uid, reason, err := pathAndReason(c, pathUID)
	if err != nil {
		fail(c, err)
		return
	}
	if err := endSessions(ctx, s.auth, s.revocations, uid, revocation.ReasonRevoke); err != nil {
		fail(c, err)
		return
	}
	if err := s.audit(c, nil, ActionUserRevokeTokens, model.UserPath(uid), reason, nil); err != nil {
		fail(c, err)
		return
	}
	s.replyUser(c, uid)
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
// in their messages: "erased-" and 16 random hex digits, one pseudonym per
// erasure, so the messages still read as one (unknown) person's but cannot
// be linked back to the account.
const ErasedSenderPrefix = "erased-"

// ErasedSenderName replaces an erased user's name in room previews.
const ErasedSenderName = "Deleted user"

// eraseUser is DELETE /admin/v1/users/{uid} {reason?}: erases a user. Gone:
// the profile and everything under users/{uid} (devices, inbox,
// memberships, counters), presence, pending notification digests, the
// user's member docs (they leave every room; direct rooms are archived) and
// finally the Auth account. Kept, anonymised: their messages, whose
// senderId becomes a pseudonym (ErasedSenderPrefix). It can be retried: a
// second call finishes what a failed one left.
//
// It needs COLLECTION_GROUP single-field indexes on messages.senderId and
// members.banned in production.
func (s *Server) eraseUser(c *gin.Context) {
	ctx := c.Request.Context()
	uid, reason, err := pathAndReason(c, targetUser)
	if err != nil {
		fail(c, err)
		return
	}
	// A marker before (the user stops writing while their data is erased)
	// and after (no session begun meanwhile outlives the account).
	if _, err := s.revocations.Revoke(ctx, uid, revocation.ReasonErase); err != nil {
		fail(c, err)
		return
	}
	res, err := s.erase(ctx, uid)
	if err != nil {
		fail(c, err)
		return
	}
	if _, err := s.revocations.Revoke(ctx, uid, revocation.ReasonErase); err != nil {
		fail(c, err)
		return
	}
	details := map[string]string{
		"authUserDeleted":    fmt.Sprint(res.AuthUserDeleted),
		"roomsLeft":          fmt.Sprint(res.RoomsLeft),
		"messagesAnonymised": fmt.Sprint(res.MessagesAnonymised),
		"documentsDeleted":   fmt.Sprint(res.DocumentsDeleted),
	}
	if err := s.audit(c, nil, ActionUserErase, model.UserPath(uid), reason, details); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *Server) erase(ctx context.Context, uid string) (eraseResult, error) {
	res := eraseResult{UID: uid}
	var b [8]byte
	rand.Read(b[:])
	pseudonym := ErasedSenderPrefix + hex.EncodeToString(b[:])

	// Rooms: leave each, in its own transaction.
	rooms, err := s.fs.Collection(model.RoomsCollection).Where("memberIds", "array-contains", uid).Documents(ctx).GetAll()
	if err != nil {
		return res, fmt.Errorf("erase %s: find rooms: %w", uid, err)
	}
	for _, r := range rooms {
		if err := s.leaveForErasure(ctx, r.Ref, uid, pseudonym); err != nil {
			return res, err
		}
		res.RoomsLeft++
	}
	// Ban records keep a member doc outside memberIds; find them by flag.
	banned, err := s.fs.CollectionGroup(model.MembersCollection).Where("banned", "==", true).Documents(ctx).GetAll()
	if err != nil {
		return res, fmt.Errorf("erase %s: find bans: %w", uid, err)
	}
	bw := s.fs.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	enqueue := func(j *firestore.BulkWriterJob, err error) error {
		if err == nil {
			jobs = append(jobs, j)
		}
		return err
	}
	for _, m := range banned {
		if m.Ref.ID == uid {
			if err := enqueue(bw.Delete(m.Ref)); err != nil {
				bw.End()
				return res, err
			}
			res.DocumentsDeleted++
		}
	}
	// Messages: kept, anonymised.
	it := s.fs.CollectionGroup(model.MessagesCollection).Where("senderId", "==", uid).Documents(ctx)
	for {
		m, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			it.Stop()
			bw.End()
			return res, fmt.Errorf("erase %s: find messages: %w", uid, err)
		}
		if err := enqueue(bw.Update(m.Ref, []firestore.Update{{Path: "senderId", Value: pseudonym}})); err != nil {
			it.Stop()
			bw.End()
			return res, err
		}
		res.MessagesAnonymised++
	}
	// Presence and pending digests ("{uid}_{roomId}").
	if err := enqueue(bw.Delete(s.fs.Doc(model.PresencePath(uid)))); err != nil {
		bw.End()
		return res, err
	}
	pq := s.fs.Collection(model.PushQueueCollection)
	digests, err := pq.Where(firestore.DocumentID, ">=", pq.Doc(uid+"_")).
		Where(firestore.DocumentID, "<", pq.Doc(uid+"`")).Documents(ctx).GetAll()
	if err != nil {
		bw.End()
		return res, fmt.Errorf("erase %s: find digests: %w", uid, err)
	}
	for _, d := range digests {
		if err := enqueue(bw.Delete(d.Ref)); err != nil {
			bw.End()
			return res, err
		}
		res.DocumentsDeleted++
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return res, fmt.Errorf("erase %s: %w", uid, err)
		}
	}
	// Media: objects, thumbnails and quota documents gone, upload records removed.
	quotas, err := s.eraseMedia(ctx, uid)
	res.DocumentsDeleted += quotas
	if err != nil {
		return res, err
	}
	// Everything under users/{uid}.
	n, err := deleteRecursive(ctx, s.fs, s.fs.Doc(model.UserPath(uid)))
	if err != nil {
		return res, fmt.Errorf("erase %s: %w", uid, err)
	}
	res.DocumentsDeleted += n
	// The Auth account last, so a failed erasure can be retried by uid.
	switch err := s.auth.DeleteUser(ctx, uid); {
	case err == nil:
		res.AuthUserDeleted = true
	case auth.IsUserNotFound(err):
	default:
		return res, fmt.Errorf("erase %s: delete auth user: %w", uid, err)
	}
	return res, nil
}

// leaveForErasure takes an erased user out of one room: member doc and
// typing doc deleted, uid out of memberIds, a preview of their last
// message anonymised, a direct room archived (it has one member left).
func (s *Server) leaveForErasure(ctx context.Context, ref *firestore.DocumentRef, uid, pseudonym string) error {
	return s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return err
		}
		var r model.Room
		if err := snap.DataTo(&r); err != nil {
			return err
		}
		rest := slices.DeleteFunc(slices.Clone(r.MemberIDs), func(id string) bool { return id == uid })
		updates := []firestore.Update{{Path: "memberIds", Value: rest}, {Path: "memberCount", Value: len(rest)}}
		if r.Type == model.RoomDirect || len(rest) == 0 {
			updates = append(updates, firestore.Update{Path: "archived", Value: true})
		}
		if r.LastMessage != nil && r.LastMessage.SenderID == uid {
			updates = append(updates,
				firestore.Update{Path: "lastMessage.senderId", Value: pseudonym},
				firestore.Update{Path: "lastMessage.senderName", Value: ErasedSenderName})
		}
		if err := tx.Update(ref, updates); err != nil {
			return err
		}
		if err := tx.Delete(s.fs.Doc(model.MemberPath(ref.ID, uid))); err != nil {
			return err
		}
		return tx.Delete(s.fs.Doc(model.TypingPath(ref.ID, uid)))
	})
}

// RevocationWriter writes a user's revocation marker;
// *revocation.Markers implements it.
type RevocationWriter interface {
	Revoke(ctx context.Context, uid string, reason revocation.Reason) (time.Time, error)
}

// endSessions ends every current session of uid after a change in Firebase
// Auth: refresh tokens revoked (the app must sign in again), then the
// revocation marker (the API and the rules refuse the ID tokens already
// issued).
func endSessions(ctx context.Context, users UserManager, marks RevocationWriter, uid string, reason revocation.Reason) error {
	if err := users.RevokeRefreshTokens(ctx, uid); err != nil {
		return err
	}
	if _, err := marks.Revoke(ctx, uid, reason); err != nil {
		return err
	}
	return nil
}

// SetAdminClaim grants (grant true) or withdraws the custom claim
// admin: true of the user with email, keeping their other claims, and ends
// the user's sessions (refresh tokens revoked; with marks, a revocation
// marker that makes the API and the rules refuse the ID tokens already
// issued — without it, those keep the old claim in the rules until they
// expire). With fs it also writes an audit entry by CLIActor. It is what
// `hearth users grant-admin` runs; it works against the Auth emulator and
// production alike. The user signs in again to get a token with the claim.
func SetAdminClaim(ctx context.Context, users UserManager, fs *firestore.Client, marks RevocationWriter, email string, grant bool, now time.Time) (*auth.UserRecord, error) {
	u, err := users.GetUserByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("find user %s: %w", email, err)
	}
	claims := maps.Clone(u.CustomClaims)
	if claims == nil {
		claims = map[string]any{}
	}
	action := ActionUserGrantAdmin
	if grant {
		claims["admin"] = true
	} else {
		delete(claims, "admin")
		action = ActionUserRevokeAdmin
	}
	if err := users.SetCustomUserClaims(ctx, u.UID, claims); err != nil {
		return nil, fmt.Errorf("set claims of %s: %w", email, err)
	}
	if err := users.RevokeRefreshTokens(ctx, u.UID); err != nil {
		return nil, fmt.Errorf("revoke refresh tokens of %s: %w", email, err)
	}
	if marks != nil {
		if _, err := marks.Revoke(ctx, u.UID, revocation.ReasonClaims); err != nil {
			return nil, fmt.Errorf("revocation marker of %s: %w", email, err)
		}
	}
	if fs != nil {
		e := model.AuditEntry{At: now.UTC(), ActorUID: CLIActor, Action: action, Target: model.UserPath(u.UID),
			Details: map[string]string{"email": email}}
		if _, err := fs.Collection(model.AuditLogCollection).NewDoc().Create(ctx, e); err != nil {
			return nil, fmt.Errorf("audit %s: %w", action, err)
		}
	}
	return users.GetUser(ctx, u.UID)
}
