package rooms

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/subtree"
)

// Operations of app admins on any room.

// Roster returns the room roomID and its full roster, banned members
// included; ErrNotFound when there is no such room.
func (s *Service) Roster(ctx context.Context, roomID string) (Room, []Member, error) {
	if err := checkIDs(roomID); err != nil {
		return Room{}, nil, err
	}
	snap, err := s.fs.Doc(model.RoomPath(roomID)).Get(ctx)
	if err != nil {
		if firestoreerr.IsNotFound(err) {
			return Room{}, nil, ErrNotFound
		}
		return Room{}, nil, fmt.Errorf("get room %s: %w", roomID, err)
	}
	r := Room{ID: roomID}
	if err := snap.DataTo(&r.Room); err != nil {
		return Room{}, nil, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	members := []Member{}
	it := s.fs.Collection(model.MembersCollectionPath(roomID)).Documents(ctx)
	defer it.Stop()
	for {
		ms, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return Room{}, nil, fmt.Errorf("list members of %s: %w", roomID, err)
		}
		m := Member{UID: ms.Ref.ID}
		if err := ms.DataTo(&m.Member); err != nil {
			return Room{}, nil, fmt.Errorf("decode member %s: %w", ms.Ref.Path, err)
		}
		members = append(members, m)
	}
	return r, members, nil
}

// AdminInput is an app admin's audited action on a room.
type AdminInput struct {
	Actor  string
	RoomID string
	Reason string
}

// SetArchived archives (the room becomes read-only: the rules refuse new
// messages, Service refuses member changes) or unarchives the room, and
// returns it.
func (s *Service) SetArchived(ctx context.Context, in AdminInput, archived bool) (Room, error) {
	if err := checkIDs(in.RoomID); err != nil {
		return Room{}, err
	}
	action := ActionArchive
	if !archived {
		action = ActionUnarchive
	}
	ref := s.fs.Doc(model.RoomPath(in.RoomID))
	out := Room{ID: in.RoomID}
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		if out.Room, err = s.getRoom(tx, in.RoomID); err != nil {
			return err
		}
		out.Archived = archived
		if err := tx.Update(ref, []firestore.Update{{Path: "archived", Value: archived}}); err != nil {
			return err
		}
		return s.audit.Audit(ctx, tx, s.auditEntry(in.Actor, action, model.RoomPath(in.RoomID), in.Reason, nil))
	})
	if err != nil {
		return Room{}, fmt.Errorf("%s %s: %w", action, in.RoomID, err)
	}
	return out, nil
}

// Delete deletes the room and everything under it (members, messages,
// typing), recursively, and returns how many documents it deleted. The
// functions remove the members' inbox entries and private memberships when
// their member docs go; media objects are the media code's to delete. A
// room doc already gone with documents left under it (an interrupted
// delete) is still cleaned up, so the call can be retried; ErrNotFound when
// there was nothing.
func (s *Service) Delete(ctx context.Context, in AdminInput) (int, error) {
	if err := checkIDs(in.RoomID); err != nil {
		return 0, err
	}
	ref := s.fs.Doc(model.RoomPath(in.RoomID))
	_, err := ref.Get(ctx)
	if err != nil && !firestoreerr.IsNotFound(err) {
		return 0, fmt.Errorf("get room %s: %w", in.RoomID, err)
	}
	existed := err == nil
	n, err := subtree.Delete(ctx, s.fs, ref)
	if err != nil {
		return 0, err
	}
	if !existed && n <= 1 {
		return 0, ErrNotFound
	}
	details := map[string]string{"documentsDeleted": fmt.Sprint(n)}
	if err := s.audit.Audit(ctx, nil, s.auditEntry(in.Actor, ActionDelete, model.RoomPath(in.RoomID), in.Reason, details)); err != nil {
		return n, err
	}
	return n, nil
}

// ErasedSenderName replaces an erased user's name in room previews.
const ErasedSenderName = "Deleted user"

// EraseMember takes an erased user out of every room they are in, each room
// in its own transaction: member doc and typing doc deleted, uid out of
// memberIds, a preview of their last message attributed to pseudonym, a
// direct room (or a group left empty) archived. It returns how many rooms
// the user left. Ban records (member docs outside memberIds) are not its
// business.
func (s *Service) EraseMember(ctx context.Context, uid, pseudonym string) (int, error) {
	if err := model.ValidateID("uid", uid); err != nil {
		return 0, err
	}
	rooms, err := s.fs.Collection(model.RoomsCollection).Where(model.FieldMemberIDs, "array-contains", uid).Documents(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("find rooms of %s: %w", uid, err)
	}
	n := 0
	for _, r := range rooms {
		if err := s.leaveForErasure(ctx, r.Ref, uid, pseudonym); err != nil {
			return n, fmt.Errorf("leave %s: %w", r.Ref.ID, err)
		}
		n++
	}
	return n, nil
}

func (s *Service) leaveForErasure(ctx context.Context, ref *firestore.DocumentRef, uid, pseudonym string) error {
	return s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			if firestoreerr.IsNotFound(err) {
				return nil
			}
			return err
		}
		var r model.Room
		if err := snap.DataTo(&r); err != nil {
			return err
		}
		rest := without(r.MemberIDs, uid)
		updates := []firestore.Update{{Path: model.FieldMemberIDs, Value: rest}, {Path: "memberCount", Value: len(rest)}}
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
