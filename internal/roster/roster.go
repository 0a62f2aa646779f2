// Package roster keeps the public member docs (rooms/{roomId}/members/{uid}) in step
// with what their user allows others to see: the display name, read receipts (only
// while settings.readReceipts is on), the delivery pointer, and online/lastSeen. It
// never copies anything else from the private membership or presence: which room a user
// is looking at (presence.activeRoomId), mutes and notification settings stay private.
//
// Sync re-reads every source, so it is correct under duplicate and reordered events;
// its concurrency argument is the inbox package's (guarded commit, always write).
package roster

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/coalesce"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// Fields of the member doc that Sync owns.
const (
	FieldDisplayName   = "displayName"
	FieldReadAt        = "readAt"
	FieldReadMessageID = "readMessageId"
	FieldDeliveredAt   = "deliveredAt"
	FieldOnline        = "online"
	FieldLastSeen      = "lastSeen"

	// Hearth-owned fields of the private membership.
	FieldRoomID       = "roomId"
	FieldReadReceipts = "readReceipts"
)

// LargeRoomCleared are the member-doc fields a large room does not carry.
var LargeRoomCleared = []string{FieldReadAt, FieldReadMessageID, FieldDeliveredAt, FieldOnline, FieldLastSeen}

// OwnedFields are the member-doc fields Sync writes. A member-doc change touching only
// these is Hearth's own mirror write, and the member trigger ignores it.
var OwnedFields = []string{FieldDisplayName, FieldReadAt, FieldReadMessageID, FieldDeliveredAt, FieldOnline, FieldLastSeen}

// Mirror writes member docs. Create it with New.
type Mirror struct {
	db    *firestore.Client
	clock clock.Clock
	syncs *coalesce.Group[struct{}, bool] // one Sync at a time per member doc (result: the room's mode)
}

// New returns a Mirror writing with the admin client db; clk decides when a presence
// without a recent heartbeat counts as offline.
func New(db *firestore.Client, clk clock.Clock) *Mirror {
	return &Mirror{db: db, clock: clk,
		syncs: coalesce.New[struct{}, bool](func(struct{}, struct{}) struct{} { return struct{}{} })}
}

// Sync mirrors uid's current name, receipts, delivery pointer and presence into their
// member doc of roomID; in a large room (model.Room.Large) the name only, and the other
// mirrored fields are removed. It also keeps the Hearth-owned fields of uid's membership
// (model.Membership.RoomID, ReadReceipts). It does nothing when the member doc is
// missing (left) or banned. Concurrent Syncs of one member doc in this process are
// coalesced.
func (m *Mirror) Sync(ctx context.Context, uid, roomID string) error {
	_, err := m.SyncMode(ctx, uid, roomID)
	return err
}

// SyncMode is Sync that also reports whether roomID is in large-room mode, as the sync
// read it, for a caller that needs the mode too (without a read of its own).
func (m *Mirror) SyncMode(ctx context.Context, uid, roomID string) (large bool, err error) {
	return m.syncs.Do(ctx, roomID+"/"+uid, struct{}{}, func(ctx context.Context, _ struct{}) (bool, error) {
		return m.sync(ctx, uid, roomID)
	})
}

func (m *Mirror) sync(ctx context.Context, uid, roomID string) (large bool, err error) {
	memberRef := m.db.Doc(model.MemberPath(roomID, uid))
	refs := []*firestore.DocumentRef{
		memberRef,
		m.db.Doc(model.UserPath(uid)),
		m.db.Doc(model.MembershipPath(uid, roomID)),
		m.db.Doc(model.PresencePath(uid)),
	}
	err = optimistic.Commit(ctx, m.db, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := m.db.GetAll(ctx, refs)
		if err != nil {
			return fmt.Errorf("read member %s/%s: %w", roomID, uid, err)
		}
		memberSnap, userSnap, msSnap, presenceSnap := snaps[0], snaps[1], snaps[2], snaps[3]
		// The mode is read after the documents written here: a switch to large sets
		// the room's mode before it syncs every member, so an attempt that read the
		// member doc before that sync's write fails its commit and runs again.
		if large, err = Large(ctx, m.db, roomID); err != nil {
			return err
		}
		if !memberSnap.Exists() {
			return nil
		}
		var member model.Member
		if err := memberSnap.DataTo(&member); err != nil {
			return fmt.Errorf("decode member %s/%s: %w", roomID, uid, err)
		}
		if member.Banned {
			return nil
		}
		var user model.User
		var ms model.Membership
		var p model.Presence
		for _, d := range []struct {
			snap *firestore.DocumentSnapshot
			dst  any
		}{{userSnap, &user}, {msSnap, &ms}, {presenceSnap, &p}} {
			if d.snap.Exists() {
				if err := d.snap.DataTo(d.dst); err != nil {
					return fmt.Errorf("decode %s: %w", d.snap.Ref.Path, err)
				}
			}
		}
		if msSnap.Exists() {
			w.Update(msSnap, membershipKeys(roomID, user, ms))
		}
		if large {
			w.Update(memberSnap, mirroredLarge(user, memberSnap))
			return nil
		}
		w.Update(memberSnap, Mirrored(user, ms, msSnap.Exists(), p, presenceSnap.Exists(), m.clock.Now()))
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sync member %s/%s: %w", roomID, uid, err)
	}
	return large, nil
}

// membershipKeys returns the updates that bring the Hearth-owned fields of uid's
// membership of roomID up to date (model.Membership.RoomID and ReadReceipts, the keys
// of a large room's read count), or none when they are.
func membershipKeys(roomID string, user model.User, ms model.Membership) []firestore.Update {
	var u []firestore.Update
	if ms.RoomID != roomID {
		u = append(u, firestore.Update{Path: FieldRoomID, Value: roomID})
	}
	if on := user.Settings.ReadReceiptsEnabled(); on != ms.ReadReceipts {
		v := any(true)
		if !on {
			v = firestore.Delete
		}
		u = append(u, firestore.Update{Path: FieldReadReceipts, Value: v})
	}
	return u
}

// mirroredLarge returns the member-doc updates of a large room, where the member doc
// carries the name only: receipts, delivery and presence are removed (the room's
// ReadCount stands for the receipts; presence is not fanned out). None when the doc is
// already so, since presence and pointer moves would otherwise rewrite it for nothing.
func mirroredLarge(user model.User, member *firestore.DocumentSnapshot) []firestore.Update {
	var u []firestore.Update
	if user.DisplayName != "" {
		if v, err := member.DataAt(FieldDisplayName); err != nil || v != user.DisplayName {
			u = append(u, firestore.Update{Path: FieldDisplayName, Value: user.DisplayName})
		}
	}
	for _, f := range LargeRoomCleared {
		if _, err := member.DataAt(f); err == nil {
			u = append(u, firestore.Update{Path: f, Value: firestore.Delete})
		}
	}
	return u
}

// Large reports whether roomID is in large-room mode now (model.Room.Large); a missing
// room is not. It reads that one field.
func Large(ctx context.Context, db *firestore.Client, roomID string) (bool, error) {
	room, err := roomFields(ctx, db, roomID, model.FieldLarge)
	if err != nil {
		return false, fmt.Errorf("read mode of room %s: %w", roomID, err)
	}
	return room.Large, nil
}

// roomFields reads only the named fields of roomID into a model.Room (a room lists up
// to model.MaxMembers uids, which these reads do not need); a missing room is the zero
// Room.
func roomFields(ctx context.Context, db *firestore.Client, roomID string, fields ...string) (model.Room, error) {
	var room model.Room
	snaps, err := db.Collection(model.RoomsCollection).Where(firestore.DocumentID, "==", db.Doc(model.RoomPath(roomID))).
		Select(fields...).Documents(ctx).GetAll()
	if err != nil || len(snaps) == 0 {
		return room, err
	}
	if err := snaps[0].DataTo(&room); err != nil {
		return room, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	return room, nil
}

// Mirrored returns the member-doc updates for a user, their membership (hasMembership
// false: none) and presence (hasPresence false: none) at now:
//   - displayName: the profile's, when it has one;
//   - readAt, readMessageId: the membership's read pointer if the user publishes read
//     receipts (settings.readReceipts, default on), removed otherwise;
//   - deliveredAt: the membership's delivery pointer (delivery is not private);
//   - online: presence state "online" with a heartbeat younger than model.OfflineAfter
//     ("away" counts as not online);
//   - lastSeen: when not online, presence.lastSeen, or else the last heartbeat; left as
//     it is while online.
func Mirrored(user model.User, ms model.Membership, hasMembership bool, p model.Presence, hasPresence bool, now time.Time) []firestore.Update {
	var u []firestore.Update
	if user.DisplayName != "" {
		u = append(u, firestore.Update{Path: FieldDisplayName, Value: user.DisplayName})
	}
	if hasMembership && user.Settings.ReadReceiptsEnabled() && !ms.LastReadAt.IsZero() {
		u = append(u, firestore.Update{Path: FieldReadAt, Value: ms.LastReadAt.UTC()})
		if ms.LastReadMessageID != "" {
			u = append(u, firestore.Update{Path: FieldReadMessageID, Value: ms.LastReadMessageID})
		} else {
			u = append(u, firestore.Update{Path: FieldReadMessageID, Value: firestore.Delete})
		}
	} else {
		u = append(u,
			firestore.Update{Path: FieldReadAt, Value: firestore.Delete},
			firestore.Update{Path: FieldReadMessageID, Value: firestore.Delete})
	}
	if hasMembership && !ms.LastDeliveredAt.IsZero() {
		u = append(u, firestore.Update{Path: FieldDeliveredAt, Value: ms.LastDeliveredAt.UTC()})
	} else {
		u = append(u, firestore.Update{Path: FieldDeliveredAt, Value: firestore.Delete})
	}
	online := Online(p, hasPresence, now)
	u = append(u, firestore.Update{Path: FieldOnline, Value: online})
	if !online && hasPresence {
		seen := p.LastSeen
		if seen.IsZero() {
			seen = p.HeartbeatAt
		}
		if !seen.IsZero() {
			u = append(u, firestore.Update{Path: FieldLastSeen, Value: seen.UTC()})
		}
	}
	return u
}

// Online reports whether a presence counts as online at now: state "online" and a
// heartbeat no older than model.OfflineAfter (the sweeper marks older ones offline;
// until it runs they already show offline).
func Online(p model.Presence, exists bool, now time.Time) bool {
	return exists && p.State == model.PresenceOnline && !p.Stale(now)
}
