package model

import (
	"testing"
	"time"
)

func TestValidatePresence(t *testing.T) {
	tests := []struct {
		name      string
		in        Presence
		wantField string
	}{
		{"online in room", Presence{State: PresenceOnline, HeartbeatAt: t0, ActiveRoomID: "room1"}, ""},
		{"away", Presence{State: PresenceAway, HeartbeatAt: t0}, ""},
		{"offline", Presence{State: PresenceOffline, HeartbeatAt: t0, LastSeen: t0}, ""},
		{"no state", Presence{HeartbeatAt: t0}, "state"},
		{"unknown state", Presence{State: "busy"}, "state"},
		{"bad room", Presence{State: PresenceOnline, ActiveRoomID: "r_1"}, "activeRoomId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidatePresence(tt.in); !wantFields(err, tt.wantField) {
				t.Errorf("ValidatePresence(%+v) = %v, want error on %q", tt.in, err, tt.wantField)
			}
		})
	}
}

func TestPresenceStale(t *testing.T) {
	tests := []struct {
		state PresenceState
		age   time.Duration
		want  bool
	}{
		{PresenceOnline, HeartbeatInterval, false},
		{PresenceOnline, OfflineAfter, false},
		{PresenceOnline, OfflineAfter + time.Millisecond, true},
		{PresenceAway, OfflineAfter + time.Millisecond, true},
		{PresenceOffline, time.Hour, false},
	}
	for _, tt := range tests {
		p := Presence{State: tt.state, HeartbeatAt: t0.Add(-tt.age)}
		if got := p.Stale(t0); got != tt.want {
			t.Errorf("Presence{%s, %v ago}.Stale() = %v, want %v", tt.state, tt.age, got, tt.want)
		}
	}
}

func TestTypingActive(t *testing.T) {
	tests := []struct {
		typing bool
		age    time.Duration
		want   bool
	}{
		{true, 0, true},
		{true, TypingStaleAfter, true},
		{true, TypingStaleAfter + time.Millisecond, false},
		{false, 0, false},
	}
	for _, tt := range tests {
		ty := Typing{Typing: tt.typing, UpdatedAt: t0.Add(-tt.age)}
		if got := ty.Active(t0); got != tt.want {
			t.Errorf("Typing{%v, %v ago}.Active() = %v, want %v", tt.typing, tt.age, got, tt.want)
		}
	}
}

func TestPushQueueEntryLeased(t *testing.T) {
	tests := []struct {
		owner string
		until time.Time
		want  bool
	}{
		{"", time.Time{}, false},
		{"i1", t0.Add(time.Second), true},
		{"i1", t0, false},
		{"", t0.Add(time.Second), false},
	}
	for _, tt := range tests {
		e := PushQueueEntry{LeaseOwner: tt.owner, LeaseUntil: tt.until}
		if got := e.Leased(t0); got != tt.want {
			t.Errorf("PushQueueEntry{%q, %v}.Leased(%v) = %v, want %v", tt.owner, tt.until, t0, got, tt.want)
		}
	}
}
