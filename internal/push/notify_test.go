package push

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestNotifyMessageRules runs every suppression rule through the message trigger against
// the emulator: bob is the recipient in each case, alice (the sender, with a device too)
// never gets her own message.
func TestNotifyMessageRules(t *testing.T) {
	type setup struct {
		membership *model.Membership
		presence   *model.Presence
	}
	tests := []struct {
		name       string
		direct     bool
		mention    bool
		setup      func(now time.Time) setup
		want       bool
		wantReason string
	}{
		{"no membership doc yet", false, false, func(time.Time) setup { return setup{} }, true, ""},
		{"notifications all", false, false, func(time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyAll}}
		}, true, ""},
		{"notifications none", false, false, func(time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyNone}}
		}, false, ReasonLevelNone},
		{"notifications none, direct room", true, false, func(time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyNone}}
		}, false, ReasonLevelNone},
		{"muted until tomorrow", false, false, func(now time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyAll, MutedUntil: now.Add(24 * time.Hour)}}
		}, false, ReasonMuted},
		{"muted, mentioned", false, true, func(now time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyAll, MutedUntil: now.Add(time.Hour)}}
		}, false, ReasonMuted},
		{"mute expired", false, false, func(now time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyAll, MutedUntil: now.Add(-time.Minute)}}
		}, true, ""},
		{"mentions only, not mentioned", false, false, func(time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyMentions}}
		}, false, ReasonMentionsOnly},
		{"mentions only, mentioned", false, true, func(time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyMentions}}
		}, true, ""},
		{"mentions only, direct room", true, false, func(time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyMentions}}
		}, true, ""},
		{"online in this room", false, false, func(now time.Time) setup {
			return setup{presence: &model.Presence{State: model.PresenceOnline, ActiveRoomID: "ROOM", HeartbeatAt: now.Add(-5 * time.Second)}}
		}, false, ReasonActiveInRoom},
		{"online in this room, direct", true, false, func(now time.Time) setup {
			return setup{presence: &model.Presence{State: model.PresenceOnline, ActiveRoomID: "ROOM", HeartbeatAt: now}}
		}, false, ReasonActiveInRoom},
		{"online in another room", false, false, func(now time.Time) setup {
			return setup{presence: &model.Presence{State: model.PresenceOnline, ActiveRoomID: "elsewhere", HeartbeatAt: now}}
		}, true, ""},
		{"away with this room open", false, false, func(now time.Time) setup {
			return setup{presence: &model.Presence{State: model.PresenceAway, ActiveRoomID: "ROOM", HeartbeatAt: now}}
		}, true, ""},
		{"online in this room, heartbeat stale", false, false, func(now time.Time) setup {
			return setup{presence: &model.Presence{State: model.PresenceOnline, ActiveRoomID: "ROOM", HeartbeatAt: now.Add(-2 * time.Minute)}}
		}, true, ""},
		{"already read past the message", false, false, func(now time.Time) setup {
			return setup{membership: &model.Membership{Notifications: model.NotifyAll, LastReadAt: now}}
		}, false, ReasonRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			roomID, typ, title := "team", model.RoomGroup, "Team"
			if tt.direct {
				roomID, typ, title = model.DirectRoomID("alice", "bob"), model.RoomDirect, ""
			}
			h.room(roomID, typ, title, "alice", "bob")
			h.device("alice", "a1", "tok-alice", model.PlatformAndroid, h.clock.Now())
			h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
			s := tt.setup(h.clock.Now())
			if s.membership != nil {
				h.membership("bob", roomID, *s.membership)
			}
			if p := s.presence; p != nil {
				if p.ActiveRoomID == "ROOM" {
					p.ActiveRoomID = roomID
				}
				h.set(model.PresencePath("bob"), *p)
			}
			n := h.notifier(Config{})
			var mentions []string
			if tt.mention {
				mentions = []string{"bob"}
			}
			h.say(n, roomID, "m1", "alice", "hello @bob", mentions...)

			got := tokens(h.fcm.Sent())
			want := []string{}
			if tt.want {
				want = []string{"tok-bob"}
			}
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("pushes after NotifyMessage(%s) = %q, want %q", tt.name, got, want)
			}
			if tt.wantReason != "" {
				if got := counter(n.m.suppressed, tt.wantReason); got != 1 {
					t.Errorf("suppressed{%s} = %v, want 1", tt.wantReason, got)
				}
			}
			if e := h.entry("bob", roomID); tt.want == (e == nil) {
				t.Errorf("queue entry after NotifyMessage(%s) = %+v, want one: %v", tt.name, e, tt.want)
			}
		})
	}
}

// TestDigest walks a busy group through its windows with a fake clock: the first message
// is pushed at once, the next ones become one digest when the window ends, a lone
// queued message is shown as itself, and after a quiet window the next message is
// immediate again.
func TestDigest(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	var logs bytes.Buffer
	n, err := New(Config{Window: 10 * time.Second, LogEachPush: true}, Deps{
		Firestore: h.db, Sender: h.client, Clock: h.clock, Registerer: h.reg,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.say(n, "team", "m1", "alice", "hi")
	sent := h.fcm.Sent()
	if len(sent) != 1 || sent[0].Body != "Alice: hi" || sent[0].Title != "Team" || sent[0].Data[DataMessageID] != "m1" {
		t.Fatalf("first message: pushes = %+v, want one \"Alice: hi\" for m1", sent)
	}
	for i, id := range []string{"m2", "m3", "m4", "m5"} {
		h.clock.Advance(time.Second)
		h.say(n, "team", id, "alice", "more "+id)
		if got := len(h.fcm.Sent()); got != 1 {
			t.Fatalf("after %d more messages in the window: %d pushes, want 1", i+1, got)
		}
	}
	if got := h.flush(n); got != 0 {
		t.Errorf("Flush() inside the window claimed %d, want 0", got)
	}
	if e := h.entry("bob", "team"); e == nil || e.Count != 4 || !slices.Equal(e.MessageIDs, []string{"m2", "m3", "m4", "m5"}) {
		t.Fatalf("queue entry = %+v, want 4 pending messages m2..m5", e)
	}

	h.clock.Advance(6 * time.Second) // t0+10s: the window ends
	if got := h.flush(n); got != 1 {
		t.Fatalf("Flush() at the window's end claimed %d, want 1", got)
	}
	sent = h.fcm.Sent()
	if len(sent) != 2 {
		t.Fatalf("after the window: %d pushes, want 2", len(sent))
	}
	d := sent[1]
	if d.Body != "4 new messages in Team" || d.Data[DataMessageID] != "m5" || d.Data[DataRoomID] != "team" || d.AndroidTag != "team" || d.AndroidCollapseKey != "team" {
		t.Errorf("digest = %+v, want \"4 new messages in Team\" linking m5, collapsed per room", d)
	}
	if got := counter(n.m.sent, KindDigest); got != 1 {
		t.Errorf("sent{digest} = %v, want 1", got)
	}

	// The digest opened a new window: a message in it waits for the window's end and,
	// alone, is shown as itself.
	h.clock.Advance(2 * time.Second)
	h.say(n, "team", "m6", "alice", "still there?")
	if got := len(h.fcm.Sent()); got != 2 {
		t.Fatalf("message in the digest's window: %d pushes, want 2", got)
	}
	h.clock.Advance(8 * time.Second)
	h.flush(n)
	sent = h.fcm.Sent()
	if len(sent) != 3 || sent[2].Body != "Alice: still there?" {
		t.Fatalf("lone queued message: pushes = %v, want a third \"Alice: still there?\"", sent)
	}
	// A quiet window later the next message goes out at once.
	h.clock.Advance(11 * time.Second)
	if got := h.flush(n); got != 0 {
		t.Errorf("Flush() with nothing pending claimed %d, want 0", got)
	}
	h.say(n, "team", "m7", "alice", "bye")
	sent = h.fcm.Sent()
	if len(sent) != 4 || sent[3].Body != "Alice: bye" {
		t.Fatalf("after a quiet window: pushes = %v, want a fourth \"Alice: bye\"", sent)
	}
	if !strings.Contains(logs.String(), "recipient=bob room=team kind=digest count=4 tokens=1") {
		t.Errorf("LogEachPush log lacks the digest line:\n%s", logs.String())
	}
}

// TestDigestDroppedAfterRead: a pending digest is dropped when bob reads the room, either
// by the membership trigger or, without it, by the flusher's check before sending.
func TestDigestDroppedAfterRead(t *testing.T) {
	for _, viaTrigger := range []bool{true, false} {
		name := "flusher check"
		if viaTrigger {
			name = "membership trigger"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.room("team", model.RoomGroup, "Team", "alice", "bob")
			h.device("bob", "b1", "tok-bob", model.PlatformIOS, h.clock.Now())
			n := h.notifier(Config{Window: 10 * time.Second})
			h.say(n, "team", "m1", "alice", "one")
			h.clock.Advance(time.Second)
			h.say(n, "team", "m2", "alice", "two")
			h.clock.Advance(time.Second)
			m3 := h.say(n, "team", "m3", "alice", "three")
			h.clock.Advance(time.Second)

			read := model.Membership{Notifications: model.NotifyAll, LastReadAt: m3.CreatedAt, LastReadMessageID: "m3"}
			h.membership("bob", "team", read)
			if viaTrigger {
				ev := event(h.env.ProjectID, firestoreevent.TypeWritten, model.MembershipPath("bob", "team"),
					map[string]any{"notifications": "all"},
					map[string]any{"notifications": "all", "lastReadAt": m3.CreatedAt, "lastReadMessageId": "m3"})
				if err := n.HandleMembershipWritten(h.ctx, ev); err != nil {
					t.Fatalf("HandleMembershipWritten() = %v", err)
				}
				if e := h.entry("bob", "team"); e == nil || e.Count != 0 || !e.DueAt.IsZero() || !e.WindowUntil.IsZero() {
					t.Errorf("entry after the read = %+v, want nothing pending and the window closed", e)
				}
			}
			h.clock.Advance(10 * time.Second)
			h.flush(n)
			if sent := h.fcm.Sent(); len(sent) != 1 {
				t.Errorf("pushes = %v, want only the first message's", tokens(sent))
			}
			if got := counter(n.m.suppressed, ReasonRead); got != 1 {
				t.Errorf("suppressed{read} = %v, want 1", got)
			}
			// Caught up: the next message is pushed at once.
			h.say(n, "team", "m4", "alice", "four")
			if sent := h.fcm.Sent(); len(sent) != 2 || sent[1].Body != "Alice: four" {
				t.Errorf("next message after reading: pushes = %v, want a second \"Alice: four\"", sent)
			}
		})
	}
}

// TestMembershipTrigger covers the other membership changes: mute and "none" drop the
// pending digest, leaving the room deletes the entry, a delivery-pointer move is ignored.
func TestMembershipTrigger(t *testing.T) {
	tests := []struct {
		name      string
		fields    map[string]any // nil: the membership was deleted
		wantEntry bool
		wantCount int
	}{
		{"muted", map[string]any{"notifications": "all", "mutedUntil": time.Now().Add(time.Hour)}, true, 0},
		{"none", map[string]any{"notifications": "none"}, true, 0},
		{"left the room", nil, false, 0},
		{"delivery pointer only", map[string]any{"notifications": "all", "lastDeliveredAt": time.Now()}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.clock.Set(time.Now().UTC().Truncate(time.Second))
			h.room("team", model.RoomGroup, "Team", "alice", "bob")
			h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
			n := h.notifier(Config{})
			h.say(n, "team", "m1", "alice", "one")
			h.say(n, "team", "m2", "alice", "two")
			ev := event(h.env.ProjectID, firestoreevent.TypeWritten, model.MembershipPath("bob", "team"),
				map[string]any{"notifications": "all"}, tt.fields)
			if err := n.HandleMembershipWritten(h.ctx, ev); err != nil {
				t.Fatalf("HandleMembershipWritten() = %v", err)
			}
			e := h.entry("bob", "team")
			if (e != nil) != tt.wantEntry || (e != nil && e.Count != tt.wantCount) {
				t.Errorf("entry after %s = %+v, want exists %v with %d pending", tt.name, e, tt.wantEntry, tt.wantCount)
			}
		})
	}
}

// TestMentionAndDirect: a mention goes out at once even inside a window (taking the
// pending digest with it), and every message of a direct room is pushed at once.
func TestMentionAndDirect(t *testing.T) {
	t.Run("mention in a busy group", func(t *testing.T) {
		h := newHarness(t)
		h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
		h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
		h.device("carol", "c1", "tok-carol", model.PlatformIOS, h.clock.Now())
		h.membership("carol", "team", model.Membership{Notifications: model.NotifyMentions})
		n := h.notifier(Config{Window: 10 * time.Second})

		h.say(n, "team", "m1", "alice", "morning")
		h.clock.Advance(time.Second)
		h.say(n, "team", "m2", "alice", "standup in 5")
		if got := tokens(h.fcm.Sent()); !slices.Equal(got, []string{"tok-bob"}) {
			t.Fatalf("before the mention: pushes = %q, want [tok-bob]", got)
		}
		h.clock.Advance(time.Second)
		h.say(n, "team", "m3", "carol", "@bob can you join?", "bob")
		h.say(n, "team", "m4", "bob", "@carol sure", "carol")
		sent := h.fcm.Sent()
		if len(sent) != 3 {
			t.Fatalf("after the mentions: %d pushes, want 3", len(sent))
		}
		toBob, toCarol := sent[1], sent[2]
		if toBob.Token != "tok-bob" || toBob.Body != "2 new messages in Team, Carol mentioned you" ||
			toBob.Data[DataMessageID] != "m3" || toBob.AndroidPriority != "high" || toBob.AndroidChannelID != DefaultAndroidChannelGroup {
			t.Errorf("mention push to bob = %+v, want the pending digest with the mention, high priority, linking m3", toBob)
		}
		if toCarol.Token != "tok-carol" || toCarol.Body != "Bob mentioned you: @carol sure" || toCarol.APNSThreadID != "team" ||
			toCarol.APNSCollapseID != "team" || !strings.Contains(string(toCarol.Message), `"apns-priority":"10"`) {
			t.Errorf("mention push to carol (mentions only) = %+v, want \"Bob mentioned you: @carol sure\", priority 10, thread team", toCarol)
		}
		h.clock.Advance(10 * time.Second)
		if got := h.flush(n); got != 0 {
			t.Errorf("Flush() after the mention took the digest: claimed %d, want 0", got)
		}
	})
	t.Run("direct room", func(t *testing.T) {
		h := newHarness(t)
		dm := model.DirectRoomID("alice", "bob")
		h.room(dm, model.RoomDirect, "", "alice", "bob")
		h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
		// The badge is the sum of unreadCount over bob's inbox entries (two rooms).
		h.set(model.InboxEntryPath("bob", dm), model.InboxEntry{UnreadCount: 3})
		h.set(model.InboxEntryPath("bob", "elsewhere"), model.InboxEntry{UnreadCount: 4})
		n := h.notifier(Config{Window: 10 * time.Second})
		for i, text := range []string{"lunch?", "12:30?", "at the usual place"} {
			h.clock.Advance(time.Second)
			h.say(n, dm, "d"+string(rune('1'+i)), "alice", text)
		}
		sent := h.fcm.Sent()
		if len(sent) != 3 {
			t.Fatalf("direct messages: %d pushes, want 3", len(sent))
		}
		for i, want := range []string{"lunch?", "12:30?", "at the usual place"} {
			s := sent[i]
			if s.Title != "Alice" || s.Body != want || s.AndroidPriority != "high" || s.AndroidChannelID != DefaultAndroidChannelDirect || s.AndroidTag != dm {
				t.Errorf("push %d = %+v, want \"Alice\" / %q, high priority on the direct channel", i, s, want)
			}
			if !strings.Contains(string(s.Message), `"notification_count":7`) {
				t.Errorf("push %d android block = %s, want notification_count 7 (the sum of bob's unreadCounts)", i, s.Message)
			}
		}
	})
}

// TestMessageWire checks the per-platform blocks, localisation keys, badge and preview
// switch as the fake FCM received them.
func TestMessageWire(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.user("bob", "Bob", false) // previews off
	h.device("bob", "ios", "tok-ios", model.PlatformIOS, h.clock.Now())
	h.device("bob", "and", "tok-android", model.PlatformAndroid, h.clock.Now())
	h.device("bob", "web", "tok-web", model.PlatformWeb, h.clock.Now())
	h.set(model.InboxEntryPath("bob", "team"), model.InboxEntry{UnreadCount: 3})
	n := h.notifier(Config{})
	h.say(n, "team", "m1", "alice", "the secret plan")
	byToken := map[string]fcmfake.Sent{}
	for _, s := range h.fcm.Sent() {
		byToken[s.Token] = s
	}
	if len(byToken) != 3 {
		t.Fatalf("pushes = %v, want one per device", byToken)
	}
	for tok, s := range byToken {
		if strings.Contains(string(s.Message), "secret") || s.Body != "Alice: New message" {
			t.Errorf("push to %s = %s, want no preview (notificationPreviews false)", tok, s.Message)
		}
		if s.Data[DataRoomID] != "team" || s.Data[DataMessageID] != "m1" {
			t.Errorf("push to %s data = %v, want roomId team, messageId m1", tok, s.Data)
		}
	}
	ios, android, web := byToken["tok-ios"], byToken["tok-android"], byToken["tok-web"]
	if ios.APNSBadge == nil || *ios.APNSBadge != 3 || ios.APNSThreadID != "team" || ios.APNSCollapseID != "team" ||
		!strings.Contains(string(ios.Message), `"loc-key":"`+KeyGroupHidden+`"`) ||
		!strings.Contains(string(ios.Message), `"title-loc-key":"`+KeyTitleGroup+`"`) ||
		!strings.Contains(string(ios.Message), `"loc-args":["Alice"]`) ||
		!strings.Contains(string(ios.Message), `"category":"`+DefaultAPNSCategory+`"`) ||
		strings.Contains(string(ios.Message), `"android"`) {
		t.Errorf("iOS push = %s, want badge 3, thread/collapse team, loc keys, category, no android block", ios.Message)
	}
	if android.AndroidChannelID != DefaultAndroidChannelGroup || android.AndroidPriority != "normal" ||
		!strings.Contains(string(android.Message), `"body_loc_key":"`+KeyGroupHidden+`"`) ||
		!strings.Contains(string(android.Message), `"title_loc_args":["Team"]`) ||
		strings.Contains(string(android.Message), `"apns"`) {
		t.Errorf("Android push = %s, want channel, normal priority, loc keys, no apns block", android.Message)
	}
	if !strings.Contains(string(web.Message), `"webpush"`) || !strings.Contains(string(web.Message), `"tag":"team"`) {
		t.Errorf("web push = %s, want a webpush block tagged team", web.Message)
	}
}

// TestBadgeFallback checks that the badge is asked for only for recipients being pushed,
// and that a badge that cannot be read does not cost the push: it goes without a badge
// number.
func TestBadgeFallback(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
	h.device("bob", "ios", "tok-ios", model.PlatformIOS, h.clock.Now())
	h.device("bob", "and", "tok-android", model.PlatformAndroid, h.clock.Now())
	// carol has no device: no push, so no badge to compute.
	n := h.notifier(Config{})
	badges := logBadges(n, 0, errors.New("aggregation unavailable"))
	h.say(n, "team", "m1", "alice", "hi")
	sent := h.fcm.Sent()
	if len(sent) != 2 {
		t.Fatalf("pushes = %d, want 2 (bob's devices, sent without a badge)", len(sent))
	}
	for _, s := range sent {
		if s.APNSBadge != nil || strings.Contains(string(s.Message), `"badge"`) || strings.Contains(string(s.Message), `"notification_count"`) {
			t.Errorf("push to %s = %s, want no badge number", s.Token, s.Message)
		}
	}
	if asked := badges.take(); !slices.Equal(asked, []string{"bob"}) {
		t.Errorf("badges asked for %v, want [bob] (once, and only for the recipient pushed)", asked)
	}
}

// badgeLog answers a notifier's badge lookups and records whom they were for.
type badgeLog struct {
	mu    sync.Mutex
	asked []string
}

// logBadges makes n's badge lookups answer badge, err and returns their log.
func logBadges(n *Notifier, badge int, err error) *badgeLog {
	l := &badgeLog{}
	n.badgeOf = func(ctx context.Context, uid string) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.asked = append(l.asked, uid)
		return badge, err
	}
	return l
}

// take returns the uids asked for since the last take.
func (l *badgeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	asked := l.asked
	l.asked = nil
	return asked
}

// TestBadgeOncePerFlush: a flush sending digests of two rooms to the same recipient,
// each to two devices, computes the recipient's badge once, and both digests carry it.
func TestBadgeOncePerFlush(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.room("club", model.RoomGroup, "Club", "alice", "bob")
	h.device("bob", "ios", "tok-ios", model.PlatformIOS, h.clock.Now())
	h.device("bob", "and", "tok-android", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{Window: 10 * time.Second})
	badges := logBadges(n, 5, nil)
	for _, room := range []string{"team", "club"} {
		h.say(n, room, room+"1", "alice", "first") // at once: opens the window
		h.clock.Advance(time.Second)
		h.say(n, room, room+"2", "alice", "second") // waits for the digest
	}
	badges.take() // the pushes sent at once
	h.clock.Advance(10 * time.Second)
	if got := h.flush(n); got != 2 {
		t.Fatalf("Flush() claimed %d, want 2 (a digest per room)", got)
	}
	sent := h.fcm.SentTo("tok-ios")
	if len(sent) != 4 || sent[2].APNSBadge == nil || *sent[2].APNSBadge != 5 || sent[3].APNSBadge == nil || *sent[3].APNSBadge != 5 {
		t.Fatalf("pushes to bob's iPhone = %+v, want 2 at once and 2 digests with badge 5", sent)
	}
	if asked := badges.take(); !slices.Equal(asked, []string{"bob"}) {
		t.Errorf("badges asked for in the flush: %v, want [bob] (once for two digests and four devices)", asked)
	}
}

// TestDuplicateEvents delivers the same message event several times, also concurrently,
// through the trigger handler: one push per device.
func TestDuplicateEvents(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		name := "sequential"
		if concurrent {
			name = "concurrent"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
			h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
			h.device("carol", "c1", "tok-carol", model.PlatformAndroid, h.clock.Now())
			n := h.notifier(Config{})
			m := h.message("team", "m1", "alice", "hi")
			ev := event(h.env.ProjectID, firestoreevent.TypeCreated, model.MessagePath("team", "m1"), nil, messageFields(m))
			handle := n.HandleMessageCreated
			var wg sync.WaitGroup
			for range 4 {
				run := func() {
					if err := handle(h.ctx, ev); err != nil {
						t.Errorf("Handle(duplicate) = %v", err)
					}
				}
				if concurrent {
					wg.Go(run)
				} else {
					run()
				}
			}
			wg.Wait()
			got := tokens(h.fcm.Sent())
			slices.Sort(got)
			if !slices.Equal(got, []string{"tok-bob", "tok-carol"}) {
				t.Errorf("pushes after 4 deliveries of one event = %q, want one each for bob and carol", got)
			}
			// A duplicate arriving after the window, when the message was long pushed.
			h.clock.Advance(time.Minute)
			h.flush(n)
			if err := handle(h.ctx, ev); err != nil {
				t.Fatal(err)
			}
			if got := len(h.fcm.Sent()); got != 2 {
				t.Errorf("pushes after a late duplicate = %d, want 2", got)
			}
		})
	}
}

// TestIgnoredMessages: system messages, deleted messages, stale events and empty events
// push nothing.
func TestIgnoredMessages(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{})
	now := h.clock.Now()
	msgs := map[string]model.Message{
		"system":  {SenderID: "alice", Type: model.MessageSystem, Text: "Alice added Bob", CreatedAt: now},
		"deleted": {SenderID: "alice", Type: model.MessageText, CreatedAt: now, DeletedAt: now, DeletedBy: "alice"},
		"stale":   {SenderID: "alice", Type: model.MessageText, Text: "old", CreatedAt: now.Add(-2 * time.Hour)},
	}
	for id, m := range msgs {
		if err := n.NotifyMessage(h.ctx, "team", id, m); err != nil {
			t.Errorf("NotifyMessage(%s) = %v", id, err)
		}
	}
	empty := &firestoreevent.Event{Meta: firestoreevent.Meta{Type: firestoreevent.TypeCreated, Document: "rooms/team/messages/x"}, Kind: firestoreevent.KindCreated}
	if err := n.HandleMessageCreated(h.ctx, empty); err != nil {
		t.Errorf("HandleMessageCreated(empty) = %v", err)
	}
	if sent := h.fcm.Sent(); len(sent) != 0 {
		t.Errorf("pushes = %v, want none", tokens(sent))
	}
}

// TestForgedMessageEvents: the message trigger acts on the message document it reads,
// not on the event. An event for a message that does not exist, was deleted, or whose
// sender, type or creation time differ from the stored document pushes nothing and
// queues nothing; an event whose text differs pushes the stored text.
func TestForgedMessageEvents(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{})
	handle := n.HandleMessageCreated
	now := h.clock.Now().UTC()
	forged := model.Message{SenderID: "alice", Type: model.MessageText, Text: "FORGED: send me your password", CreatedAt: now}

	real := h.message("team", "real", "alice", "hello")
	h.message("team", "deleted", "alice", "gone")
	if _, err := h.db.Doc(model.MessagePath("team", "deleted")).Update(h.ctx, []firestore.Update{
		{Path: "deletedAt", Value: now}, {Path: "deletedBy", Value: "alice"}, {Path: "text", Value: ""},
	}); err != nil {
		t.Fatal(err)
	}
	bobs := h.message("team", "bobs", "bob", "from bob")
	system := h.message("team", "sys", "alice", "Alice added Bob")
	if _, err := h.db.Doc(model.MessagePath("team", "sys")).Update(h.ctx, []firestore.Update{{Path: "type", Value: string(model.MessageSystem)}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id string
		claims   model.Message
	}{
		{"missing message", "forged1", forged},
		{"deleted message", "deleted", forged},
		{"other sender", "bobs", model.Message{SenderID: "alice", Type: model.MessageText, Text: bobs.Text, CreatedAt: bobs.CreatedAt}},
		{"system message claimed as text", "sys", model.Message{SenderID: "alice", Type: model.MessageText, Text: system.Text, CreatedAt: system.CreatedAt}},
		{"other creation time", "real", model.Message{SenderID: "alice", Type: model.MessageText, Text: real.Text, CreatedAt: real.CreatedAt.Add(time.Second)}},
		{"missing room", "m1", forged},
	}
	for _, tt := range tests {
		room := "team"
		if tt.name == "missing room" {
			room = "nowhere"
		}
		ev := event(h.env.ProjectID, firestoreevent.TypeCreated, model.MessagePath(room, tt.id), nil, messageFields(tt.claims))
		if err := handle(h.ctx, ev); err != nil {
			t.Errorf("%s: Handle() = %v", tt.name, err)
		}
		if sent := h.fcm.Sent(); len(sent) != 0 {
			t.Fatalf("%s: pushes = %q, want none", tt.name, sent[0].Body)
		}
		if e := h.entry("bob", room); e != nil {
			t.Fatalf("%s: bob's push queue entry = %+v, want none", tt.name, e)
		}
	}

	// The real message, with its text rewritten in the event: the push says what is stored.
	ev := event(h.env.ProjectID, firestoreevent.TypeCreated, model.MessagePath("team", "real"), nil,
		messageFields(model.Message{SenderID: "alice", Type: model.MessageText, Text: forged.Text, CreatedAt: real.CreatedAt}))
	if err := handle(h.ctx, ev); err != nil {
		t.Fatal(err)
	}
	sent := h.fcm.Sent()
	if len(sent) != 1 || sent[0].Token != "tok-bob" || !strings.Contains(sent[0].Body, "hello") || strings.Contains(sent[0].Body, "FORGED") {
		t.Errorf("pushes for the real message with forged text = %+v, want one to bob saying hello", sent)
	}
}
