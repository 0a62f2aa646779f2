package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// CreateGroupInput is a new group room.
type CreateGroupInput struct {
	// Creator becomes the owner.
	Creator  string
	Title    string
	PhotoURL string
	// MemberIDs are the other members, existing users (Creator may be listed).
	MemberIDs []string
}

// CreateGroup creates a group room whose owner is in.Creator and whose other
// members are in.MemberIDs. The room, every member doc and a system message
// are written in one transaction; the functions create each member's inbox
// entry and private membership from the member docs.
//
// A bad title, photo URL or member list is a *model.ValidationError naming
// every problem (members as "memberIds[i]"); members who are not users are
// an *UnknownUsersError, a creator who is not ErrCallerUnknown.
func (s *Service) CreateGroup(ctx context.Context, in CreateGroupInput) (Room, error) {
	if err := model.ValidateID("creator", in.Creator); err != nil {
		return Room{}, err
	}
	others, issues := checkUIDList(model.FieldMemberIDs, in.MemberIDs, model.MaxMembers, in.Creator)
	now := s.now()
	ref := s.fs.Collection(model.RoomsCollection).NewDoc()
	room := model.Room{
		Type: model.RoomGroup, Title: in.Title, PhotoURL: in.PhotoURL, CreatedBy: in.Creator,
		CreatedAt: now, MemberIDs: append([]string{in.Creator}, others...), LastMessageAt: now,
	}
	room.MemberCount = len(room.MemberIDs)
	if len(room.MemberIDs) > model.MaxMembers {
		issues = append(issues, model.FieldError{Field: model.FieldMemberIDs,
			Reason: fmt.Sprintf("too many: a group has at most %d members, the creator included", model.MaxMembers)})
	}
	// The model checks title and photoURL; the member list was checked
	// above with the request's indexes.
	var ve *model.ValidationError
	if err := model.ValidateRoom(ref.ID, room); errors.As(err, &ve) {
		for _, f := range ve.Fields {
			if !strings.HasPrefix(f.Field, model.FieldMemberIDs) {
				issues = append(issues, f)
			}
		}
	}
	if err := invalid(issues); err != nil {
		return Room{}, err
	}
	users, missing, err := s.lookupUsers(ctx, room.MemberIDs)
	if err != nil {
		return Room{}, err
	}
	if err := missingUsers(model.FieldMemberIDs, in.MemberIDs, missing, in.Creator); err != nil {
		return Room{}, err
	}
	names := make([]string, 0, len(others))
	for _, uid := range others {
		names = append(names, users[uid].DisplayName)
	}
	text := fmt.Sprintf("%s created the group %q", displayName(users[in.Creator].DisplayName), in.Title)
	if len(others) > 0 {
		text += " with " + joinNames(names)
	}
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Create(ref, room); err != nil {
			return err
		}
		for _, uid := range room.MemberIDs {
			role := model.RoleMember
			if uid == in.Creator {
				role = model.RoleOwner
			}
			m := model.Member{Role: role, JoinedAt: now, DisplayName: users[uid].DisplayName}
			if err := tx.Create(s.fs.Doc(model.MemberPath(ref.ID, uid)), m); err != nil {
				return err
			}
		}
		return s.addSystemMessage(tx, ref.ID, in.Creator, text)
	})
	if err != nil {
		return Room{}, fmt.Errorf("create room: %w", err)
	}
	return Room{ID: ref.ID, Room: room}, nil
}

// OpenDirectInput names the two users of a direct room.
type OpenDirectInput struct {
	Caller string
	Other  string
}

// DirectRoom is the result of OpenDirect.
type DirectRoom struct {
	Room
	// Created is true when this call created the room.
	Created bool
}

// OpenDirect returns the one direct room of in.Caller and in.Other, whose id
// is model.DirectRoomID of the pair, creating it on first use; two
// concurrent calls meet in the same transaction on the same document.
// A caller who left or was banned from it gets ErrLeftDirect or
// ErrBannedFromDirect; an other user who does not exist *UserNotFoundError; a
// caller the other user blocks (users/{other}/blocks/{caller}) ErrDirectRefused.
func (s *Service) OpenDirect(ctx context.Context, in OpenDirectInput) (DirectRoom, error) {
	if err := model.ValidateID("userId", in.Other); err != nil {
		return DirectRoom{}, err
	}
	if err := model.ValidateID("caller", in.Caller); err != nil {
		return DirectRoom{}, err
	}
	if in.Other == in.Caller {
		return DirectRoom{}, invalid([]model.FieldError{{Field: "userId", Reason: "a direct room needs another user"}})
	}
	users, missing, err := s.lookupUsers(ctx, []string{in.Caller, in.Other})
	if err != nil {
		return DirectRoom{}, err
	}
	if slices.Contains(missing, in.Other) {
		return DirectRoom{}, &UserNotFoundError{UID: in.Other}
	}
	roomID := model.DirectRoomID(in.Caller, in.Other)
	ref := s.fs.Doc(model.RoomPath(roomID))
	now := s.now()
	var out DirectRoom
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out = DirectRoom{Room: Room{ID: roomID}}
		snaps, err := tx.GetAll([]*firestore.DocumentRef{ref, s.fs.Doc(model.MemberPath(roomID, in.Caller)),
			s.fs.Doc(model.BlockPath(in.Other, in.Caller))})
		if err != nil {
			return err
		}
		if snaps[2].Exists() {
			// The other user blocks the caller: refused, new room or old,
			// with nothing that says why.
			return ErrDirectRefused
		}
		if snaps[0].Exists() {
			if err := snaps[0].DataTo(&out.Room.Room); err != nil {
				return err
			}
			if slices.Contains(out.MemberIDs, in.Caller) {
				return nil
			}
			var m model.Member
			if snaps[1].Exists() && snaps[1].DataTo(&m) == nil && m.Banned {
				return ErrBannedFromDirect
			}
			return ErrLeftDirect
		}
		room := model.Room{
			Type: model.RoomDirect, CreatedBy: in.Caller, CreatedAt: now,
			MemberIDs: []string{in.Caller, in.Other}, MemberCount: 2, LastMessageAt: now,
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
		out.Room.Room, out.Created = room, true
		text := displayName(users[in.Caller].DisplayName) + " started the conversation"
		return s.addSystemMessage(tx, roomID, in.Caller, text)
	})
	if err != nil {
		return DirectRoom{}, fmt.Errorf("open direct room %s: %w", roomID, err)
	}
	return out, nil
}
