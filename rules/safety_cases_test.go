package rules

import (
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// safetyCases attack blocks (users/{uid}/blocks/{otherUid}: private, owner
// written, refusing the blocked user's messages in the direct room), the
// hidden flag of reported messages (Hearth's alone) and the backend-only
// report and quota collections. The cases run in order in one project: each
// setup puts the state its case needs.
func safetyCases() []ruleCase {
	newMsg := msgPaths("s")
	block := func(uid, other string) string { return model.BlockPath(uid, other) }
	blockDoc := map[string]any{"createdAt": firestore.ServerTimestamp}
	blocked := put(block("alice", "bob"), model.Block{CreatedAt: t0})
	// A direct room whose other member left: memberIds holds bob alone.
	roomLeft := model.DirectRoomID("bob", "carol")
	leftRoom := put(model.RoomPath(roomLeft), model.Room{Type: model.RoomDirect, CreatedBy: "carol", CreatedAt: t0,
		MemberIDs: []string{"bob"}, MemberCount: 1, LastMessageAt: t0})
	hiddenMsg := model.MessagePath(roomR1, "m-hidden")
	hidden := put(hiddenMsg, map[string]any{"senderId": "bob", "type": "text", "text": "reported", "createdAt": t0, "hidden": true})
	return []ruleCase{
		// ---- Writing blocks: only one's own, only {createdAt: request.time}.
		{name: "blocks a user", as: "alice", op: set(block("alice", "carol"), blockDoc), allow: true},
		{name: "blocks with a client time", as: "alice", op: set(block("alice", "dave"), map[string]any{"createdAt": time.Now()})},
		{name: "blocks with an extra field", as: "alice", op: set(block("alice", "dave"), with(blockDoc, "reason", "rude"))},
		{name: "blocks without createdAt", as: "alice", op: set(block("alice", "dave"), map[string]any{})},
		{name: "blocks self", as: "alice", op: set(block("alice", "alice"), blockDoc)},
		{name: "blocks an id that is no uid", as: "alice", op: set(block("alice", "bad.id"), blockDoc)},
		{name: "writes a block for someone else", as: "bob", op: set(block("alice", "dave"), blockDoc)},
		{name: "unauthenticated blocks", op: set(block("alice", "dave"), blockDoc)},
		{name: "changes a block", as: "alice", op: update(block("alice", "carol"), up("createdAt", firestore.ServerTimestamp))},
		{name: "blocks again over an existing block", as: "alice", op: set(block("alice", "carol"), blockDoc)},
		// ---- Reading blocks: the blocker only; the blocked user learns nothing.
		{name: "reads own block", as: "alice", op: get(block("alice", "carol")), allow: true},
		{name: "lists own blocks", as: "alice", op: query(coll(model.BlocksCollectionPath("alice"))), allow: true},
		{name: "blocked user reads the block", as: "carol", op: get(block("alice", "carol"))},
		{name: "blocked user probes a block that does not exist", as: "bob", op: get(block("alice", "bob"))},
		{name: "blocked user lists the blocker's blocks", as: "carol", op: query(coll(model.BlocksCollectionPath("alice")))},
		{name: "collection group of blocks", as: "carol", op: query(group(model.BlocksCollection))},
		{name: "admin reads a block", as: "root", admin: true, op: get(block("alice", "carol")), allow: true},
		// ---- The blockers index is Hearth's: nobody learns who blocks whom from it.
		{name: "blocked user reads who blocks them", as: "carol",
			setup: put(model.BlockersPath("carol"), model.Blockers{By: []string{"alice"}, UpdatedAt: t0}), op: get(model.BlockersPath("carol"))},
		{name: "blocker reads the index of the user they block", as: "alice", op: get(model.BlockersPath("carol"))},
		{name: "reads the index of someone nobody blocks", as: "alice", op: get(model.BlockersPath("dave"))},
		{name: "lists the blockers indexes", as: "alice", op: query(coll(model.BlockersCollection))},
		{name: "blocked user empties their index", as: "carol", op: set(model.BlockersPath("carol"), map[string]any{"by": []any{}, "updatedAt": t0})},
		{name: "blocked user drops a blocker from their index", as: "carol", op: update(model.BlockersPath("carol"), up("by", []any{}))},
		{name: "blocks someone through their index", as: "alice", op: set(model.BlockersPath("dave"), map[string]any{"by": []any{"alice"}})},
		{name: "deletes an index", as: "carol", op: del(model.BlockersPath("carol"))},
		{name: "admin reads a blockers index", as: "root", admin: true, op: get(model.BlockersPath("carol")), allow: true},
		// ---- Lifting blocks.
		{name: "someone else lifts the block", as: "carol", op: del(block("alice", "carol"))},
		{name: "lifts own block", as: "alice", op: del(block("alice", "carol")), allow: true},

		// ---- The direct room of a blocker and the blocked user.
		{name: "posts in the direct room, no block", as: "bob", op: set(newMsg(roomDM), textMsg("bob", "hi")), allow: true},
		{name: "blocked user posts in the direct room", as: "bob", setup: blocked, op: set(newMsg(roomDM), textMsg("bob", "hello?"))},
		{name: "blocker posts in the direct room", as: "alice", op: set(newMsg(roomDM), textMsg("alice", "bye")), allow: true},
		{name: "blocked user posts in a shared group", as: "bob", op: set(newMsg(roomR1), textMsg("bob", "in the group")), allow: true},
		{name: "blocked user edits an old message in the direct room", as: "bob",
			setup: put(model.MessagePath(roomDM, "dm-old"), model.Message{SenderID: "bob", Type: model.MessageText, Text: "old", CreatedAt: t0}),
			op:    update(model.MessagePath(roomDM, "dm-old"), up("text", "old!"), up("editedAt", firestore.ServerTimestamp)), allow: true},
		{name: "posts in a direct room the other member left", as: "bob", setup: leftRoom, op: set(newMsg(roomLeft), textMsg("bob", "anyone?")), allow: true},
		{name: "posts in the direct room after the block is lifted", as: "bob", setup: remove(block("alice", "bob")),
			op: set(newMsg(roomDM), textMsg("bob", "again")), allow: true},
		{name: "blocked by someone else, posts in the direct room", as: "bob", setup: put(block("carol", "bob"), model.Block{CreatedAt: t0}),
			op: set(newMsg(roomDM), textMsg("bob", "fine")), allow: true},

		// ---- hidden is Hearth's.
		{name: "posts a message marked not hidden", as: "bob", op: set(newMsg(roomR1), with(textMsg("bob", "x"), "hidden", false))},
		{name: "posts a message marked hidden", as: "bob", op: set(newMsg(roomR1), with(textMsg("bob", "x"), "hidden", true))},
		{name: "member reads a hidden message", as: "alice", setup: hidden, op: get(hiddenMsg), allow: true},
		{name: "sender unhides own message", as: "bob", op: update(hiddenMsg, up("hidden", false))},
		{name: "sender removes hidden from own message", as: "bob", op: update(hiddenMsg, up("hidden", firestore.Delete))},
		{name: "sender edits a hidden message (stays hidden)", as: "bob",
			op: update(hiddenMsg, up("text", "edited"), up("editedAt", firestore.ServerTimestamp)), allow: true},
		{name: "member hides another's message", as: "alice", op: update(model.MessagePath(roomR1, "m-bob"), up("hidden", true))},
		{name: "sender hides own message", as: "bob", op: update(model.MessagePath(roomR1, "m-bob"), up("hidden", true))},

		// ---- Reports and quotas are Hearth's (the API files them).
		{name: "files a report directly", as: "alice", op: set(model.ReporterPath(roomR1, "m-bob", "alice"), map[string]any{"reason": "spam"})},
		{name: "writes the report aggregate", as: "alice", op: set(model.ReportPath(roomR1, "m-bob"), map[string]any{"count": 0})},
		{name: "reads the report aggregate", as: "alice",
			setup: put(model.ReportPath(roomR1, "m-bob"), model.Report{RoomID: roomR1, MessageID: "m-bob", SenderID: "bob", Count: 1, Status: model.ReportOpen}),
			op:    get(model.ReportPath(roomR1, "m-bob"))},
		{name: "reported sender reads who reported", as: "bob", op: query(coll(model.ReportPath(roomR1, "m-bob") + "/" + model.ReportersCollection))},
		{name: "resets own report quota", as: "alice", op: set(model.ReportQuotasCollection+"/alice_2026010100", map[string]any{"count": 0})},
		{name: "resets own mention quota", as: "alice", op: set(model.MentionQuotasCollection+"/alice_202601010000", map[string]any{"count": 0})},
		{name: "admin reads the report queue", as: "root", admin: true, op: query(coll(model.ReportsCollection)), allow: true},
	}
}
