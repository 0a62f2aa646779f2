package rules

import (
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/revocation"
)

// revocationCases attack the revocation markers (notRevoked): Hearth has
// ended the sessions of bob (tokens revoked), carol (disabled), erin
// (erased) and root2 (an admin demoted: claims changed). A token whose
// session began (auth_time) no later than the marker is refused on every
// path, reads and writes alike; a token of a session begun after it works.
func revocationCases() []ruleCase {
	markedAt := time.Now().Add(-10 * time.Minute).Truncate(time.Second).Add(400 * time.Millisecond)
	marker := func(uid string, reason revocation.Reason) setupFunc {
		return put(revocation.Path(uid), map[string]any{"revokedAt": markedAt, "reason": string(reason)})
	}
	// session returns token claims of a session that began at t.
	session := func(t time.Time, extra ...any) map[string]any {
		c := map[string]any{"auth_time": t.Unix()}
		for i := 0; i < len(extra); i += 2 {
			c[extra[i].(string)] = extra[i+1]
		}
		return c
	}
	before := session(markedAt.Add(-30 * time.Minute))
	sameSecond := session(markedAt.Truncate(time.Second)) // began in the marker's second, maybe before it
	after := session(markedAt.Truncate(time.Second).Add(time.Second))
	newMsg := msgPaths("v")
	msgs := coll(model.MessagesCollectionPath(roomR1))
	return []ruleCase{
		// Tokens revoked (POST /admin/v1/users/{uid}/revoke-tokens).
		{name: "revoked: old token reads the room's messages", as: "bob", claims: before,
			setup: marker("bob", revocation.ReasonRevoke), op: query(msgs)},
		{name: "revoked: old token reads a profile", as: "bob", claims: before, op: get("users/alice")},
		{name: "revoked: old token reads own inbox", as: "bob", claims: before, op: query(coll("users/bob/inbox"))},
		{name: "revoked: old token posts", as: "bob", claims: before, op: set(newMsg(roomR1), textMsg("bob", "still here"))},
		{name: "revoked: old token edits own profile", as: "bob", claims: before,
			op: update("users/bob", up("displayName", "Bobby"))},
		{name: "revoked: token of a session begun in the marker's second", as: "bob", claims: sameSecond, op: query(msgs)},
		{name: "revoked: token without auth_time", as: "bob", claims: map[string]any{"auth_time": nil}, op: query(msgs)},
		{name: "revoked: new session reads the room's messages", as: "bob", claims: after, op: query(msgs), allow: true},
		{name: "revoked: new session posts", as: "bob", claims: after, op: set(newMsg(roomR1), textMsg("bob", "back")), allow: true},
		// Disabled (POST /admin/v1/users/{uid}/disable).
		{name: "disabled: old token reads the room", as: "carol", claims: before,
			setup: marker("carol", revocation.ReasonDisable), op: get(model.RoomPath(roomR2))},
		{name: "disabled: old token writes presence", as: "carol", claims: before, op: set("presence/carol", presence("online"))},
		{name: "disabled: new session reads the room", as: "carol", claims: after, op: get(model.RoomPath(roomR2)), allow: true},
		// Erased (DELETE /admin/v1/users/{uid}): the uid's tokens outlive the account.
		{name: "erased: old token reads a profile", as: "erin", claims: before,
			setup: marker("erin", revocation.ReasonErase), op: get("users/alice")},
		{name: "erased: old token creates a profile", as: "erin", claims: before,
			op: set("users/erin", map[string]any{"displayName": "Erin", "createdAt": firestore.ServerTimestamp})},
		// Demoted (PUT /admin/v1/users/{uid}/claims {}): the old token still
		// says admin: true.
		{name: "demoted: old admin token reads the audit log", as: "root2", claims: session(markedAt.Add(-30*time.Minute), "admin", true),
			setup: marker("root2", revocation.ReasonClaims), op: query(coll("auditLog"))},
		{name: "demoted: old admin token lists users", as: "root2", claims: session(markedAt.Add(-30*time.Minute), "admin", true), op: query(coll("users"))},
		{name: "demoted: new session without the claim reads the audit log", as: "root2", claims: after, op: query(coll("auditLog"))},
		{name: "re-granted: new session with the claim reads the audit log", as: "root2",
			claims: session(markedAt.Truncate(time.Second).Add(time.Second), "admin", true), op: query(coll("auditLog")), allow: true},
		// The markers themselves are Hearth's.
		{name: "reads own revocation marker", as: "bob", claims: after, op: get(revocation.Path("bob"))},
		{name: "lists revocation markers", as: "alice", op: query(coll(model.RevocationsCollection))},
		{name: "deletes own revocation marker", as: "bob", claims: after, op: del(revocation.Path("bob"))},
		{name: "revoked user deletes own marker", as: "bob", claims: before, op: del(revocation.Path("bob"))},
		{name: "moves own marker into the past", as: "bob", claims: after,
			op: set(revocation.Path("bob"), map[string]any{"revokedAt": markedAt.Add(-time.Hour)})},
		{name: "creates a marker for someone else", as: "alice", op: set(revocation.Path("dave"), map[string]any{"revokedAt": time.Now()})},
		{name: "admin writes a marker", as: "root", admin: true, op: set(revocation.Path("dave"), map[string]any{"revokedAt": time.Now()})},
		{name: "admin reads a marker", as: "root", admin: true, op: get(revocation.Path("bob")), allow: true},
		// A marker of one user does not touch another's token.
		{name: "unrevoked user reads the room's messages", as: "alice", op: query(msgs), allow: true},
	}
}
