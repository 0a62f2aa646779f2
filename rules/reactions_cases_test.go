package rules

import (
	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// reactionCases attack rooms/{roomId}/messages/{messageId}/reactions/{uid} (a member's
// own reactions), the Hearth-only reaction and thread documents under a message, and
// users/{uid}/threadMutes/{roomId}_{rootId}. Every limit is tried from both sides: the
// number of emoji (1 and MaxReactionsPerUser pass; 0 and one more fail), the allowed
// set (an exact allowed emoji passes; the same emoji with another skin tone or without
// its variation selector fails), the message (live passes; missing, deleted or a
// system line fails), the writer (own doc passes; another's fails).
func reactionCases() []ruleCase {
	target := model.MessagePath(roomR1, "m-react")
	live := put(target, model.Message{SenderID: "alice", Type: model.MessageText, Text: "react to me", CreatedAt: t0})
	mine := model.ReactionPath(roomR1, "m-react", "bob")
	react := func(emoji ...any) map[string]any {
		if emoji == nil {
			emoji = []any{} // an empty list, not null
		}
		return map[string]any{"emoji": emoji, "updatedAt": firestore.ServerTimestamp}
	}
	limit := []any{"👍", "❤️", "🎉"} // model.MaxReactionsPerUser
	onto := func(room, msg, uid string) string { return model.ReactionPath(room, msg, uid) }
	reactions := coll(model.ReactionsCollectionPath(roomR1, "m-react"))
	existing := chain(live, put(mine, model.Reaction{Emoji: []string{"👍"}, UpdatedAt: t0}))

	mute := model.ThreadMutePath("alice", roomR1, "m-bob")
	muteDoc := map[string]any{"roomId": roomR1, "messageId": "m-bob", "createdAt": firestore.ServerTimestamp}
	return []ruleCase{
		// Reactions: who.
		{name: "member reacts", as: "bob", setup: live, op: set(mine, react("👍")), allow: true},
		{name: "author reacts to own message", as: "alice", setup: live, op: set(onto(roomR1, "m-react", "alice"), react("😂")), allow: true},
		{name: "reacts in the direct room", as: "bob", op: set(onto(roomDM, "m-dm", "bob"), react("👍")),
			setup: put(model.MessagePath(roomDM, "m-dm"), model.Message{SenderID: "alice", Type: model.MessageText, Text: "hi", CreatedAt: t0}), allow: true},
		{name: "writes another member's reaction", as: "bob", setup: live, op: set(onto(roomR1, "m-react", "alice"), react("👍"))},
		{name: "non-member reacts", as: "carol", setup: live, op: set(onto(roomR1, "m-react", "carol"), react("👍"))},
		{name: "banned user reacts", as: "dave", setup: live, op: set(onto(roomR1, "m-react", "dave"), react("👍"))},
		{name: "unauthenticated reacts", setup: live, op: set(mine, react("👍"))},
		{name: "reacts in an archived room", as: "bob", op: set(onto(roomArch, "m-arch", "bob"), react("👍"))},
		// Reactions: the message.
		{name: "reacts to a missing message", as: "bob", op: set(onto(roomR1, "no-such-message", "bob"), react("👍"))},
		{name: "reacts to a deleted message", as: "bob", setup: chain(live, tombstoned(target)), op: set(mine, react("👍"))},
		{name: "reacts to a system message", as: "bob", op: set(onto(roomR1, "sys-r", "bob"), react("👍")),
			setup: put(model.MessagePath(roomR1, "sys-r"), model.Message{SenderID: "alice", Type: model.MessageSystem, Text: "alice added bob", CreatedAt: t0})},
		{name: "reacts to a message of another room through this room", as: "bob", op: set(onto(roomR1, "m-carol", "bob"), react("👍"))},
		// Reactions: how many.
		{name: "reacts with the most emoji", as: "bob", setup: live, op: set(mine, react(limit...)), allow: true},
		{name: "reacts with one emoji too many", as: "bob", setup: live, op: set(mine, react(append(limit, "🔥")...))},
		{name: "reacts with no emoji", as: "bob", setup: live, op: set(mine, react())},
		{name: "reacts twice with the same emoji", as: "bob", setup: live, op: set(mine, react("👍", "👍"))},
		// Reactions: which.
		{name: "emoji outside the allowed set", as: "bob", setup: live, op: set(mine, react("🍕"))},
		{name: "allowed emoji with a skin tone", as: "bob", setup: live, op: set(mine, react("👍🏽"))},
		{name: "heart without its variation selector", as: "bob", setup: live, op: set(mine, react("❤"))},
		{name: "two allowed emoji in one string", as: "bob", setup: live, op: set(mine, react("👍🔥"))},
		{name: "emoji a number", as: "bob", setup: live, op: set(mine, react(1))},
		{name: "emoji a string, not a list", as: "bob", setup: live, op: set(mine, map[string]any{"emoji": "👍", "updatedAt": firestore.ServerTimestamp})},
		// Reactions: the other fields.
		{name: "updatedAt spoofed", as: "bob", setup: live, op: set(mine, with(react("👍"), "updatedAt", hourAgo))},
		{name: "updatedAt missing", as: "bob", setup: live, op: set(mine, with(react("👍"), "updatedAt", absent))},
		{name: "extra field", as: "bob", setup: live, op: set(mine, with(react("👍"), "count", 100))},
		// Toggling: update and delete.
		{name: "changes own reactions", as: "bob", setup: existing, op: set(mine, react("👍", "🔥")), allow: true},
		{name: "changes own reactions past the limit", as: "bob", setup: existing, op: set(mine, react(append(limit, "🔥")...))},
		{name: "changes own reactions with a spoofed time", as: "bob", setup: existing, op: update(mine, up("emoji", []any{"🔥"}))},
		{name: "removes own reactions", as: "bob", setup: existing, op: del(mine), allow: true},
		{name: "removes another member's reactions", as: "alice", setup: existing, op: del(mine)},
		{name: "non-member removes a reaction", as: "carol", setup: existing, op: del(mine)},
		{name: "removes own reaction in an archived room", as: "bob", op: del(onto(roomArch, "m-arch", "bob")),
			setup: put(onto(roomArch, "m-arch", "bob"), model.Reaction{Emoji: []string{"👍"}, UpdatedAt: t0})},
		// Reading.
		{name: "member lists the reactions", as: "alice", setup: existing, op: query(reactions), allow: true},
		{name: "member reads own reaction (reacted by me)", as: "bob", setup: existing, op: get(mine), allow: true},
		{name: "non-member lists the reactions", as: "carol", setup: existing, op: query(reactions)},
		{name: "collection group reactions", as: "bob", op: query(group(model.ReactionsCollection))},
		// Hearth's derived fields and documents.
		{name: "sender writes reactionCounts", as: "alice", setup: live, op: update(target, up("reactionCounts", map[string]any{"👍": 1000}))},
		{name: "sender writes replyCount", as: "alice", setup: live, op: update(target, up("replyCount", 1000))},
		{name: "posts with reactionCounts", as: "alice", op: set(model.MessagePath(roomR1, "m-forged"),
			with(textMsg("alice", "hi"), "reactionCounts", map[string]any{"👍": 5}))},
		{name: "posts with lastRepliers", as: "alice", op: set(model.MessagePath(roomR1, "m-forged2"),
			with(textMsg("alice", "hi"), "lastRepliers", []any{"bob"}))},
		{name: "writes a reaction mark", as: "bob", setup: live, op: set(model.ReactionMarkPath(roomR1, "m-react", "bob"), map[string]any{"emoji": []any{"👍"}})},
		{name: "reads a reaction mark", as: "bob", setup: live, op: get(model.ReactionMarkPath(roomR1, "m-react", "bob"))},
		{name: "writes a thread mark", as: "bob", setup: live, op: set(model.ThreadMarkPath(roomR1, "m-react", "x"), map[string]any{"counted": true})},
		{name: "joins a thread's participants", as: "bob", setup: live, op: set(model.ThreadParticipantsPath(roomR1, "m-react")+"/bob", map[string]any{"at": 1})},

		// Thread mutes.
		{name: "mutes a thread", as: "alice", setup: remove(mute), op: set(mute, muteDoc), allow: true},
		{name: "mutes a thread for someone else", as: "bob", setup: remove(mute), op: set(mute, muteDoc)},
		{name: "mutes a thread of a room not joined", as: "alice", op: set(model.ThreadMutePath("alice", roomR2, "m-carol"),
			map[string]any{"roomId": roomR2, "messageId": "m-carol", "createdAt": firestore.ServerTimestamp})},
		{name: "mute id names another thread", as: "alice", op: set(model.ThreadMutePath("alice", roomR1, "m-alice"), muteDoc)},
		{name: "mute of an invalid room id", as: "alice", op: set(model.UserPath("alice")+"/threadMutes/r_1_m-bob",
			map[string]any{"roomId": "r_1", "messageId": "m-bob", "createdAt": firestore.ServerTimestamp})},
		{name: "mute of a reserved message id", as: "alice", op: set(model.UserPath("alice")+"/threadMutes/r1___x__",
			map[string]any{"roomId": roomR1, "messageId": "__x__", "createdAt": firestore.ServerTimestamp})},
		{name: "mute with a spoofed time", as: "alice", setup: remove(mute), op: set(mute, with(muteDoc, "createdAt", hourAgo))},
		{name: "mute without createdAt", as: "alice", setup: remove(mute), op: set(mute, with(muteDoc, "createdAt", absent))},
		{name: "mute with an extra field", as: "alice", setup: remove(mute), op: set(mute, with(muteDoc, "until", inAnHour))},
		{name: "rewrites a mute", as: "alice", setup: put(mute, model.ThreadMute{RoomID: roomR1, MessageID: "m-bob", CreatedAt: t0}), op: set(mute, muteDoc)},
		{name: "reads own mutes", as: "alice", op: query(coll(model.UserPath("alice") + "/" + model.ThreadMutesCollection)), allow: true},
		{name: "reads another's mutes", as: "bob", op: query(coll(model.UserPath("alice") + "/" + model.ThreadMutesCollection))},
		{name: "unmutes a thread", as: "alice", setup: put(mute, model.ThreadMute{RoomID: roomR1, MessageID: "m-bob", CreatedAt: t0}), op: del(mute), allow: true},
		{name: "unmutes another's thread", as: "bob", setup: put(mute, model.ThreadMute{RoomID: roomR1, MessageID: "m-bob", CreatedAt: t0}), op: del(mute)},
	}
}
