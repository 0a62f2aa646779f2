package model

import (
	"slices"
	"time"
)

// Reactions and threads: the collections, paths and limits of docs/data-model.md
// ("Reactions", "Threads").
const (
	// ReactionsCollection is under rooms/{roomId}/messages/{messageId}: one document
	// per reacting user, reactions/{uid}, written by that user.
	ReactionsCollection = "reactions"
	// ReactionMarksCollection is under rooms/{roomId}/messages/{messageId}: Hearth's
	// record of which of a user's emoji are included in the message's reactionCounts
	// (reactionMarks/{uid}); backend only.
	ReactionMarksCollection = "reactionMarks"
	// ThreadMarksCollection is under a thread's root message: Hearth's record of
	// whether a reply is included in the root's replyCount (threadMarks/{replyId});
	// backend only.
	ThreadMarksCollection = "threadMarks"
	// ThreadParticipantsCollection is under a thread's root message: one document
	// per user who replied (threadParticipants/{uid}); backend only.
	ThreadParticipantsCollection = "threadParticipants"
	// ThreadMutesCollection is under users/{uid}: threadMutes/{roomId}_{rootId}
	// (ThreadID), written by the owner, silences the pushes of one thread.
	ThreadMutesCollection = "threadMutes"

	// ReactionPattern is the document pattern of a reaction.
	ReactionPattern = "rooms/{roomId}/messages/{messageId}/reactions/{uid}"
)

// Limits of reactions and threads.
const (
	// MaxReactionsPerUser is the most distinct emoji one user puts on one message.
	MaxReactionsPerUser = 3
	// MaxLastRepliers is how many of a thread's most recent distinct repliers its root
	// lists (lastRepliers, newest first).
	MaxLastRepliers = 3
)

// reactionEmoji is the allowed set, in the order pickers show it. Each is one grapheme
// (❤️ is U+2764 U+FE0F: two code points, one character on screen).
var reactionEmoji = []string{"👍", "👎", "❤️", "😂", "😮", "😢", "😡", "🎉", "🙏", "🔥", "👀", "✅"}

// ReactionEmoji returns the emoji a reaction may use (a fresh slice).
func ReactionEmoji() []string { return slices.Clone(reactionEmoji) }

// IsReactionEmoji reports whether e is one of ReactionEmoji, exactly (no other
// variation selector, skin tone or joiner).
func IsReactionEmoji(e string) bool { return slices.Contains(reactionEmoji, e) }

// Reaction is rooms/{roomId}/messages/{messageId}/reactions/{uid}: the reactions of
// user uid on the message. The user writes it (the rules check every field); deleting it
// removes all of them. Hearth derives the message's reactionCounts from these documents,
// never trusting one: ReactionSet keeps only what the rules allow.
type Reaction struct {
	// Emoji are 1..MaxReactionsPerUser distinct ReactionEmoji.
	Emoji []string `firestore:"emoji"`
	// UpdatedAt equals request.time (serverTimestamp()).
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// ReactionSet returns the emoji of r that count: allowed, distinct, at most
// MaxReactionsPerUser (the first ones), sorted. A document the rules would refuse
// counts for what it holds that is valid, never more.
func ReactionSet(emoji []string) []string {
	var out []string
	for _, e := range emoji {
		if len(out) == MaxReactionsPerUser {
			break
		}
		if IsReactionEmoji(e) && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// ReactionMark is rooms/{roomId}/messages/{messageId}/reactionMarks/{uid}: the emoji of
// uid that reactionCounts includes. Hearth alone writes it.
type ReactionMark struct {
	// UID repeats the document id, so that an erasure finds a user's markers (and
	// through them their reactions) with one collection-group query.
	UID       string    `firestore:"uid"`
	Emoji     []string  `firestore:"emoji"`
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// ThreadMute is users/{uid}/threadMutes/{roomId}_{rootId}: uid gets no push for
// replies in that thread. The owner creates and deletes it.
type ThreadMute struct {
	RoomID    string    `firestore:"roomId"`
	MessageID string    `firestore:"messageId"`
	CreatedAt time.Time `firestore:"createdAt"`
}

// ThreadID returns the id of a thread (its root message rootID in roomID) as used by
// threadMutes: "{roomId}_{rootId}" (room ids have no '_', so the first '_' splits it).
func ThreadID(roomID, rootID string) string { return roomID + "_" + rootID }

// ReactionsCollectionPath returns "rooms/{roomId}/messages/{messageId}/reactions".
func ReactionsCollectionPath(roomID, messageID string) string {
	return MessagePath(roomID, messageID) + "/" + ReactionsCollection
}

// ReactionPath returns "rooms/{roomId}/messages/{messageId}/reactions/{uid}".
func ReactionPath(roomID, messageID, uid string) string {
	return ReactionsCollectionPath(roomID, messageID) + "/" + uid
}

// ReactionMarkPath returns "rooms/{roomId}/messages/{messageId}/reactionMarks/{uid}".
func ReactionMarkPath(roomID, messageID, uid string) string {
	return MessagePath(roomID, messageID) + "/" + ReactionMarksCollection + "/" + uid
}

// ThreadMarkPath returns "rooms/{roomId}/messages/{rootId}/threadMarks/{replyId}".
func ThreadMarkPath(roomID, rootID, replyID string) string {
	return MessagePath(roomID, rootID) + "/" + ThreadMarksCollection + "/" + replyID
}

// ThreadParticipantsPath returns "rooms/{roomId}/messages/{rootId}/threadParticipants".
func ThreadParticipantsPath(roomID, rootID string) string {
	return MessagePath(roomID, rootID) + "/" + ThreadParticipantsCollection
}

// ThreadMutePath returns "users/{uid}/threadMutes/{roomId}_{rootId}".
func ThreadMutePath(uid, roomID, rootID string) string {
	return UserPath(uid) + "/" + ThreadMutesCollection + "/" + ThreadID(roomID, rootID)
}
