package model

import "time"

// Limits of the data model. They live in one place because the Firestore and
// Storage security rules are rendered from them (see RuleValues): the server
// and the rules can never disagree about what a valid document is.
//
// String lengths count Unicode code points (Go runes); byte lengths would make
// the limit depend on the script the user writes in. The rules' string.size()
// counts UTF-16 units (an emoji is 2), so the rendered rules count code points
// with a helper instead (rules/firestore.rules.tmpl, chars()).
const (
	// MaxIDLen is the longest document id Hearth accepts (uids, room, message,
	// device and object ids). Firebase Auth caps uids at 128 characters;
	// Firestore would allow 1500 bytes, but short ids keep paths, storage
	// object names and index entries small.
	MaxIDLen = 128

	// MaxTextLen is the longest message text (or media caption), in runes.
	MaxTextLen = 4000

	// MaxTitleLen is the longest group room title, in runes.
	MaxTitleLen = 100

	// MaxDisplayNameLen is the longest user display name, in runes; the
	// shortest is 1.
	MaxDisplayNameLen = 64

	// MaxPhotoURLLen is the longest photoURL (user or room), in runes. 2048
	// is the usual practical URL limit and fits any CDN or Storage URL.
	MaxPhotoURLLen = 2048

	// MaxMembers is the largest group room. It bounds room.memberIds, which
	// the rules read on every message write, and the fan-out of one message.
	MaxMembers = 1000

	// DirectMembers is the exact member count of a direct room.
	DirectMembers = 2

	// MaxMentions is the most distinct uids one message may mention; it
	// bounds the mention-count fan-out and stops mention spam.
	MaxMentions = 50

	// MaxPreviewLen is the longest lastMessage.preview (inbox, room, push
	// body), in runes. Previews are cut by PreviewOf.
	MaxPreviewLen = 140

	// MaxDeviceTokenLen is the longest FCM registration token accepted.
	// Tokens are opaque and today about 160-200 bytes; 4096 leaves room for
	// format changes without accepting abuse.
	MaxDeviceTokenLen = 4096

	// MaxLocaleLen is the longest device locale; 35 is the length BCP 47
	// asks implementations to support.
	MaxLocaleLen = 35

	// MaxAppVersionLen is the longest device appVersion string.
	MaxAppVersionLen = 64

	// MaxExtLen is the longest file extension of a storage object.
	MaxExtLen = 8

	// MaxDigestMessageIDs is the most message ids a pushQueue entry keeps;
	// older ids are dropped (count keeps counting) so the entry stays small.
	MaxDigestMessageIDs = 50

	// MaxPushBatch is the most FCM tokens sent in one batch (the FCM limit).
	MaxPushBatch = 500
)

// Timing of the real-time features. Clients follow them and the rules and
// schedulers enforce them.
const (
	// TypingInterval is the shortest time between two writes of one user's
	// typing document; the rules reject a faster write.
	TypingInterval = 300 * time.Millisecond

	// TypingStaleAfter is the age after which a typing document counts as
	// "not typing" (clients ignore it, the cleanup scheduler deletes it): it
	// covers apps killed mid-sentence. A client still typing rewrites its doc
	// at least every TypingStaleAfter/2.
	TypingStaleAfter = 10 * time.Second

	// HeartbeatInterval is how often an online client writes
	// presence.heartbeatAt.
	HeartbeatInterval = 25 * time.Second

	// OfflineAfter is how long after the last heartbeat the presence sweeper
	// marks a user offline: two missed heartbeats plus slack for a slow
	// network.
	OfflineAfter = 70 * time.Second
)

// Rate limits of the client writes that Hearth fans out to many documents (a room's
// every inbox entry, a user's every member doc). The rules enforce them against
// server timestamps the client writes (== request.time), so the client's clock does
// not matter; the triggers coalesce whatever bursts get through (see
// functions.FanoutWindow).
const (
	// EditInterval is the shortest time between two edits of one message: an edit
	// (editedAt == request.time) must come at least this long after the message's
	// previous editedAt. The first edit is not limited.
	EditInterval = time.Second

	// RenameInterval is the shortest time between two changes of a user's
	// displayName: a rename stamps displayNameChangedAt == request.time and must come
	// at least this long after the previous stamp. The first rename after the profile
	// was created is not limited.
	RenameInterval = time.Minute

	// PresenceStateInterval is the shortest time between two changes of a presence's
	// state: a change stamps stateChangedAt == request.time and must come at least
	// this long after the previous stamp (or, without one, the last heartbeat).
	// Heartbeats that keep the state are not limited.
	PresenceStateInterval = 5 * time.Second
)

// Upload limits per media type, in bytes. "MB" in the docs means MiB
// (1 << 20), the unit the Storage rules' request.resource.size is compared in.
const (
	// MaxImageSize is the largest image upload (20 MiB).
	MaxImageSize int64 = 20 << 20
	// MaxVideoSize is the largest video upload (200 MiB).
	MaxVideoSize int64 = 200 << 20
	// MaxAudioSize is the largest audio upload (20 MiB).
	MaxAudioSize int64 = 20 << 20
	// MaxFileSize is the largest file (document) upload (50 MiB).
	MaxFileSize int64 = 50 << 20
)
