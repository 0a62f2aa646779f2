package model

import (
	"slices"
	"time"
)

// Blocking and reporting (docs/data-model.md, "Blocks" and "Reports").

// Collection ids of blocks and reports.
const (
	// BlocksCollection is users/{uid}/blocks/{otherUid}: uid blocked otherUid.
	// Only uid writes (creates, deletes) and reads it.
	BlocksCollection = "blocks"
	// BlockersCollection is blockers/{uid}: the uids that block uid, kept by
	// the onBlockWritten trigger from the block documents. Backend only: the
	// blocked user must learn nothing of a block.
	BlockersCollection = "blockers"
	// ReportsCollection is reports/{reportId}: one per reported message,
	// reportId = ReportID(roomId, messageId). Backend only.
	ReportsCollection = "reports"
	// ReportersCollection is reports/{reportId}/reporters/{uid}: one per
	// reporter of the message. Backend only.
	ReportersCollection = "reporters"
	// ReportQuotasCollection is reportQuotas/{uid}_{yyyymmddhh}: how many
	// reports uid filed in that hour (UTC). Backend only.
	ReportQuotasCollection = "reportQuotas"
	// MentionQuotasCollection is mentionQuotas/{uid}_{yyyymmddhhmm}: the
	// messages of uid whose mentions pushed at once in that minute (UTC).
	// Backend only.
	MentionQuotasCollection = "mentionQuotas"
)

// Field names of the safety documents used in queries and partial updates.
const (
	// FieldHidden is rooms/{roomId}/messages/{messageId}.hidden: true once
	// the message reached the report threshold and no moderator has
	// dismissed the reports since. Clients leave such messages out.
	FieldHidden = "hidden"
)

// Block is users/{uid}/blocks/{otherUid}.
type Block struct {
	// CreatedAt equals request.time (serverTimestamp()) when a client
	// writes it.
	CreatedAt time.Time `firestore:"createdAt"`
}

// BlockPattern is the block documents' path pattern, as triggers name it.
const BlockPattern = "users/{uid}/blocks/{otherUid}"

// Blockers is blockers/{uid}: who blocks uid, so that a message costs one read
// of its sender's index rather than one block document per member. By is
// exact and sorted while Overflow is false. Overflow is set, for good, when a
// block would take By past the index's cap: readers then read the block
// documents themselves (By is no longer kept).
type Blockers struct {
	By        []string  `firestore:"by"`
	Overflow  bool      `firestore:"overflow"`
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// Exact reports whether the index tells who blocks its owner: a nil index (no
// document: nobody blocks its owner) does, an overflowed one does not (read
// users/{uid}/blocks/{owner} instead).
func (b *Blockers) Exact() bool { return b == nil || !b.Overflow }

// Blocks reports whether an Exact index lists uid.
func (b *Blockers) Blocks(uid string) bool {
	if b == nil {
		return false
	}
	_, found := slices.BinarySearch(b.By, uid)
	return found
}

// BlockersPath returns "blockers/{uid}": the index of who blocks uid.
func BlockersPath(uid string) string { return BlockersCollection + "/" + uid }

// BlocksCollectionPath returns "users/{uid}/blocks".
func BlocksCollectionPath(uid string) string { return UserPath(uid) + "/" + BlocksCollection }

// BlockPath returns "users/{uid}/blocks/{otherUid}": the block of otherUid by uid.
func BlockPath(uid, otherUID string) string { return BlocksCollectionPath(uid) + "/" + otherUID }

// ReportIDSeparator joins a room id and a message id into a report id; neither
// id pattern allows it.
const ReportIDSeparator = "~"

// ReportID returns the id of the report document of a message.
func ReportID(roomID, messageID string) string { return roomID + ReportIDSeparator + messageID }

// ReportPath returns "reports/{roomId}~{messageId}".
func ReportPath(roomID, messageID string) string {
	return ReportsCollection + "/" + ReportID(roomID, messageID)
}

// ReporterPath returns "reports/{roomId}~{messageId}/reporters/{uid}".
func ReporterPath(roomID, messageID, uid string) string {
	return ReportPath(roomID, messageID) + "/" + ReportersCollection + "/" + uid
}

// ReportReason is why a member reports a message.
type ReportReason string

// The report reasons.
const (
	ReportSpam       ReportReason = "spam"
	ReportAbuse      ReportReason = "abuse"
	ReportHarassment ReportReason = "harassment"
	ReportNudity     ReportReason = "nudity"
	ReportOther      ReportReason = "other"
)

// ReportReasons returns every ReportReason.
func ReportReasons() []ReportReason {
	return []ReportReason{ReportSpam, ReportAbuse, ReportHarassment, ReportNudity, ReportOther}
}

// Valid reports whether r is one of the defined reasons.
func (r ReportReason) Valid() bool { return slices.Contains(ReportReasons(), r) }

// MaxReportNoteLen is the longest note a reporter may add, in runes.
const MaxReportNoteLen = 500

// ReportStatus is where a report stands in the moderation queue.
type ReportStatus string

// The report statuses.
const (
	ReportOpen     ReportStatus = "open"
	ReportResolved ReportStatus = "resolved"
)

// ReportAction is how a moderator resolves a report.
type ReportAction string

// The report actions.
const (
	// ReportDismiss keeps the message and shows it again (hidden false).
	ReportDismiss ReportAction = "dismiss"
	// ReportRedact turns the message into a tombstone.
	ReportRedact ReportAction = "redact"
	// ReportBan bans the sender from the room.
	ReportBan ReportAction = "ban"
)

// ReportActions returns every ReportAction.
func ReportActions() []ReportAction {
	return []ReportAction{ReportDismiss, ReportRedact, ReportBan}
}

// Valid reports whether a is one of the defined actions.
func (a ReportAction) Valid() bool { return slices.Contains(ReportActions(), a) }

// Report is reports/{roomId}~{messageId}: every report of one message,
// aggregated. Only Hearth writes it.
type Report struct {
	RoomID    string `firestore:"roomId"`
	MessageID string `firestore:"messageId"`
	SenderID  string `firestore:"senderId"`
	// Text is the message's text when it was first reported (a moderator
	// sees what was reported even after an edit or a redaction).
	Text string `firestore:"text"`
	// Reasons counts the reports per reason; ReasonList is its keys, for
	// array-contains queries.
	Reasons    map[string]int `firestore:"reasons"`
	ReasonList []string       `firestore:"reasonList"`
	// Count is every report of the message; Pending those since the last
	// resolution (what the hiding threshold compares).
	Count           int       `firestore:"count"`
	Pending         int       `firestore:"pending"`
	FirstReportedAt time.Time `firestore:"firstReportedAt"`
	LastReportedAt  time.Time `firestore:"lastReportedAt"`
	// Hidden mirrors the message's hidden field.
	Hidden     bool              `firestore:"hidden"`
	Status     ReportStatus      `firestore:"status"`
	Resolution *ReportResolution `firestore:"resolution"`
}

// ReportResolution is how and by whom a report was resolved.
type ReportResolution struct {
	Action ReportAction `firestore:"action"`
	By     string       `firestore:"by"`
	At     time.Time    `firestore:"at"`
	Note   string       `firestore:"note,omitempty"`
}

// Reporter is reports/{reportId}/reporters/{uid}: one member's report.
type Reporter struct {
	Reason    ReportReason `firestore:"reason"`
	Note      string       `firestore:"note,omitempty"`
	CreatedAt time.Time    `firestore:"createdAt"`
}

// Quota is a per-user counter of one window (reportQuotas, mentionQuotas).
type Quota struct {
	Count int `firestore:"count"`
	// IDs are what was counted, when the count must be exact under retries
	// (mentionQuotas: message ids).
	IDs []string `firestore:"ids,omitempty"`
	// ExpireAt is the end of the window + QuotaExpiryMargin: a Firestore TTL policy
	// deletes the document then.
	ExpireAt time.Time `firestore:"expireAt"`
}

// QuotaExpiryMargin is how long a quota document outlives its window before its TTL
// policy deletes it: longer than any clock skew between instances, and than the age
// up to which a redelivered message event is still pushed (its mention quota must
// still remember it). uploadQuotas use the same day of margin.
const QuotaExpiryMargin = 24 * time.Hour

// ValidateReport checks a member's report: the reason one of ReportReasons,
// the note (optional) valid UTF-8 of at most MaxReportNoteLen runes.
func ValidateReport(reason ReportReason, note string) error {
	var c checker
	if !reason.Valid() {
		c.add("reason", "must be one of %q", ReportReasons())
	}
	c.text("note", note, 0, MaxReportNoteLen, true)
	return c.err()
}
