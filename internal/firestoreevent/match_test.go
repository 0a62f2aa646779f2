package firestoreevent

import (
	"reflect"
	"testing"
)

func TestMatch(t *testing.T) {
	type params = map[string]string
	tests := []struct {
		pattern, document string
		want              params // nil: no match
	}{
		{"rooms/{roomId}/messages/{messageId}", "rooms/r1/messages/m1", params{"roomId": "r1", "messageId": "m1"}},
		{"rooms/{roomId}/messages/{messageId}", "/rooms/r1/messages/m1/", params{"roomId": "r1", "messageId": "m1"}},
		{"rooms/{roomId}/messages/{messageId}", "rooms/r1/members/m1", nil},
		{"rooms/{roomId}/messages/{messageId}", "rooms/r1/messages", nil},
		{"rooms/{roomId}/messages/{messageId}", "rooms/r1/messages/m1/reactions/x", nil},
		{"rooms/{roomId}/messages/{messageId}", "rooms//messages/m1", nil},
		{"rooms/{roomId=*}", "rooms/r1", params{"roomId": "r1"}},
		{"rooms/*/messages/{m}", "rooms/r1/messages/m1", params{"m": "m1"}},
		{"users/alice", "users/alice", params{}},
		{"users/alice", "users/bob", nil},
		{"{rest=**}", "e/1", params{"rest": "e/1"}},
		{"{rest=**}", "e/1/x/2", params{"rest": "e/1/x/2"}},
		{"{rest=**}", "", nil},
		{"e/{rest=**}", "e/1/x/2", params{"rest": "1/x/2"}},
		// The emulator fires "rooms/{r}/{rest=**}" for rooms/r1 itself: ** matches zero segments.
		{"rooms/{r}/{rest=**}", "rooms/r1", params{"r": "r1", "rest": ""}},
		{"rooms/{r}/{rest=**}", "rooms/r1/messages/m1", params{"r": "r1", "rest": "messages/m1"}},
		{"rooms/{r}/**", "rooms/r1/messages/m1", params{"r": "r1"}},
		{"rooms/{r}/{rest=**}", "rooms", nil},
		{"rooms/{r}/{rest=**}", "users/u1", nil},
		{"{rest=**}", "a//b", nil},
		// Malformed patterns match nothing.
		{"{rest=**}/messages/{m}", "rooms/r1/messages/m1", nil},
		{"rooms/{roomId", "rooms/r1", nil},
		{"rooms/{}", "rooms/r1", nil},
		{"rooms/{id=x}", "rooms/r1", nil},
		{"rooms/r{id}", "rooms/r1", nil},
		{"rooms//{id}", "rooms//r1", nil},
	}
	for _, tt := range tests {
		got, ok := Match(tt.pattern, tt.document)
		if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Match(%q, %q) = %v, %v, want %v, %v", tt.pattern, tt.document, got, ok, tt.want, tt.want != nil)
		}
	}
}
