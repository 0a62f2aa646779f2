package model

import "time"

// AuditEntry is auditLog/{id} (an auto id): one admin action. Only Hearth
// writes it, once, and never changes it.
type AuditEntry struct {
	At time.Time `firestore:"at"`
	// ActorUID is the admin who acted.
	ActorUID string `firestore:"actorUid"`
	// Action names what was done, e.g. "user.disable", "message.redact",
	// "member.ban"; the admin package defines the set.
	Action string `firestore:"action"`
	// Target is the path of the document or object acted on.
	Target string `firestore:"target"`
	// Reason is the admin's free-text justification, when given.
	Reason string `firestore:"reason,omitempty"`
	// Details holds action-specific values (old and new role, claims ...).
	Details   map[string]string `firestore:"details,omitempty"`
	RequestID string            `firestore:"requestId,omitempty"`
}
