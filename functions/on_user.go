package functions

import (
	"context"
	"slices"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// onUserWritten (users/{uid}, written): the profile's denormalised copies follow.
//   - displayName: the user's member docs; the inbox title of the other member of each
//     of their direct rooms (photoURL too); the room's lastMessage.senderName (and the
//     members' previews) where the user sent the last message;
//   - settings.readReceipts: turned off, the receipts mirrored into the user's member docs
//     are removed; turned on, they are mirrored again (roster.Sync, which also updates the
//     copy in each membership, readReceipts: its event recounts a large room's read count).
//
// Everything is re-read from the current profile, so renames arriving out of order end
// with the latest name.
func (p *Pipeline) onUserWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.UserPattern, ev)
	if err != nil {
		return err
	}
	if ev.Value == nil {
		return nil // account erasure is the admin API's job
	}
	uid := ps["uid"]
	var before, after model.User
	if err := decodeChange(ev, "user", &before, &after); err != nil {
		return err
	}
	changed := ev.ChangedFields()
	c := profileChange{
		named:    slices.Contains(changed, "displayName") || slices.Contains(changed, "photoURL"),
		receipts: before.Settings.ReadReceiptsEnabled() != after.Settings.ReadReceiptsEnabled(),
	}
	if !c.named && !c.receipts {
		return nil
	}
	_, err = p.profiles.Do(ctx, uid, c, func(ctx context.Context, c profileChange) (struct{}, error) {
		return struct{}{}, p.syncProfile(ctx, uid, c)
	})
	return err
}

// profileChange is what a profile change asks the fan-out to carry: the name or photo,
// the read-receipt switch, or both (merged over a burst).
type profileChange struct{ named, receipts bool }

func (a profileChange) merge(b profileChange) profileChange {
	return profileChange{named: a.named || b.named, receipts: a.receipts || b.receipts}
}

// syncProfile carries uid's current profile into every room they are in. A user can
// change their profile at will (the rules limit renames to one per model.RenameInterval,
// photos and settings not at all), so the fan-outs of one user are coalesced with
// Config.FanoutWindow: a member doc, title or preview is rewritten for one user's
// profile at most once per window, plus one.
func (p *Pipeline) syncProfile(ctx context.Context, uid string, c profileChange) error {
	rooms, err := p.inbox.RoomsOf(ctx, uid)
	if err != nil {
		return err
	}
	return forEach(ctx, rooms, p.cfg.FanoutConcurrency, func(ctx context.Context, roomID string) error {
		if err := p.roster.Sync(ctx, uid, roomID); err != nil || !c.named {
			return err
		}
		return p.renameIn(ctx, uid, roomID)
	})
}

// renameIn carries uid's new name into roomID's inbox entries: the other member's title
// of a direct room, and the preview where uid sent the last message.
func (p *Pipeline) renameIn(ctx context.Context, uid, roomID string) error {
	room, ok, err := p.readRoom(ctx, roomID)
	if err != nil || !ok {
		return err
	}
	if room.Type == model.RoomDirect {
		for _, other := range room.MemberIDs {
			if other != uid {
				if err := p.inbox.SyncTitle(ctx, other, roomID); err != nil {
					return err
				}
			}
		}
	}
	changed, err := p.inbox.SyncSenderName(ctx, roomID, uid)
	if err != nil || !changed {
		return err
	}
	return forEach(ctx, room.MemberIDs, p.cfg.FanoutConcurrency, func(ctx context.Context, member string) error {
		return p.inbox.Refresh(ctx, member, roomID, false)
	})
}
