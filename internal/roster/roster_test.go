package roster

import (
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestMirrored(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	read, delivered, hb := now.Add(-time.Hour), now.Add(-30*time.Minute), now.Add(-10*time.Second)
	off := false
	ms := model.Membership{LastReadAt: read, LastReadMessageID: "m9", LastDeliveredAt: delivered,
		Notifications: model.NotifyNone, MutedUntil: now.Add(time.Hour)}
	user := model.User{DisplayName: "Bob"}
	for _, tc := range []struct {
		name          string
		user          model.User
		ms            model.Membership
		hasMembership bool
		p             model.Presence
		hasPresence   bool
		want          map[string]any // nil value: the field is deleted
	}{
		{"receipts on, online", user, ms, true, model.Presence{State: model.PresenceOnline, HeartbeatAt: hb, ActiveRoomID: "secret"}, true,
			map[string]any{FieldDisplayName: "Bob", FieldReadAt: read, FieldReadMessageID: "m9", FieldDeliveredAt: delivered, FieldOnline: true}},
		{"receipts off", model.User{DisplayName: "Bob", Settings: model.UserSettings{ReadReceipts: &off}}, ms, true, model.Presence{}, false,
			map[string]any{FieldDisplayName: "Bob", FieldReadAt: nil, FieldReadMessageID: nil, FieldDeliveredAt: delivered, FieldOnline: false}},
		{"offline: lastSeen from the heartbeat", user, ms, true, model.Presence{State: model.PresenceOffline, HeartbeatAt: hb}, true,
			map[string]any{FieldDisplayName: "Bob", FieldReadAt: read, FieldReadMessageID: "m9", FieldDeliveredAt: delivered, FieldOnline: false, FieldLastSeen: hb}},
		{"away: not online, lastSeen from presence", user, ms, true, model.Presence{State: model.PresenceAway, HeartbeatAt: hb, LastSeen: hb.Add(-time.Second)}, true,
			map[string]any{FieldDisplayName: "Bob", FieldReadAt: read, FieldReadMessageID: "m9", FieldDeliveredAt: delivered, FieldOnline: false, FieldLastSeen: hb.Add(-time.Second)}},
		{"online but silent for OfflineAfter", user, ms, true, model.Presence{State: model.PresenceOnline, HeartbeatAt: now.Add(-model.OfflineAfter - time.Second)}, true,
			map[string]any{FieldDisplayName: "Bob", FieldReadAt: read, FieldReadMessageID: "m9", FieldDeliveredAt: delivered, FieldOnline: false, FieldLastSeen: now.Add(-model.OfflineAfter - time.Second)}},
		{"no membership, no profile", model.User{}, model.Membership{}, false, model.Presence{}, false,
			map[string]any{FieldReadAt: nil, FieldReadMessageID: nil, FieldDeliveredAt: nil, FieldOnline: false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]any{}
			for _, u := range Mirrored(tc.user, tc.ms, tc.hasMembership, tc.p, tc.hasPresence, now) {
				if _, dup := got[u.Path]; dup {
					t.Errorf("Mirrored() updates %s twice", u.Path)
				}
				if u.Value == firestore.Delete {
					got[u.Path] = nil
				} else {
					got[u.Path] = u.Value
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("Mirrored() = %v, want %v", got, tc.want)
			}
			for k, w := range tc.want {
				g, ok := got[k]
				if wt, isTime := w.(time.Time); isTime {
					gt, _ := g.(time.Time)
					ok = ok && gt.Equal(wt)
				} else {
					ok = ok && g == w
				}
				if !ok {
					t.Errorf("Mirrored()[%s] = %v, want %v", k, g, w)
				}
			}
			for k := range got {
				switch k {
				case FieldDisplayName, FieldReadAt, FieldReadMessageID, FieldDeliveredAt, FieldOnline, FieldLastSeen:
				default:
					t.Errorf("Mirrored() writes %s, which is not a public member field", k)
				}
			}
		})
	}
}
