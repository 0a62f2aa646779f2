package model

import "time"

// PresenceState is what a client says about itself.
type PresenceState string

// The presence states.
const (
	PresenceOnline  PresenceState = "online"
	PresenceAway    PresenceState = "away"
	PresenceOffline PresenceState = "offline"
)

// Valid reports whether s is one of the defined states.
func (s PresenceState) Valid() bool {
	switch s {
	case PresenceOnline, PresenceAway, PresenceOffline:
		return true
	}
	return false
}

// PresenceStates returns every PresenceState.
func PresenceStates() []PresenceState {
	return []PresenceState{PresenceOnline, PresenceAway, PresenceOffline}
}

// Presence is presence/{uid}. Only the owner reads and writes it (State,
// HeartbeatAt, ActiveRoomID); others see online/lastSeen only through the
// member docs of rooms they share, so which room one is viewing stays
// private. A client writes it every HeartbeatInterval while in foreground;
// the sweeper marks it offline OfflineAfter the last heartbeat.
type Presence struct {
	State PresenceState `firestore:"state"`
	// HeartbeatAt equals request.time (serverTimestamp()).
	HeartbeatAt time.Time `firestore:"heartbeatAt"`
	// ActiveRoomID is the room on screen; no push is sent for it.
	ActiveRoomID string `firestore:"activeRoomId,omitempty"`
	// LastSeen is written by Hearth when the user goes offline.
	LastSeen time.Time `firestore:"lastSeen,omitempty"`
	// StateChangedAt equals request.time of the last client write that changed
	// State (clients write serverTimestamp() with every state change, not with
	// heartbeats). A state change must come PresenceStateInterval after it.
	StateChangedAt time.Time `firestore:"stateChangedAt,omitempty"`
}

// Stale reports whether the last heartbeat is older than OfflineAfter at now,
// so the sweeper should mark the user offline.
func (p Presence) Stale(now time.Time) bool {
	return p.State != PresenceOffline && now.Sub(p.HeartbeatAt) > OfflineAfter
}

// ValidatePresence checks the client-written fields of presence/{uid}: a
// valid state and, when set, a valid activeRoomId.
func ValidatePresence(p Presence) error {
	var c checker
	if !p.State.Valid() {
		c.add("state", "must be one of %q", PresenceStates())
	}
	if p.ActiveRoomID != "" {
		if reason := roomIDProblem(p.ActiveRoomID); reason != "" {
			c.add("activeRoomId", "%s", reason)
		}
	}
	return c.err()
}
