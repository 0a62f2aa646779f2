package push

import (
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// Reasons a recipient gets no push. They label hearth_push_suppressed_total.
const (
	ReasonMuted         = "muted"          // mutedUntil in the future
	ReasonLevelNone     = "level_none"     // notifications: none
	ReasonMentionsOnly  = "mentions_only"  // notifications: mentions, not mentioned
	ReasonActiveInRoom  = "active_in_room" // online, viewing the room, fresh heartbeat
	ReasonRead          = "read"           // read the room past the newest queued message
	ReasonNoDevices     = "no_devices"     // no (live) device to send to
	ReasonNotMember     = "not_member"     // left the room before the digest went out
	ReasonDeleted       = "deleted"        // the only message was deleted meanwhile
	ReasonStaleEvent    = "stale_event"    // the event came MaxMessageAge after the message
	ReasonSystemMessage = "system_message" // Hearth's own "Ann added Bob" lines
	ReasonBlocked       = "blocked"        // the recipient blocks the sender
	ReasonMentionRate   = "mention_rate"   // the sender's mentions this minute are used up: notified as a plain message
)

// recipient is what the rules know about one candidate: the private membership (nil when
// the document does not exist yet, as between a join and the trigger that creates it,
// which reads as the defaults: notify all, never read) and presence (nil: offline).
type recipient struct {
	uid        string
	membership *model.Membership
	presence   *model.Presence
}

// suppressed returns why r gets no push for a message (or digest) in roomID at now, or
// "" when the push goes out. direct rooms address the recipient personally, so they
// count as a mention for the "mentions" level; mute and "none" silence them too.
func suppressed(now time.Time, roomID string, roomType model.RoomType, mentioned bool, r recipient) string {
	if m := r.membership; m != nil {
		switch {
		case m.Muted(now):
			return ReasonMuted
		case m.Notifications == model.NotifyNone:
			return ReasonLevelNone
		case m.Notifications == model.NotifyMentions && !mentioned && roomType != model.RoomDirect:
			return ReasonMentionsOnly
		}
	}
	if activeIn(now, r.presence, roomID) {
		return ReasonActiveInRoom
	}
	return ""
}

// activeIn reports whether p says the user has roomID on screen right now: online, that
// active room, and a heartbeat no older than model.OfflineAfter (an app killed without
// going offline must not swallow pushes until the sweeper runs).
func activeIn(now time.Time, p *model.Presence, roomID string) bool {
	return p != nil && p.State == model.PresenceOnline && p.ActiveRoomID == roomID && !p.Stale(now)
}

// readPast reports whether the membership's read pointer covers a message created at t.
func readPast(m *model.Membership, t time.Time) bool {
	return m != nil && !m.LastReadAt.IsZero() && !t.IsZero() && !m.LastReadAt.Before(t)
}

// MessageSuppressed returns why message msg pushes nobody at all, or "" when it may push
// (each recipient then passes suppressed): a deleted message; a system message, which is
// Hearth's note about the room ("Alice created the group"), of no type a client writes.
// It is the push side of the inbox's unread rule (inbox.Counted): what never counts as
// unread never pushes. The sender is never a recipient of their own message; a sender
// the recipient blocks is a per-recipient reason (ReasonBlocked, NotifyMessage).
func MessageSuppressed(msg model.Message) string {
	switch {
	case msg.Deleted():
		return ReasonDeleted
	case !msg.Type.ClientWritable():
		return ReasonSystemMessage
	}
	return ""
}
