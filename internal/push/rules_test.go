package push

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestSuppressed(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ms := func(level model.NotificationLevel, mutedUntil time.Time) *model.Membership {
		return &model.Membership{Notifications: level, MutedUntil: mutedUntil}
	}
	online := func(state model.PresenceState, room string, beat time.Duration) *model.Presence {
		return &model.Presence{State: state, ActiveRoomID: room, HeartbeatAt: now.Add(-beat)}
	}
	tests := []struct {
		name       string
		roomType   model.RoomType
		mentioned  bool
		membership *model.Membership
		presence   *model.Presence
		want       string
	}{
		{"no membership doc yet: defaults", model.RoomGroup, false, nil, nil, ""},
		{"all", model.RoomGroup, false, ms(model.NotifyAll, time.Time{}), nil, ""},
		{"none", model.RoomGroup, false, ms(model.NotifyNone, time.Time{}), nil, ReasonLevelNone},
		{"none, mentioned", model.RoomGroup, true, ms(model.NotifyNone, time.Time{}), nil, ReasonLevelNone},
		{"none, direct", model.RoomDirect, false, ms(model.NotifyNone, time.Time{}), nil, ReasonLevelNone},
		{"muted until later", model.RoomGroup, false, ms(model.NotifyAll, now.Add(time.Hour)), nil, ReasonMuted},
		{"muted, mentioned", model.RoomGroup, true, ms(model.NotifyAll, now.Add(time.Hour)), nil, ReasonMuted},
		{"mute expired", model.RoomGroup, false, ms(model.NotifyAll, now.Add(-time.Second)), nil, ""},
		{"mute ends now", model.RoomGroup, false, ms(model.NotifyAll, now), nil, ""},
		{"mentions, not mentioned", model.RoomGroup, false, ms(model.NotifyMentions, time.Time{}), nil, ReasonMentionsOnly},
		{"mentions, mentioned", model.RoomGroup, true, ms(model.NotifyMentions, time.Time{}), nil, ""},
		{"mentions, direct room", model.RoomDirect, false, ms(model.NotifyMentions, time.Time{}), nil, ""},
		{"online in this room", model.RoomGroup, false, nil, online(model.PresenceOnline, "r1", 10*time.Second), ReasonActiveInRoom},
		{"online in this room, mentioned", model.RoomGroup, true, nil, online(model.PresenceOnline, "r1", 0), ReasonActiveInRoom},
		{"online in another room", model.RoomGroup, false, nil, online(model.PresenceOnline, "r2", 0), ""},
		{"online, no room open", model.RoomGroup, false, nil, online(model.PresenceOnline, "", 0), ""},
		{"away in this room", model.RoomGroup, false, nil, online(model.PresenceAway, "r1", 0), ""},
		{"online in this room, heartbeat stale", model.RoomGroup, false, nil, online(model.PresenceOnline, "r1", model.OfflineAfter+time.Second), ""},
		{"online in this room, heartbeat at the limit", model.RoomGroup, false, nil, online(model.PresenceOnline, "r1", model.OfflineAfter), ReasonActiveInRoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recipient{uid: "bob", membership: tt.membership, presence: tt.presence}
			if got := suppressed(now, "r1", tt.roomType, tt.mentioned, r); got != tt.want {
				t.Errorf("suppressed(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestReadPast(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		m    *model.Membership
		at   time.Time
		want bool
	}{
		{"no membership", nil, t0, false},
		{"never read", &model.Membership{}, t0, false},
		{"read before", &model.Membership{LastReadAt: t0.Add(-time.Millisecond)}, t0, false},
		{"read exactly", &model.Membership{LastReadAt: t0}, t0, true},
		{"read after", &model.Membership{LastReadAt: t0.Add(time.Second)}, t0, true},
		{"unknown message time", &model.Membership{LastReadAt: t0}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readPast(tt.m, tt.at); got != tt.want {
				t.Errorf("readPast(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	text := func(s string) *model.Message { return &model.Message{Type: model.MessageText, Text: s} }
	image := &model.Message{Type: model.MessageImage}
	long := strings.Repeat("a", model.MaxPreviewLen+10)
	tests := []struct {
		name                  string
		c                     content
		wantTitle, wantBody   string
		wantTitleKey, wantKey string
		wantArgs              []string
	}{
		{"group text", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("hi"), SenderName: "Alice", Previews: true},
			"Team", "Alice: hi", KeyTitleGroup, KeyGroupText, []string{"Alice", "hi"}},
		{"group text, previews off", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("secret"), SenderName: "Alice"},
			"Team", "Alice: New message", KeyTitleGroup, KeyGroupHidden, []string{"Alice"}},
		{"group image", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: image, SenderName: "Alice", Previews: true},
			"Team", "Alice sent a photo", KeyTitleGroup, KeyGroupImage, []string{"Alice"}},
		{"group image, previews off", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: image, SenderName: "Alice"},
			"Team", "Alice: New message", KeyTitleGroup, KeyGroupHidden, []string{"Alice"}},
		{"group mention", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("@bob look"), SenderName: "Alice", Mentioned: true, Previews: true},
			"Team", "Alice mentioned you: @bob look", KeyTitleGroup, KeyGroupMention, []string{"Alice", "@bob look"}},
		{"group mention, previews off", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("@bob look"), SenderName: "Alice", Mentioned: true},
			"Team", "Alice mentioned you", KeyTitleGroup, KeyGroupMentionHidden, []string{"Alice"}},
		{"group digest", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 5, Message: text("x"), SenderName: "Alice", Previews: true},
			"Team", "5 new messages in Team", KeyTitleGroup, KeyGroupDigest, []string{"5", "Team"}},
		{"group digest, message gone", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 3},
			"Team", "3 new messages in Team", KeyTitleGroup, KeyGroupDigest, []string{"3", "Team"}},
		{"group digest with a mention", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 4, Message: text("@bob"), SenderName: "Carol", Mentioned: true, Previews: true},
			"Team", "4 new messages in Team, Carol mentioned you", KeyTitleGroup, KeyGroupDigestMention, []string{"4", "Team", "Carol"}},
		{"direct text", content{RoomType: model.RoomDirect, Count: 1, Message: text("lunch?"), SenderName: "Alice", Previews: true},
			"Alice", "lunch?", KeyTitleDirect, KeyDirectText, []string{"lunch?"}},
		{"direct, previews off", content{RoomType: model.RoomDirect, Count: 1, Message: text("lunch?"), SenderName: "Alice"},
			"Alice", "New message", KeyTitleDirect, KeyDirectHidden, nil},
		{"direct image", content{RoomType: model.RoomDirect, Count: 1, Message: image, SenderName: "Alice", Previews: true},
			"Alice", "Sent a photo", KeyTitleDirect, KeyDirectImage, nil},
		{"direct digest", content{RoomType: model.RoomDirect, Count: 2, Message: text("x"), SenderName: "Alice", Previews: true},
			"Alice", "2 new messages", KeyTitleDirect, KeyDirectDigest, []string{"2"}},
		{"long text is cut", content{RoomType: model.RoomDirect, Count: 1, Message: text(long), SenderName: "Alice", Previews: true},
			"Alice", model.PreviewOf(long), KeyTitleDirect, KeyDirectText, []string{model.PreviewOf(long)}},
		{"group reaction", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("lunch?"), SenderName: "Bob", Reaction: "👍", Previews: true},
			"Team", "Bob reacted 👍 to: lunch?", KeyTitleGroup, KeyGroupReaction, []string{"Bob", "👍", "lunch?"}},
		{"group reaction, previews off", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("lunch?"), SenderName: "Bob", Reaction: "👍"},
			"Team", "Bob reacted 👍 to your message", KeyTitleGroup, KeyGroupReactionHidden, []string{"Bob", "👍"}},
		{"direct reaction", content{RoomType: model.RoomDirect, Count: 1, Message: text("lunch?"), SenderName: "Bob", Reaction: "❤️", Previews: true},
			"Bob", "Reacted ❤️ to: lunch?", KeyTitleDirect, KeyDirectReaction, []string{"❤️", "lunch?"}},
		{"direct reaction, previews off", content{RoomType: model.RoomDirect, Count: 1, Message: text("lunch?"), SenderName: "Bob", Reaction: "❤️"},
			"Bob", "Reacted ❤️ to your message", KeyTitleDirect, KeyDirectReactionHidden, []string{"❤️"}},
		{"thread reply", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("agreed"), SenderName: "Bob", Reply: true, Mentioned: true, Previews: true},
			"Team", "Bob replied: agreed", KeyTitleGroup, KeyGroupReply, []string{"Bob", "agreed"}},
		{"thread reply, previews off", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, Message: text("agreed"), SenderName: "Bob", Reply: true, Mentioned: true},
			"Team", "Bob replied in your thread", KeyTitleGroup, KeyGroupReplyHidden, []string{"Bob"}},
		{"digest with a thread reply", content{RoomType: model.RoomGroup, RoomTitle: "Team", Count: 5, Message: text("agreed"), SenderName: "Bob", Reply: true, Mentioned: true, Previews: true},
			"Team", "5 new messages in Team, Bob replied in your thread", KeyTitleGroup, KeyGroupDigestReply, []string{"5", "Team", "Bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, body := tt.c.title(), tt.c.body()
			if title.English != tt.wantTitle || title.Key != tt.wantTitleKey {
				t.Errorf("title() = %q (%s), want %q (%s)", title.English, title.Key, tt.wantTitle, tt.wantTitleKey)
			}
			if body.English != tt.wantBody || body.Key != tt.wantKey || !slices.Equal(body.Args, tt.wantArgs) {
				t.Errorf("body() = %q (%s %q), want %q (%s %q)", body.English, body.Key, body.Args, tt.wantBody, tt.wantKey, tt.wantArgs)
			}
		})
	}
}

func TestStringsCoverKeys(t *testing.T) {
	keys := []string{KeyTitleGroup, KeyTitleDirect, KeyGroupText, KeyGroupHidden, KeyGroupImage, KeyGroupVideo,
		KeyGroupAudio, KeyGroupFile, KeyGroupMention, KeyGroupMentionHidden, KeyGroupDigest, KeyGroupDigestMention,
		KeyDirectText, KeyDirectHidden, KeyDirectImage, KeyDirectVideo, KeyDirectAudio, KeyDirectFile, KeyDirectDigest,
		KeyGroupReaction, KeyGroupReactionHidden, KeyDirectReaction, KeyDirectReactionHidden, KeyGroupReply, KeyGroupReplyHidden, KeyGroupDigestReply}
	for _, k := range keys {
		if Strings[k] == "" {
			t.Errorf("Strings[%q] = \"\", want an English default", k)
		}
	}
	if len(Strings) != len(keys) {
		t.Errorf("len(Strings) = %d, want %d", len(Strings), len(keys))
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		s    string
		args []string
		want string
	}{
		{"%1$s: %2$s", []string{"a", "b"}, "a: b"},
		{"%2$s then %1$s", []string{"a", "b"}, "b then a"},
		{"100% sure", nil, "100% sure"},
		{"%3$s missing", []string{"a"}, " missing"},
		{"no args", nil, "no args"},
		{"%1$s%", []string{"x"}, "x%"},
	}
	for _, tt := range tests {
		if got := format(tt.s, tt.args); got != tt.want {
			t.Errorf("format(%q, %q) = %q, want %q", tt.s, tt.args, got, tt.want)
		}
	}
}

func TestCollapseID(t *testing.T) {
	long := strings.Repeat("r", model.MaxIDLen)
	tests := []struct {
		in      string
		wantLen int
		same    bool
	}{
		{"team", 4, true},
		{model.DirectRoomID("alice", "bob"), len(model.DirectRoomID("alice", "bob")), true},
		{long, 42, false},
	}
	for _, tt := range tests {
		got := collapseID(tt.in)
		if len(got) != tt.wantLen || (got == tt.in) != tt.same || len(got) > 64 {
			t.Errorf("collapseID(%q) = %q, want %d bytes (same: %v)", tt.in, got, tt.wantLen, tt.same)
		}
	}
	if collapseID(long) != collapseID(long) {
		t.Errorf("collapseID is not stable")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatalf("withDefaults() = %v", err)
	}
	if c.Window != DefaultWindow || c.Lease != DefaultLease || c.TokenMaxAge != 270*24*time.Hour || c.MaxConcurrentBatches != DefaultMaxConcurrentBatches {
		t.Errorf("withDefaults() = %+v, want the defaults", c)
	}
	if c, _ := (Config{Window: -1}).withDefaults(); c.Window != 0 {
		t.Errorf("withDefaults(Window -1).Window = %s, want 0 (digests off)", c.Window)
	}
	bad := []Config{
		{Lease: -time.Second},
		{MaxRetries: -1},
		{RetryBase: time.Minute, RetryMax: time.Second},
		{Lease: 10 * time.Second}, // shorter than 3 retries of up to 15 s
	}
	for _, c := range bad {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("withDefaults(%+v) = nil error, want one", c)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 10 ", 10 * time.Second},
		{"0", 0},
		{"-5", 0},
		{now.Add(30 * time.Second).Format(httpTimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(httpTimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

const httpTimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestAppendCappedAndEarliest(t *testing.T) {
	s := []string{"a", "b", "c"}
	if got := appendCapped(s, "d", 3); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Errorf("appendCapped(%q, d, 3) = %q, want [b c d]", s, got)
	}
	t0 := time.Unix(100, 0)
	t1 := time.Unix(200, 0)
	for _, tt := range []struct{ a, b, want time.Time }{
		{time.Time{}, t1, t1}, {t0, time.Time{}, t0}, {t0, t1, t0}, {t1, t0, t0},
	} {
		if got := earliest(tt.a, tt.b); !got.Equal(tt.want) {
			t.Errorf("earliest(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
