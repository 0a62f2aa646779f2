package model

import (
	"testing"
	"time"
)

func TestValidateMembershipUpdate(t *testing.T) {
	now := t0
	prev := Membership{LastReadAt: now.Add(-time.Hour), LastReadMessageID: "m1", LastDeliveredAt: now.Add(-time.Hour), Notifications: NotifyAll}
	tests := []struct {
		name      string
		prev      Membership
		edit      func(*Membership)
		wantField string
	}{
		{"unchanged", prev, func(*Membership) {}, ""},
		{"read forward", prev, func(m *Membership) { m.LastReadAt = now.Add(-time.Minute); m.LastReadMessageID = "m9" }, ""},
		{"read up to now", prev, func(m *Membership) { m.LastReadAt = now }, ""},
		{"delivered forward", prev, func(m *Membership) { m.LastDeliveredAt = now }, ""},
		{"mentions", prev, func(m *Membership) { m.Notifications = NotifyMentions }, ""},
		{"none, muted", prev, func(m *Membership) { m.Notifications = NotifyNone; m.MutedUntil = now.Add(8 * time.Hour) }, ""},
		{"new membership", Membership{}, func(m *Membership) { *m = Membership{LastReadAt: now, Notifications: NotifyAll} }, ""},
		{"read backwards", prev, func(m *Membership) { m.LastReadAt = now.Add(-2 * time.Hour) }, "lastReadAt"},
		{"read future", prev, func(m *Membership) { m.LastReadAt = now.Add(time.Nanosecond) }, "lastReadAt"},
		{"read removed", prev, func(m *Membership) { m.LastReadAt = time.Time{} }, "lastReadAt"},
		{"delivered backwards", prev, func(m *Membership) { m.LastDeliveredAt = now.Add(-2 * time.Hour) }, "lastDeliveredAt"},
		{"delivered future", prev, func(m *Membership) { m.LastDeliveredAt = now.Add(time.Second) }, "lastDeliveredAt"},
		{"notifications empty", prev, func(m *Membership) { m.Notifications = "" }, "notifications"},
		{"notifications unknown", prev, func(m *Membership) { m.Notifications = "some" }, "notifications"},
		{"bad message id", prev, func(m *Membership) { m.LastReadMessageID = "a/b" }, "lastReadMessageId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := tt.prev
			tt.edit(&next)
			if err := ValidateMembershipUpdate(tt.prev, next, now); !wantFields(err, tt.wantField) {
				t.Errorf("ValidateMembershipUpdate(%+v, %+v) = %v, want error on %q", tt.prev, next, err, tt.wantField)
			}
		})
	}
}

func TestMembershipMuted(t *testing.T) {
	tests := []struct {
		until time.Time
		want  bool
	}{{time.Time{}, false}, {t0.Add(-time.Second), false}, {t0, false}, {t0.Add(time.Second), true}}
	for _, tt := range tests {
		if got := (Membership{MutedUntil: tt.until}).Muted(t0); got != tt.want {
			t.Errorf("Muted(until %v, now %v) = %v, want %v", tt.until, t0, got, tt.want)
		}
	}
}
