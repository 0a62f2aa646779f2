package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/gin-gonic/gin"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/model"
)

// apiRoom is the JSON of a room.
type apiRoom struct {
	ID            string          `json:"id"`
	Type          model.RoomType  `json:"type"`
	Title         string          `json:"title,omitempty"`
	PhotoURL      string          `json:"photoURL,omitempty"`
	CreatedBy     string          `json:"createdBy"`
	CreatedAt     time.Time       `json:"createdAt"`
	MemberIDs     []string        `json:"memberIds"`
	MemberCount   int             `json:"memberCount"`
	LastMessage   *apiLastMessage `json:"lastMessage,omitempty"`
	LastMessageAt time.Time       `json:"lastMessageAt,omitzero"`
	MessageCount  int64           `json:"messageCount"`
	Archived      bool            `json:"archived"`
	// MyRole is the caller's role (client routes).
	MyRole model.Role `json:"myRole,omitempty"`
	// Members is the full roster, banned members included (admin view).
	Members []apiMember `json:"members,omitempty"`
}

// apiLastMessage is the JSON of a room's last-message preview.
type apiLastMessage struct {
	ID         string            `json:"id"`
	SenderID   string            `json:"senderId"`
	SenderName string            `json:"senderName"`
	Type       model.MessageType `json:"type"`
	Preview    string            `json:"preview"`
	SentAt     time.Time         `json:"sentAt"`
}

func toAPIRoom(id string, r model.Room) apiRoom {
	out := apiRoom{
		ID: id, Type: r.Type, Title: r.Title, PhotoURL: r.PhotoURL, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, MemberIDs: r.MemberIDs, MemberCount: r.MemberCount,
		LastMessageAt: r.LastMessageAt, MessageCount: r.MessageCount, Archived: r.Archived,
	}
	if out.MemberIDs == nil {
		out.MemberIDs = []string{}
	}
	if lm := r.LastMessage; lm != nil {
		out.LastMessage = &apiLastMessage{ID: lm.ID, SenderID: lm.SenderID, SenderName: lm.SenderName,
			Type: lm.Type, Preview: lm.Preview, SentAt: lm.SentAt}
	}
	return out
}

// roomView is a room as one of its members sees it.
type roomView struct {
	ref    *firestore.DocumentRef
	room   model.Room
	uid    string
	member model.Member // the caller's member doc (Role member if it is missing)
}

func (v *roomView) role() model.Role { return v.member.Role }

// memberRoom loads a room and the caller's member doc, in tx when it is not
// nil. A missing room and a caller who is not in memberIds (never was, left,
// or was banned) are the same 404 NOT_FOUND: the API does not reveal which
// rooms exist (direct room ids can be computed from two uids).
func (s *Server) memberRoom(ctx context.Context, tx *firestore.Transaction, roomID, uid string) (*roomView, error) {
	ref := s.fs.Doc(model.RoomPath(roomID))
	refs := []*firestore.DocumentRef{ref, s.fs.Doc(model.MemberPath(roomID, uid))}
	var snaps []*firestore.DocumentSnapshot
	var err error
	if tx != nil {
		snaps, err = tx.GetAll(refs)
	} else {
		snaps, err = s.fs.GetAll(ctx, refs)
	}
	if err != nil {
		return nil, fmt.Errorf("get room %s: %w", roomID, err)
	}
	v := &roomView{ref: ref, uid: uid}
	if !snaps[0].Exists() {
		return nil, errRoomNotFound()
	}
	if err := snaps[0].DataTo(&v.room); err != nil {
		return nil, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	if !slices.Contains(v.room.MemberIDs, uid) {
		return nil, errRoomNotFound()
	}
	v.member.Role = model.RoleMember
	if snaps[1].Exists() {
		if err := snaps[1].DataTo(&v.member); err != nil {
			return nil, fmt.Errorf("decode member %s of %s: %w", uid, roomID, err)
		}
	}
	return v, nil
}

func errRoomNotFound() *apiError { return errNotFound("room not found") }

// writable refuses changes to archived rooms.
func (v *roomView) writable() error {
	if v.room.Archived {
		return errPrecondition(ReasonRoomArchived, "the room is archived and read-only")
	}
	return nil
}

// getRoom is GET /v1/rooms/{roomId}: the room, for members.
func (s *Server) getRoom(c *gin.Context) {
	roomID, err := pathRoomID(c)
	if err != nil {
		fail(c, err)
		return
	}
	v, err := s.memberRoom(c.Request.Context(), nil, roomID, principalOf(c).UID)
	if err != nil {
		fail(c, err)
		return
	}
	out := toAPIRoom(roomID, v.room)
	out.MyRole = v.role()
	c.JSON(http.StatusOK, out)
}

// createRoomRequest is the body of POST /v1/rooms.
type createRoomRequest struct {
	Title     string   `json:"title"`
	PhotoURL  string   `json:"photoURL"`
	MemberIDs []string `json:"memberIds"`
}

// createRoom is POST /v1/rooms: a group room whose owner is the caller and
// whose other members are memberIds (existing users; the caller's own uid
// may be listed). The room, every member doc and a system message are
// written in one transaction; the functions create each member's inbox
// entry and private membership from the member docs.
func (s *Server) createRoom(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	var req createRoomRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	others, issues := validateUIDList("memberIds", req.MemberIDs, model.MaxMembers, p.UID)
	now := s.now().UTC()
	ref := s.fs.Collection(model.RoomsCollection).NewDoc()
	room := model.Room{
		Type: model.RoomGroup, Title: req.Title, PhotoURL: req.PhotoURL, CreatedBy: p.UID,
		CreatedAt: now, MemberIDs: append([]string{p.UID}, others...), LastMessageAt: now,
	}
	room.MemberCount = len(room.MemberIDs)
	if len(room.MemberIDs) > model.MaxMembers {
		issues = append(issues, FieldIssue{Field: "memberIds", Reason: fmt.Sprintf("too many: a group has at most %d members, the creator included", model.MaxMembers)})
	}
	// The model checks title and photoURL; the member list was checked
	// above with the request's indexes.
	var ve *model.ValidationError
	if err := model.ValidateRoom(ref.ID, room); errors.As(err, &ve) {
		for _, f := range ve.Fields {
			if !strings.HasPrefix(f.Field, "memberIds") {
				issues = append(issues, FieldIssue{Field: f.Field, Reason: f.Reason})
			}
		}
	}
	if len(issues) > 0 {
		fail(c, fieldsError("invalid request", issues...))
		return
	}
	users, missing, err := s.lookupUsers(ctx, room.MemberIDs)
	if err != nil {
		fail(c, err)
		return
	}
	if err := missingUsersError("memberIds", req.MemberIDs, missing, p.UID); err != nil {
		fail(c, err)
		return
	}
	names := make([]string, 0, len(others))
	for _, uid := range others {
		names = append(names, users[uid].DisplayName)
	}
	text := fmt.Sprintf("%s created the group %q", displayName(users[p.UID].DisplayName), req.Title)
	if len(others) > 0 {
		text += " with " + joinNames(names)
	}
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Create(ref, room); err != nil {
			return err
		}
		for _, uid := range room.MemberIDs {
			role := model.RoleMember
			if uid == p.UID {
				role = model.RoleOwner
			}
			m := model.Member{Role: role, JoinedAt: now, DisplayName: users[uid].DisplayName}
			if err := tx.Create(s.fs.Doc(model.MemberPath(ref.ID, uid)), m); err != nil {
				return err
			}
		}
		return tx.Create(s.newSystemMessageRef(ref.ID), systemMessage(p.UID, text))
	})
	if err != nil {
		fail(c, fmt.Errorf("create room: %w", err))
		return
	}
	out := toAPIRoom(ref.ID, room)
	out.MyRole = model.RoleOwner
	c.Header("Location", "/v1/rooms/"+ref.ID)
	c.JSON(http.StatusCreated, out)
}

// directRoomRequest is the body of POST /v1/rooms/direct.
type directRoomRequest struct {
	UserID string `json:"userId"`
}

// createDirectRoom is POST /v1/rooms/direct: the one direct room of the
// caller and userId, whose id is model.DirectRoomID of the pair. It is
// created (201) on first use and returned (200) afterwards; two concurrent
// calls meet in the same transaction on the same document.
func (s *Server) createDirectRoom(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	var req directRoomRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := model.ValidateID("userId", req.UserID); err != nil {
		fail(c, err)
		return
	}
	if req.UserID == p.UID {
		fail(c, fieldsError("invalid request", FieldIssue{Field: "userId", Reason: "a direct room needs another user"}))
		return
	}
	users, missing, err := s.lookupUsers(ctx, []string{p.UID, req.UserID})
	if err != nil {
		fail(c, err)
		return
	}
	if slices.Contains(missing, req.UserID) {
		fail(c, errNotFound("user %s not found", req.UserID))
		return
	}
	roomID := model.DirectRoomID(p.UID, req.UserID)
	ref := s.fs.Doc(model.RoomPath(roomID))
	now := s.now().UTC()
	var room model.Room
	var created bool
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		created = false
		snaps, err := tx.GetAll([]*firestore.DocumentRef{ref, s.fs.Doc(model.MemberPath(roomID, p.UID))})
		if err != nil {
			return err
		}
		if snaps[0].Exists() {
			if err := snaps[0].DataTo(&room); err != nil {
				return err
			}
			if slices.Contains(room.MemberIDs, p.UID) {
				return nil
			}
			var m model.Member
			if snaps[1].Exists() && snaps[1].DataTo(&m) == nil && m.Banned {
				return errDenied(ReasonUserBanned, "you are banned from this room")
			}
			return errDenied("", "you are no longer a member of this direct room")
		}
		room = model.Room{
			Type: model.RoomDirect, CreatedBy: p.UID, CreatedAt: now,
			MemberIDs: []string{p.UID, req.UserID}, MemberCount: 2, LastMessageAt: now,
		}
		if err := model.ValidateRoom(roomID, room); err != nil {
			return err
		}
		if err := tx.Create(ref, room); err != nil {
			return err
		}
		for _, uid := range room.MemberIDs {
			m := model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: users[uid].DisplayName}
			if err := tx.Create(s.fs.Doc(model.MemberPath(roomID, uid)), m); err != nil {
				return err
			}
		}
		created = true
		text := displayName(users[p.UID].DisplayName) + " started the conversation"
		return tx.Create(s.newSystemMessageRef(roomID), systemMessage(p.UID, text))
	})
	if err != nil {
		fail(c, err)
		return
	}
	out := toAPIRoom(roomID, room)
	out.MyRole = model.RoleMember
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/rooms/"+roomID)
	}
	c.JSON(status, out)
}

// validateUIDList checks a request's list of uids: valid ids, no
// duplicates, at most maxLen. It returns the list without self (the caller
// may name themselves) and the issues, indexed as in the request.
func validateUIDList(field string, ids []string, maxLen int, self string) ([]string, []FieldIssue) {
	if len(ids) > maxLen {
		return nil, []FieldIssue{{Field: field, Reason: fmt.Sprintf("too many: %d > %d", len(ids), maxLen)}}
	}
	var issues []FieldIssue
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := model.ValidateID(f, id); err != nil {
			issues = append(issues, FieldIssue{Field: f, Reason: firstReason(err)})
			continue
		}
		if seen[id] {
			issues = append(issues, FieldIssue{Field: f, Reason: fmt.Sprintf("duplicate %q", id)})
			continue
		}
		seen[id] = true
		if id != self {
			out = append(out, id)
		}
	}
	return out, issues
}

// missingUsersError is a 400 naming the request's uids that are not users.
// The caller's own uid missing means their account was just deleted: 401.
func missingUsersError(field string, ids, missing []string, self string) error {
	if len(missing) == 0 {
		return nil
	}
	if slices.Contains(missing, self) {
		return errUnauthenticated(ReasonUserNotFound, "the user account does not exist")
	}
	var issues []FieldIssue
	for i, id := range ids {
		if slices.Contains(missing, id) {
			issues = append(issues, FieldIssue{Field: fmt.Sprintf("%s[%d]", field, i), Reason: "no such user"})
		}
	}
	return fieldsError("some users do not exist", issues...)
}

// firstReason returns the reason of a model validation error's first field.
func firstReason(err error) string {
	var ve *model.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Reason
	}
	return err.Error()
}

// --- admin ---

// adminListRooms is GET /admin/v1/rooms?limit=&pageToken=&archived=&type=:
// rooms newest first. pageToken is the nextPageToken of the previous page.
func (s *Server) adminListRooms(c *gin.Context) {
	ctx := c.Request.Context()
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	q := s.fs.Collection(model.RoomsCollection).Query
	var issues []FieldIssue
	switch v := c.Query("archived"); v {
	case "":
	case "true", "false":
		q = q.Where("archived", "==", v == "true")
	default:
		issues = append(issues, FieldIssue{Field: "archived", Reason: "must be true or false"})
	}
	if v := c.Query("type"); v != "" {
		if !model.RoomType(v).Valid() {
			issues = append(issues, FieldIssue{Field: "type", Reason: fmt.Sprintf("must be one of %q", model.RoomTypes())})
		}
		q = q.Where("type", "==", v)
	}
	token := c.Query("pageToken")
	if token != "" && model.ValidateRoomID("pageToken", token) != nil {
		issues = append(issues, FieldIssue{Field: "pageToken", Reason: "not a page token of this list"})
	}
	if len(issues) > 0 {
		fail(c, fieldsError("invalid query", issues...))
		return
	}
	q = q.OrderBy("createdAt", firestore.Desc)
	var cursor *firestore.DocumentRef
	if token != "" {
		cursor = s.fs.Doc(model.RoomPath(token))
	}
	var out struct {
		Rooms         []apiRoom `json:"rooms"`
		NextPageToken string    `json:"nextPageToken,omitempty"`
	}
	badToken := fieldsError("invalid query", FieldIssue{Field: "pageToken", Reason: "the room it points at is gone; start again"})
	out.Rooms, out.NextPageToken, err = listPage(ctx, q, cursor, badToken, limit, "rooms", toAPIRoom)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// adminGetRoom is GET /admin/v1/rooms/{roomId}: any room with its full
// roster, banned members included.
func (s *Server) adminGetRoom(c *gin.Context) {
	ctx := c.Request.Context()
	roomID, err := pathRoomID(c)
	if err != nil {
		fail(c, err)
		return
	}
	snap, err := s.fs.Doc(model.RoomPath(roomID)).Get(ctx)
	if err != nil {
		if isNotFound(err) {
			err = errRoomNotFound()
		}
		fail(c, err)
		return
	}
	var r model.Room
	if err := snap.DataTo(&r); err != nil {
		fail(c, fmt.Errorf("decode room %s: %w", roomID, err))
		return
	}
	out := toAPIRoom(roomID, r)
	out.Members = []apiMember{}
	it := s.fs.Collection(model.MembersCollectionPath(roomID)).Documents(ctx)
	defer it.Stop()
	for {
		ms, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			fail(c, fmt.Errorf("list members of %s: %w", roomID, err))
			return
		}
		var m model.Member
		if err := ms.DataTo(&m); err != nil {
			fail(c, fmt.Errorf("decode member %s: %w", ms.Ref.Path, err))
			return
		}
		out.Members = append(out.Members, toAPIMember(ms.Ref.ID, m))
	}
	c.JSON(http.StatusOK, out)
}

// adminArchiveRoom is POST /admin/v1/rooms/{roomId}/archive {reason?}: the
// room becomes read-only (the rules refuse new messages; the API refuses
// member changes).
func (s *Server) adminArchiveRoom(c *gin.Context) { s.setArchived(c, true) }

// adminUnarchiveRoom is POST /admin/v1/rooms/{roomId}/unarchive {reason?}.
func (s *Server) adminUnarchiveRoom(c *gin.Context) { s.setArchived(c, false) }

func (s *Server) setArchived(c *gin.Context, archived bool) {
	ctx := c.Request.Context()
	roomID, reason, err := pathAndReason(c, pathRoomID)
	if err != nil {
		fail(c, err)
		return
	}
	action := ActionRoomArchive
	if !archived {
		action = ActionRoomUnarchive
	}
	ref := s.fs.Doc(model.RoomPath(roomID))
	var room model.Room
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		if room, err = getRoom(tx, ref); err != nil {
			return err
		}
		room.Archived = archived
		if err := tx.Update(ref, []firestore.Update{{Path: "archived", Value: archived}}); err != nil {
			return err
		}
		return s.audit(c, tx, action, model.RoomPath(roomID), reason, nil)
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIRoom(roomID, room))
}

// adminDeleteRoom is DELETE /admin/v1/rooms/{roomId} {reason?}: the room
// and everything under it (members, messages, typing), recursively. The
// functions remove the members' inbox entries and private memberships when
// their member docs go. Media objects are the media code's to delete.
func (s *Server) adminDeleteRoom(c *gin.Context) {
	ctx := c.Request.Context()
	roomID, reason, err := pathAndReason(c, pathRoomID)
	if err != nil {
		fail(c, err)
		return
	}
	ref := s.fs.Doc(model.RoomPath(roomID))
	_, err = ref.Get(ctx)
	if err != nil && !isNotFound(err) {
		fail(c, err)
		return
	}
	existed := err == nil
	// A room doc already gone with messages left (an interrupted delete) is
	// still cleaned up, so the call can be retried.
	n, err := deleteRecursive(ctx, s.fs, ref)
	if err != nil {
		fail(c, err)
		return
	}
	if !existed && n <= 1 {
		fail(c, errRoomNotFound())
		return
	}
	details := map[string]string{"documentsDeleted": fmt.Sprint(n)}
	if err := s.audit(c, nil, ActionRoomDelete, model.RoomPath(roomID), reason, details); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
