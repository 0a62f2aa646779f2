package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// maxReconcileRounds bounds Reconcile's re-checks of a membership that keeps changing.
const maxReconcileRounds = 5

// ErrUnsettled is returned (wrapped) when a membership changed under Reconcile in every
// round; a retry later settles it.
var ErrUnsettled = errors.New("membership changed while being reconciled")

// Reconcile makes uid's private membership and inbox entry of roomID agree with whether
// uid belongs to the room now (room exists, uid in memberIds, member doc present and not
// banned):
//   - joined: the membership is created if missing (lastReadAt = the member doc's
//     joinedAt, notifications "all"; an existing one is never overwritten: it holds the
//     user's own pointers and settings) and so is the inbox entry; then the entry is
//     refreshed (counts, preview);
//   - not joined (left, banned, room deleted): the entry and the membership are deleted
//     (the badge, the sum of the entries, drops the entry's counts with it).
//
// It returns whether uid is joined. Join and leave can race (a member removed while the
// join is processed): after committing, Reconcile reads the room and member doc again
// and runs another round if the answer changed, so the last round always decided on
// data read after every earlier commit.
func (s *Store) Reconcile(ctx context.Context, uid, roomID string) (bool, error) {
	for round := 0; round < maxReconcileRounds; round++ {
		joined, err := s.reconcileOnce(ctx, uid, roomID)
		if err != nil {
			return false, err
		}
		if joined {
			if err := s.Refresh(ctx, uid, roomID, true); err != nil {
				return true, err
			}
		}
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{
			s.db.Doc(model.RoomPath(roomID)), s.db.Doc(model.MemberPath(roomID, uid)),
		})
		if err != nil {
			return joined, fmt.Errorf("re-check membership %s/%s: %w", uid, roomID, err)
		}
		still, _, _, err := isMember(snaps[0], snaps[1], uid)
		if err != nil {
			return joined, err
		}
		if still == joined {
			return joined, nil
		}
	}
	return false, fmt.Errorf("reconcile %s in %s: %w", uid, roomID, ErrUnsettled)
}

func (s *Store) reconcileOnce(ctx context.Context, uid, roomID string) (bool, error) {
	roomRef := s.db.Doc(model.RoomPath(roomID))
	memberRef := s.db.Doc(model.MemberPath(roomID, uid))
	msRef := s.db.Doc(model.MembershipPath(uid, roomID))
	entryRef := s.db.Doc(model.InboxEntryPath(uid, roomID))
	var joined bool
	err := s.commit(ctx, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{entryRef, msRef, roomRef, memberRef})
		if err != nil {
			return fmt.Errorf("read membership %s/%s: %w", uid, roomID, err)
		}
		entrySnap, msSnap, roomSnap, memberSnap := snaps[0], snaps[1], snaps[2], snaps[3]
		var room model.Room
		var member model.Member
		joined, room, member, err = isMember(roomSnap, memberSnap, uid)
		if err != nil {
			return err
		}
		if !joined {
			if entrySnap.Exists() {
				w.Delete(entrySnap)
			}
			if msSnap.Exists() {
				w.Delete(msSnap)
			}
			return nil
		}
		joinedAt := member.JoinedAt
		if joinedAt.IsZero() {
			joinedAt = memberSnap.CreateTime
		}
		joinedAt = joinedAt.UTC()
		if !msSnap.Exists() {
			w.Create(msRef, model.Membership{LastReadAt: joinedAt, Notifications: model.NotifyAll, RoomID: roomID})
		}
		if !entrySnap.Exists() {
			title, photo, err := s.titleOf(ctx, uid, room)
			if err != nil {
				return err
			}
			w.Create(entryRef, newEntry{InboxEntry: model.InboxEntry{
				RoomID:        roomID,
				Type:          room.Type,
				Title:         title,
				PhotoURL:      photo,
				LastMessage:   room.LastMessage,
				LastMessageAt: latest(joinedAt, room.LastMessageAt, room.LastMessage),
				UpdatedAt:     s.now(),
			}, CountedAfter: joinedAt})
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("reconcile %s in %s: %w", uid, roomID, err)
	}
	return joined, nil
}

// newEntry is a new inbox entry: no counts yet, relative to the join time (the
// membership's first lastReadAt).
type newEntry struct {
	model.InboxEntry
	CountedAfter time.Time `firestore:"countedAfter"`
}

// titleOf returns what uid's inbox shows as the room's title and photo: a group's own,
// or for a direct room the other user's displayName and photoURL.
func (s *Store) titleOf(ctx context.Context, uid string, room model.Room) (string, string, error) {
	if room.Type != model.RoomDirect {
		return room.Title, room.PhotoURL, nil
	}
	other := ""
	for _, id := range room.MemberIDs {
		if id != uid {
			other = id
		}
	}
	if other == "" {
		return "", "", nil
	}
	snap, err := s.db.Doc(model.UserPath(other)).Get(ctx)
	if err != nil && !firestoreerr.IsNotFound(err) {
		return "", "", fmt.Errorf("read user %s: %w", other, err)
	}
	if !snap.Exists() {
		return "", "", nil
	}
	var u model.User
	if err := snap.DataTo(&u); err != nil {
		return "", "", fmt.Errorf("decode user %s: %w", other, err)
	}
	return u.DisplayName, u.PhotoURL, nil
}

// SyncTitle brings the title and photo of uid's inbox entry for roomID up to date (a
// group renamed; the other user of a direct room renamed or changed photo). It does
// nothing without an entry.
func (s *Store) SyncTitle(ctx context.Context, uid, roomID string) error {
	entryRef := s.db.Doc(model.InboxEntryPath(uid, roomID))
	roomRef := s.db.Doc(model.RoomPath(roomID))
	err := s.commit(ctx, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{entryRef, roomRef})
		if err != nil {
			return fmt.Errorf("read inbox entry: %w", err)
		}
		if !snaps[0].Exists() || !snaps[1].Exists() {
			return nil
		}
		var room model.Room
		if err := snaps[1].DataTo(&room); err != nil {
			return fmt.Errorf("decode room %s: %w", roomID, err)
		}
		title, photo, err := s.titleOf(ctx, uid, room)
		if err != nil {
			return err
		}
		photoValue := any(photo)
		if photo == "" {
			photoValue = firestore.Delete
		}
		w.Update(snaps[0], []firestore.Update{ // always: see the package comment
			{Path: fTitle, Value: title},
			{Path: fPhotoURL, Value: photoValue},
			{Path: fUpdatedAt, Value: s.now()},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync title of %s/%s: %w", uid, roomID, err)
	}
	return nil
}

// SyncSenderName sets the room's lastMessage.senderName to uid's current displayName
// when uid sent the room's last message. It reports whether the room changed (then the
// members' entries need a Refresh to copy it).
func (s *Store) SyncSenderName(ctx context.Context, roomID, uid string) (bool, error) {
	roomRef := s.db.Doc(model.RoomPath(roomID))
	var changed bool
	err := s.commit(ctx, func(ctx context.Context, w *optimistic.Writes) error {
		changed = false
		snap, err := roomRef.Get(ctx)
		if firestoreerr.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read room %s: %w", roomID, err)
		}
		var room model.Room
		if err := snap.DataTo(&room); err != nil {
			return fmt.Errorf("decode room %s: %w", roomID, err)
		}
		if room.LastMessage == nil || room.LastMessage.SenderID != uid {
			return nil
		}
		name, err := s.displayName(ctx, uid)
		if err != nil || name == room.LastMessage.SenderName {
			return err
		}
		w.Update(snap, []firestore.Update{{Path: fLastMessage + ".senderName", Value: name}})
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sync sender name in %s: %w", roomID, err)
	}
	return changed, nil
}

// RoomsOf returns the ids of the rooms uid has a private membership of (the rooms their
// presence, receipts and name are mirrored into).
func (s *Store) RoomsOf(ctx context.Context, uid string) ([]string, error) {
	snaps, err := s.db.Collection(model.MembershipsCollectionPath(uid)).Select().Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list memberships of %s: %w", uid, err)
	}
	ids := make([]string, len(snaps))
	for i, snap := range snaps {
		ids[i] = snap.Ref.ID
	}
	return ids, nil
}
