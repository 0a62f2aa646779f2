package functions

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/roster"
)

// onPresenceWritten (presence/{uid}, written): on a transition between online and not
// online (offline, away, deleted) — never on a plain heartbeat — the user's online flag
// and lastSeen are mirrored into the member doc of every room they belong to
// (roster.Sync reads the current presence, so transitions arriving out of order end in
// the right state). Going offline without a lastSeen (the client said so itself), the
// presence gets lastSeen = its last heartbeat; the sweeper sets both itself.
func (p *Pipeline) onPresenceWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.PresencePattern, ev)
	if err != nil {
		return err
	}
	uid := ps["uid"]
	var before, after model.Presence
	if err := decodeChange(ev, "presence", &before, &after); err != nil {
		return err
	}
	was := ev.OldValue != nil && before.State == model.PresenceOnline
	is := ev.Value != nil && after.State == model.PresenceOnline
	if was == is {
		return nil // a heartbeat, activeRoomId, or our own lastSeen
	}
	if !is && ev.Value != nil && after.LastSeen.Before(after.HeartbeatAt) {
		_, err := p.db.Doc(model.PresencePath(uid)).Update(ctx,
			[]firestore.Update{{Path: "lastSeen", Value: after.HeartbeatAt.UTC()}},
			firestore.LastUpdateTime(ev.Value.GetUpdateTime().AsTime()))
		switch {
		case err == nil, status.Code(err) == codes.FailedPrecondition, firestoreerr.IsNotFound(err):
			// changed since: the event of that change takes over
		default:
			return fmt.Errorf("set lastSeen of %s: %w", uid, err)
		}
	}
	_, err = p.presences.Do(ctx, uid, struct{}{}, func(ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, p.mirrorPresence(ctx, uid)
	})
	return err
}

// mirrorPresence mirrors uid's current presence into their member doc of every room
// they are in. The rules limit a client to one state change per
// model.PresenceStateInterval, and the fan-outs of one user are coalesced with
// Config.FanoutWindow on top: a member doc is rewritten for one user's presence at
// most once per window, plus one. Rooms in large-room mode are skipped: their member
// docs carry no presence.
func (p *Pipeline) mirrorPresence(ctx context.Context, uid string) error {
	rooms, err := p.inbox.RoomsOf(ctx, uid)
	if err != nil {
		return err
	}
	return forEach(ctx, rooms, p.cfg.FanoutConcurrency, func(ctx context.Context, roomID string) error {
		// Large rooms show no presence (roster.Sync removes it there): skip them, at the
		// cost of reading the mode.
		large, err := roster.Large(ctx, p.db, roomID)
		if err != nil || large {
			return err
		}
		return p.roster.Sync(ctx, uid, roomID)
	})
}
