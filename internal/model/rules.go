package model

// RuleLimits is every value the security rules are rendered from, as plain
// fields a text/template can print ({{.MaxTextLen}}) or range over
// ({{range .ImageContentTypes}}). Durations are given in the units the rules'
// duration.value() takes. Get it from RuleValues; the rules package renders
// firestore.rules and storage.rules from it, so the rules cannot drift from
// this package.
type RuleLimits struct {
	// Lengths in characters (runes, counted by the rules' chars() helper, not
	// string.size(), which counts UTF-16 units) or entries.
	MaxIDLen          int
	MaxTextLen        int
	MaxTitleLen       int
	MaxDisplayNameLen int
	MaxPhotoURLLen    int
	MaxMembers        int
	DirectMembers     int
	MaxMentions       int
	// MaxReactionsPerUser bounds reactions/{uid}.emoji; ReactionEmoji is its set.
	MaxReactionsPerUser int

	// Timing, for duration.value(n, 'ms') and duration.value(n, 's').
	TypingIntervalMs   int64
	HeartbeatIntervalS int64
	OfflineAfterS      int64
	TypingStaleAfterS  int64

	// Rate limits of client writes that fan out, for duration.value(n, 'ms').
	EditIntervalMs          int64
	RenameIntervalMs        int64
	PresenceStateIntervalMs int64

	// Upload limits in bytes (request.resource.size).
	MaxImageSize int64
	MaxVideoSize int64
	MaxAudioSize int64
	MaxFileSize  int64

	// Whole-string RE2 patterns for string.matches().
	IDPattern             string
	RoomIDPattern         string
	ReservedIDPattern     string
	ExtPattern            string
	NoControlCharsPattern string
	// LinePattern is one-line text without invisible characters
	// (display names): model.LinePattern.
	LinePattern string

	// Storage layout.
	MediaPrefix string
	ThumbPrefix string
	ThumbExt    string

	// Enum values and allow-lists, for `x in [...]`.
	MessageTypes       []string // every type
	ClientMessageTypes []string // the types clients may create
	NotificationLevels []string
	PresenceStates     []string
	MediaStatuses      []string
	ImageContentTypes  []string
	VideoContentTypes  []string
	AudioContentTypes  []string
	FileContentTypes   []string
	ContentTypeExts    map[string]string // allowed content type -> object extension
	ReactionEmoji      []string
}

// NoControlCharsPattern matches a string without control characters
// (whole string, RE2), equal to unicode.IsControl. Names and titles use the
// stricter LinePattern, which also refuses bidirectional formatting and
// other invisible characters.
const NoControlCharsPattern = `[^\p{Cc}]*`

// RuleValues returns the limits for rendering the security rules. Each call
// returns fresh slices and maps, so a caller may modify them.
func RuleValues() RuleLimits {
	var client []string
	for _, t := range MessageTypes() {
		if t.ClientWritable() {
			client = append(client, string(t))
		}
	}
	exts := make(map[string]string, len(mediaTypes))
	for _, m := range mediaTypes {
		exts[m.contentType] = m.ext
	}
	return RuleLimits{
		MaxIDLen:              MaxIDLen,
		MaxTextLen:            MaxTextLen,
		MaxTitleLen:           MaxTitleLen,
		MaxDisplayNameLen:     MaxDisplayNameLen,
		MaxPhotoURLLen:        MaxPhotoURLLen,
		MaxMembers:            MaxMembers,
		DirectMembers:         DirectMembers,
		MaxMentions:           MaxMentions,
		TypingIntervalMs:      TypingInterval.Milliseconds(),
		HeartbeatIntervalS:    int64(HeartbeatInterval.Seconds()),
		OfflineAfterS:         int64(OfflineAfter.Seconds()),
		TypingStaleAfterS:     int64(TypingStaleAfter.Seconds()),
		MaxImageSize:          MaxImageSize,
		MaxVideoSize:          MaxVideoSize,
		MaxAudioSize:          MaxAudioSize,
		MaxFileSize:           MaxFileSize,
		ThumbExt:              ThumbExt,
		IDPattern:             IDPattern,
		RoomIDPattern:         RoomIDPattern,
		ReservedIDPattern:     ReservedIDPattern,
		ExtPattern:            ExtPattern,
		LinePattern:           LinePattern(),
		MediaPrefix:           MediaPrefix,
		ThumbPrefix:           ThumbPrefix,
		MessageTypes:          strs(MessageTypes()),
		ClientMessageTypes:    client,
		NotificationLevels:    strs(NotificationLevels()),
		PresenceStates:        strs(PresenceStates()),
		MediaStatuses:         strs(MediaStatuses()),
		ImageContentTypes:     ContentTypes(MessageImage),
		VideoContentTypes:     ContentTypes(MessageVideo),
		AudioContentTypes:     ContentTypes(MessageAudio),
		FileContentTypes:      ContentTypes(MessageFile),
		ContentTypeExts:       exts,
		NoControlCharsPattern: NoControlCharsPattern,
		MaxReactionsPerUser:   MaxReactionsPerUser,
		ReactionEmoji:         ReactionEmoji(),

		// Rate limits of client writes that fan out.
		EditIntervalMs:          EditInterval.Milliseconds(),
		RenameIntervalMs:        RenameInterval.Milliseconds(),
		PresenceStateIntervalMs: PresenceStateInterval.Milliseconds(),
	}
}

func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
