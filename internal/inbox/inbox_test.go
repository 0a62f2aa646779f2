package inbox

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestPreviewOf(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.FixedZone("x", 3600))
	long := strings.Repeat("é", model.MaxPreviewLen+10)
	for _, tc := range []struct {
		name string
		m    model.Message
		want string
	}{
		{"text", model.Message{SenderID: "a", Type: model.MessageText, Text: "hi", CreatedAt: at}, "hi"},
		{"cut", model.Message{SenderID: "a", Type: model.MessageText, Text: long, CreatedAt: at}, model.PreviewOf(long)},
		{"tombstone", model.Message{SenderID: "a", Type: model.MessageText, CreatedAt: at, DeletedAt: at, DeletedBy: "a"}, ""},
		{"image without caption", model.Message{SenderID: "a", Type: model.MessageImage, CreatedAt: at}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PreviewOf("m1", tc.m, "Ann")
			want := model.LastMessage{ID: "m1", SenderID: "a", SenderName: "Ann", Type: tc.m.Type, Preview: tc.want, SentAt: at.UTC()}
			if got != want {
				t.Errorf("PreviewOf() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestNewer(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, tc := range []struct {
		at    time.Time
		id    string
		curAt time.Time
		curID string
		want  bool
	}{
		{t0.Add(time.Microsecond), "a", t0, "z", true},
		{t0, "a", t0.Add(time.Microsecond), "z", false},
		{t0, "b", t0, "a", true},
		{t0, "a", t0, "b", false},
		{t0, "a", t0, "a", false},
	} {
		if got := newer(tc.at, tc.id, tc.curAt, tc.curID); got != tc.want {
			t.Errorf("newer(%v, %s, %v, %s) = %v, want %v", tc.at.UnixMicro(), tc.id, tc.curAt.UnixMicro(), tc.curID, got, tc.want)
		}
	}
}

func TestLatest(t *testing.T) {
	t0 := time.Unix(100, 0)
	lm := &model.LastMessage{SentAt: t0.Add(3 * time.Second)}
	for _, tc := range []struct {
		entry, room time.Time
		lm          *model.LastMessage
		want        time.Time
	}{
		{t0, t0.Add(time.Second), nil, t0.Add(time.Second)},
		{t0.Add(5 * time.Second), t0, lm, t0.Add(5 * time.Second)}, // never moves back
		{t0, t0, lm, t0.Add(3 * time.Second)},
	} {
		if got := latest(tc.entry, tc.room, tc.lm); !got.Equal(tc.want) {
			t.Errorf("latest(%v, %v, %v) = %v, want %v", tc.entry, tc.room, tc.lm, got, tc.want)
		}
	}
}

func TestMergeBatches(t *testing.T) {
	a := map[string]string{"m1": "alice", "m2": ""}
	got := mergeBatches(a, map[string]string{"m2": "bob", "m3": "carol", "m1": "zed"})
	want := map[string]string{"m1": "alice", "m2": "bob", "m3": "carol"}
	if len(got) != len(want) {
		t.Fatalf("mergeBatches() = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("mergeBatches()[%s] = %q, want %q", k, got[k], v)
		}
	}
	if len(a) != 2 {
		t.Errorf("mergeBatches modified its first argument: %v", a)
	}
}

func TestCounted(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		m    model.Message
		want bool
	}{
		{"someone else's text", model.Message{SenderID: "a", Type: model.MessageText, Text: "hi"}, true},
		{"someone else's image", model.Message{SenderID: "a", Type: model.MessageImage}, true},
		{"own", model.Message{SenderID: "bob", Type: model.MessageText, Text: "hi"}, false},
		{"system", model.Message{SenderID: "a", Type: model.MessageSystem, Text: "a created the group"}, false},
		{"system naming bob", model.Message{SenderID: "a", Type: model.MessageSystem, Text: "a added bob", Mentions: []string{"bob"}}, false},
		{"unknown type", model.Message{SenderID: "a", Type: "poll", Text: "?"}, false},
		{"deleted", model.Message{SenderID: "a", Type: model.MessageText, DeletedAt: at, DeletedBy: "a"}, false},
	} {
		if got := Counted(tc.m, "bob"); got != tc.want {
			t.Errorf("Counted(%s, bob) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
