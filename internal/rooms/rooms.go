// Package rooms holds the rules of rooms and their members: creating group
// and direct rooms, adding and removing members, roles, bans, redactions,
// archiving and deleting. Each operation is one Firestore transaction (or a
// recursive delete) behind a Service method that takes a typed input and
// returns a typed result, or one of the errors of errors.go. The HTTP API
// decodes requests, calls the Service and maps its errors.
package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// Directory is the part of Firebase Auth the rules read: the users a room
// adds (GetUsers) and whether a message's author is an app admin (GetUser).
// *auth.Client implements it.
type Directory interface {
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
	GetUsers(ctx context.Context, identifiers []auth.UserIdentifier) (*auth.GetUsersResult, error)
}

// Auditor records an audited action, in tx when it is not nil (so the entry
// commits with the change), else on its own.
type Auditor interface {
	Audit(ctx context.Context, tx *firestore.Transaction, e model.AuditEntry) error
}

// The audited actions of this package (auditLog/{id}.action).
const (
	ActionArchive   = "room.archive"
	ActionUnarchive = "room.unarchive"
	ActionDelete    = "room.delete"
	ActionRedact    = "message.redact"
	ActionBan       = "member.ban"
	ActionUnban     = "member.unban"
)

// Deps are the Service's dependencies; all are required.
type Deps struct {
	Firestore *firestore.Client
	Users     Directory
	Audit     Auditor
	// Clock stamps joins, bans, redactions and audit entries.
	Clock clock.Clock
}

// Service applies the room rules. Create it with New; it is safe for
// concurrent use.
type Service struct {
	fs    *firestore.Client
	users Directory
	audit Auditor
	clock clock.Clock
}

// New checks deps and returns a Service.
func New(deps Deps) (*Service, error) {
	var errs []error
	if deps.Firestore == nil {
		errs = append(errs, errors.New("rooms: Firestore client required"))
	}
	if deps.Users == nil {
		errs = append(errs, errors.New("rooms: user directory required"))
	}
	if deps.Audit == nil {
		errs = append(errs, errors.New("rooms: auditor required"))
	}
	if deps.Clock == nil {
		errs = append(errs, errors.New("rooms: clock required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{fs: deps.Firestore, users: deps.Users, audit: deps.Audit, clock: deps.Clock}, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// Room is a room document and its id.
type Room struct {
	ID string
	model.Room
}

// Member is a member document and its uid.
type Member struct {
	UID string
	model.Member
}

// View is a room as one of its members sees it.
type View struct {
	Room
	// Member is the caller's member doc (role member when it is missing).
	Member model.Member
}

// Role is the caller's role in the room.
func (v *View) Role() model.Role { return v.Member.Role }

// Get returns the room roomID as its member uid sees it: ErrNotFound when
// there is no such room, ErrNotMember when uid is not in its memberIds.
func (s *Service) Get(ctx context.Context, roomID, uid string) (View, error) {
	if err := checkIDs(roomID, [2]string{"uid", uid}); err != nil {
		return View{}, err
	}
	v, err := s.memberView(ctx, nil, roomID, uid)
	if err != nil {
		return View{}, err
	}
	return *v, nil
}

// memberView loads a room and the caller's member doc, in tx when it is not
// nil.
func (s *Service) memberView(ctx context.Context, tx *firestore.Transaction, roomID, uid string) (*View, error) {
	refs := []*firestore.DocumentRef{s.fs.Doc(model.RoomPath(roomID)), s.fs.Doc(model.MemberPath(roomID, uid))}
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
	v := &View{Room: Room{ID: roomID}}
	if !snaps[0].Exists() {
		return nil, ErrNotFound
	}
	if err := snaps[0].DataTo(&v.Room.Room); err != nil {
		return nil, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	if !slices.Contains(v.MemberIDs, uid) {
		return nil, ErrNotMember
	}
	v.Member.Role = model.RoleMember
	if snaps[1].Exists() {
		if err := snaps[1].DataTo(&v.Member); err != nil {
			return nil, fmt.Errorf("decode member %s of %s: %w", uid, roomID, err)
		}
	}
	return v, nil
}

// writable refuses changes to archived rooms.
func (v *View) writable() error {
	if v.Archived {
		return ErrArchived
	}
	return nil
}

// groupChange refuses membership changes in direct and archived rooms.
func (v *View) groupChange() error {
	if v.Type != model.RoomGroup {
		return ErrDirectRoomFixed
	}
	return v.writable()
}

// getRoom reads the room roomID in tx.
func (s *Service) getRoom(tx *firestore.Transaction, roomID string) (model.Room, error) {
	var r model.Room
	snap, err := tx.Get(s.fs.Doc(model.RoomPath(roomID)))
	if err != nil {
		if firestoreerr.IsNotFound(err) {
			return r, ErrNotFound
		}
		return r, fmt.Errorf("get room %s: %w", roomID, err)
	}
	if err := snap.DataTo(&r); err != nil {
		return r, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	return r, nil
}

// rosterMember reads the member doc of uid, who must be in v's memberIds
// (else ErrMemberNotFound), in tx. A missing doc reads as a plain member.
func (s *Service) rosterMember(tx *firestore.Transaction, v *View, uid string) (*firestore.DocumentRef, model.Member, error) {
	m := model.Member{Role: model.RoleMember}
	if !slices.Contains(v.MemberIDs, uid) {
		return nil, m, ErrMemberNotFound
	}
	ref := s.fs.Doc(model.MemberPath(v.ID, uid))
	snap, err := tx.Get(ref)
	if err != nil && !firestoreerr.IsNotFound(err) {
		return nil, m, fmt.Errorf("get member %s of %s: %w", uid, v.ID, err)
	}
	if snap.Exists() {
		if err := snap.DataTo(&m); err != nil {
			return nil, m, fmt.Errorf("decode member %s of %s: %w", uid, v.ID, err)
		}
	}
	return ref, m, nil
}

// keepAnOwner fails with ErrLastOwner when uid is the room's only owner. It
// reads in tx, so call it before any write.
func (s *Service) keepAnOwner(tx *firestore.Transaction, roomID, uid string) error {
	owners, err := tx.Documents(s.fs.Collection(model.MembersCollectionPath(roomID)).
		Where("role", "==", string(model.RoleOwner)).Limit(2)).GetAll()
	if err != nil {
		return fmt.Errorf("find owners of %s: %w", roomID, err)
	}
	for _, o := range owners {
		if o.Ref.ID != uid {
			return nil
		}
	}
	return ErrLastOwner
}

// without returns ids without uid, as a new slice.
func without(ids []string, uid string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == uid })
}

// auditEntry is an audit entry of action by actor on target, now.
func (s *Service) auditEntry(actor, action, target, reason string, details map[string]string) model.AuditEntry {
	return model.AuditEntry{At: s.now(), ActorUID: actor, Action: action, Target: target, Reason: reason, Details: details}
}

// checkIDs validates the room id and the uids or message ids of an input
// (pairs of field name and value) before they become document paths: the
// API checks them already, but the Service does not rely on its callers.
func checkIDs(roomID string, ids ...[2]string) error {
	var fields []model.FieldError
	collect := func(err error) {
		var ve *model.ValidationError
		if errors.As(err, &ve) {
			fields = append(fields, ve.Fields...)
		}
	}
	collect(model.ValidateRoomID("roomId", roomID))
	for _, p := range ids {
		collect(model.ValidateID(p[0], p[1]))
	}
	return invalid(fields)
}
