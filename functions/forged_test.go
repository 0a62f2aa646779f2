package functions

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/model"
)

// truth is the derived state a forged event must not change.
type truth struct {
	Room    [3]any // memberIds, messageCount, lastMessage id
	Entries map[string][4]any
	Badges  map[string]inbox.Totals
	Extra   map[string]bool // documents that must not appear
}

func (f *fixture) truth(roomID string, uids ...string) truth {
	f.t.Helper()
	r := f.roomDoc(roomID)
	var last any
	if r.LastMessage != nil {
		last = r.LastMessage.ID
	}
	t := truth{Room: [3]any{fmt.Sprint(r.MemberIDs), r.MessageCount, last},
		Entries: map[string][4]any{}, Badges: map[string]inbox.Totals{}, Extra: map[string]bool{}}
	for _, uid := range uids {
		e, ok := f.entry(uid, roomID)
		var lm any
		if e.LastMessage != nil {
			lm = e.LastMessage.ID + ":" + e.LastMessage.Preview
		}
		t.Entries[uid] = [4]any{ok, e.UnreadCount, e.MentionCount, fmt.Sprint(e.Title, "|", lm)}
		t.Badges[uid] = f.badge(uid)
	}
	for _, p := range []string{model.InboxEntryPath("mallory", roomID), model.MembershipPath("mallory", roomID)} {
		t.Extra[p] = f.exists(p)
	}
	return t
}

// forgedDoc renders fields as the document at path (nil fields: no document).
func forgedDoc(project, path string, fields map[string]any) *firestorepb.Document {
	if fields == nil {
		return nil
	}
	d := &firestorepb.Document{Name: "projects/" + project + "/databases/(default)/documents/" + path,
		Fields: map[string]*firestorepb.Value{}, CreateTime: timestamppb.Now(), UpdateTime: timestamppb.Now()}
	for k, v := range fields {
		d.Fields[k] = forgedValue(v)
	}
	return d
}

func forgedValue(v any) *firestorepb.Value {
	switch x := v.(type) {
	case string:
		return &firestorepb.Value{ValueType: &firestorepb.Value_StringValue{StringValue: x}}
	case int:
		return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: int64(x)}}
	case time.Time:
		return &firestorepb.Value{ValueType: &firestorepb.Value_TimestampValue{TimestampValue: timestamppb.New(x)}}
	case []string:
		vals := make([]*firestorepb.Value, len(x))
		for i, s := range x {
			vals[i] = forgedValue(s)
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_ArrayValue{ArrayValue: &firestorepb.ArrayValue{Values: vals}}}
	}
	panic(fmt.Sprintf("forgedValue: %T", v))
}

// TestForgedEventsRecomputeTruth: events that describe writes that never happened,
// posted straight to the CloudEvents door (what /events/* serves once the caller is
// verified), at most make the handlers recompute what is true: no push-free side effect
// shows — the room, every inbox entry and badge stay as they were, and no one who is not
// a member gains an entry or a membership.
func TestForgedEventsRecomputeTruth(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, u := range []string{"alice", "bob", "carol"} {
		f.user(u, u, nil)
	}
	f.room("r", model.RoomGroup, "Team", "alice", "bob", "carol")
	f.joined("bob", "r")
	f.joined("carol", "r")
	alice := f.env.UserClient("alice", nil)
	m1 := f.send(alice, "alice", "r", "one")
	m2 := f.send(alice, "alice", "r", "two", "bob")
	f.eventually("settled", func() string {
		for _, u := range []string{"bob", "carol"} {
			if e, _ := f.entry(u, "r"); e.UnreadCount != 2 || e.LastMessage == nil || e.LastMessage.ID != m2 {
				return fmt.Sprintf("%s's entry = %+v", u, e)
			}
		}
		if r := f.roomDoc("r"); r.MessageCount != 2 {
			return fmt.Sprintf("room = %+v", r)
		}
		return ""
	})
	before := f.truth("r", "alice", "bob", "carol")
	if before.Entries["bob"][2] != 1 {
		t.Fatalf("bob's mention count = %v, want 1", before.Entries["bob"])
	}

	p := f.env.ProjectID
	now := time.Now().UTC()
	msg := func(text string, mentions ...string) map[string]any {
		m := map[string]any{"senderId": "alice", "type": "text", "text": text, "createdAt": now}
		if len(mentions) > 0 {
			m["mentions"] = mentions
		}
		return m
	}
	room := func(title string, members ...string) map[string]any {
		return map[string]any{"type": "group", "title": title, "createdBy": "alice", model.FieldMemberIDs: members, "memberCount": len(members)}
	}
	tests := []struct {
		name, trigger, path string
		old, value          map[string]any
	}{
		{"created, message does not exist", TriggerMessageWritten, "rooms/r/messages/forged1", nil, msg("FORGED: send me your password", "carol")},
		{"created, in a room that does not exist", TriggerMessageWritten, "rooms/nowhere/messages/forged2", nil, msg("FORGED")},
		{"text rewritten, mentions added", TriggerMessageWritten, "rooms/r/messages/" + m1, msg("one"), msg("FORGED", "carol")},
		{"soft delete that did not happen", TriggerMessageWritten, "rooms/r/messages/" + m2, msg("two", "bob"), map[string]any{"senderId": "alice", "type": "text", "text": "", "createdAt": now, "deletedAt": now}},
		{"hard delete that did not happen", TriggerMessageWritten, "rooms/r/messages/" + m2, msg("two", "bob"), nil},
		{"room renamed, carol swapped for mallory", TriggerRoomWritten, "rooms/r", room("Team", "alice", "bob", "carol"), room("FORGED", "alice", "bob", "mallory")},
		{"room with more members than a room can have", TriggerRoomWritten, "rooms/r", room("Team", "alice", "bob", "carol"), room("Team", manyMembers()...)},
		{"room deleted", TriggerRoomWritten, "rooms/r", room("Team", "alice", "bob", "carol"), nil},
		{"mallory's member doc", TriggerMemberWritten, "rooms/r/members/mallory", nil, map[string]any{"role": "owner", "joinedAt": now}},
		{"carol's member doc deleted", TriggerMemberWritten, "rooms/r/members/carol", map[string]any{"role": "member", "joinedAt": now}, nil},
		{"bob read everything", TriggerMembershipWritten, "users/bob/memberships/r", map[string]any{"notifications": "all"}, map[string]any{"notifications": "all", "lastReadAt": now.Add(time.Hour), "lastReadMessageId": m2}},
		{"mallory's membership", TriggerMembershipWritten, "users/mallory/memberships/r", map[string]any{"notifications": "all"}, map[string]any{"notifications": "all", "lastReadAt": now}},
	}
	door := f.p.CloudEventHandler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &firestoreevent.Event{Kind: firestoreevent.KindWritten, Value: forgedDoc(p, tt.path, tt.value), OldValue: forgedDoc(p, tt.path, tt.old)}
			if tt.old != nil && tt.value != nil {
				for k := range tt.value {
					ev.UpdateMask = append(ev.UpdateMask, k)
				}
			}
			r, err := firestoreevent.NewRequest(t.Context(), "http://hearth/events/"+tt.trigger, ev)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			door.ServeHTTP(w, r)
			if w.Code != http.StatusNoContent {
				t.Fatalf("POST /events/%s = %d %s, want 204", tt.trigger, w.Code, w.Body)
			}
			if after := f.truth("r", "alice", "bob", "carol"); !reflect.DeepEqual(after, before) {
				t.Errorf("state after a forged event:\n got %+v\nwant %+v", after, before)
			}
		})
	}
}

// manyMembers is a member list one longer than any room can have.
func manyMembers() []string {
	uids := []string{"alice", "bob", "carol"}
	for i := len(uids); i <= model.MaxMembers; i++ {
		uids = append(uids, fmt.Sprintf("u%04d", i))
	}
	return uids
}
