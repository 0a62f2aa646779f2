package model

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestFirestoreFieldNames pins the stored field names: they are the contract
// with mobile clients and the rules (docs/data-model.md), so a rename must
// fail here first. It also checks that every field has a firestore tag, no
// json tag and no option other than omitempty.
func TestFirestoreFieldNames(t *testing.T) {
	tests := []struct {
		doc  any
		want string
	}{
		{User{}, "displayName photoURL settings createdAt displayNameChangedAt"},
		{UserSettings{}, "readReceipts notificationPreviews"},
		{Membership{}, "lastReadAt lastReadMessageId lastDeliveredAt notifications mutedUntil roomId readReceipts"},
		{Device{}, "token platform locale appVersion updatedAt"},
		{InboxEntry{}, "roomId type title photoURL lastMessage lastMessageAt unreadCount mentionCount muted updatedAt"},
		{LastMessage{}, "id senderId senderName type preview sentAt"},
		{Presence{}, "state heartbeatAt activeRoomId lastSeen stateChangedAt"},
		{Room{}, "type title photoURL createdBy createdAt memberIds memberCount lastMessage lastMessageAt messageCount archived large"},
		{Member{}, "role joinedAt displayName readAt readMessageId deliveredAt online lastSeen banned bannedAt bannedBy bannedByRank"},
		{Message{}, "senderId type text mentions replyTo replyPreview media createdAt editedAt deletedAt deletedBy reactionCounts replyCount lastReplyAt lastRepliers hidden"},
		{Reaction{}, "emoji updatedAt"},
		{ReactionMark{}, "uid emoji updatedAt"},
		{Tally{}, "unread mentioned senderId createdAt updatedAt expireAt"},
		{ThreadMute{}, "roomId messageId createdAt"},
		{Block{}, "createdAt"},
		{Report{}, "roomId messageId senderId text reasons reasonList count pending firstReportedAt lastReportedAt hidden status resolution"},
		{ReportResolution{}, "action by at note"},
		{Reporter{}, "reason note createdAt"},
		{Quota{}, "count ids expireAt"},
		{ReplyPreview{}, "id senderId senderName type text deleted"},
		{Media{}, "path contentType size width height durationMs thumbnailPath renditionPath status reason"},
		{Typing{}, "typing updatedAt"},
		{ReadCount{}, "messageId sentAt count updatedAt"},
		{PushQueueEntry{}, "uid roomId messageIds senderIds count mentioned firstAt lastAt dueAt leaseOwner leaseUntil attempts lastError mentionIds recentIds windowUntil nextDueAt leaseId leaseCount leaseNewestId updatedAt"},
		{AuditEntry{}, "at actorUid action target reason details requestId"},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.doc)
		t.Run(typ.Name(), func(t *testing.T) {
			var got []string
			for f := range typ.Fields() {
				tag, ok := f.Tag.Lookup("firestore")
				if !ok {
					t.Errorf("%s.%s has no firestore tag", typ.Name(), f.Name)
					continue
				}
				if _, ok := f.Tag.Lookup("json"); ok {
					t.Errorf("%s.%s has a json tag; API types live elsewhere", typ.Name(), f.Name)
				}
				name, opts, _ := strings.Cut(tag, ",")
				if opts != "" && opts != "omitempty" {
					t.Errorf("%s.%s tag options %q, want none or omitempty", typ.Name(), f.Name, opts)
				}
				got = append(got, name)
			}
			if want := strings.Fields(tt.want); !slices.Equal(got, want) {
				t.Errorf("%s fields = %v, want %v", typ.Name(), got, want)
			}
		})
	}
}
