package push

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/hearth-chat/hearth/internal/model"
)

// Localisation keys of the notification title and body. Apps define them as Android
// string resources and iOS Localizable.strings entries (docs/notifications.md); the
// arguments go in title_loc_args/body_loc_args (Android) and title-loc-args/loc-args
// (APNs), in the order of each key's comment. The English text of Strings is also sent
// as the plain title and body, for apps (and web) that do not localise.
const (
	KeyTitleGroup  = "hearth_title_group"  // room title
	KeyTitleDirect = "hearth_title_direct" // sender name

	KeyGroupText          = "hearth_group_text"           // sender, text
	KeyGroupHidden        = "hearth_group_hidden"         // sender
	KeyGroupImage         = "hearth_group_image"          // sender
	KeyGroupVideo         = "hearth_group_video"          // sender
	KeyGroupAudio         = "hearth_group_audio"          // sender
	KeyGroupFile          = "hearth_group_file"           // sender
	KeyGroupMention       = "hearth_group_mention"        // sender, text
	KeyGroupMentionHidden = "hearth_group_mention_hidden" // sender
	KeyGroupDigest        = "hearth_group_digest"         // count, room title
	KeyGroupDigestMention = "hearth_group_digest_mention" // count, room title, mentioning sender

	KeyDirectText   = "hearth_direct_text"   // text
	KeyDirectHidden = "hearth_direct_hidden" // (none)
	KeyDirectImage  = "hearth_direct_image"  // (none)
	KeyDirectVideo  = "hearth_direct_video"  // (none)
	KeyDirectAudio  = "hearth_direct_audio"  // (none)
	KeyDirectFile   = "hearth_direct_file"   // (none)
	KeyDirectDigest = "hearth_direct_digest" // count

	KeyGroupReaction        = "hearth_group_reaction"         // reactor, emoji, text
	KeyGroupReactionHidden  = "hearth_group_reaction_hidden"  // reactor, emoji
	KeyDirectReaction       = "hearth_direct_reaction"        // emoji, text
	KeyDirectReactionHidden = "hearth_direct_reaction_hidden" // emoji
	KeyGroupReply           = "hearth_group_reply"            // sender, text
	KeyGroupReplyHidden     = "hearth_group_reply_hidden"     // sender
	KeyGroupDigestReply     = "hearth_group_digest_reply"     // count, room title, replying sender
)

// Strings are the English defaults of the localisation keys, in Android's positional
// format (%1$s; iOS apps write %1$@). docs/notifications.md lists them for app developers.
var Strings = map[string]string{
	KeyTitleGroup:  "%1$s",
	KeyTitleDirect: "%1$s",

	KeyGroupText:          "%1$s: %2$s",
	KeyGroupHidden:        "%1$s: New message",
	KeyGroupImage:         "%1$s sent a photo",
	KeyGroupVideo:         "%1$s sent a video",
	KeyGroupAudio:         "%1$s sent a voice message",
	KeyGroupFile:          "%1$s sent a file",
	KeyGroupMention:       "%1$s mentioned you: %2$s",
	KeyGroupMentionHidden: "%1$s mentioned you",
	KeyGroupDigest:        "%1$s new messages in %2$s",
	KeyGroupDigestMention: "%1$s new messages in %2$s, %3$s mentioned you",

	KeyDirectText:   "%1$s",
	KeyDirectHidden: "New message",
	KeyDirectImage:  "Sent a photo",
	KeyDirectVideo:  "Sent a video",
	KeyDirectAudio:  "Sent a voice message",
	KeyDirectFile:   "Sent a file",
	KeyDirectDigest: "%1$s new messages",

	KeyGroupReaction:        "%1$s reacted %2$s to: %3$s",
	KeyGroupReactionHidden:  "%1$s reacted %2$s to your message",
	KeyDirectReaction:       "Reacted %1$s to: %2$s",
	KeyDirectReactionHidden: "Reacted %1$s to your message",
	KeyGroupReply:           "%1$s replied: %2$s",
	KeyGroupReplyHidden:     "%1$s replied in your thread",
	KeyGroupDigestReply:     "%1$s new messages in %2$s, %3$s replied in your thread",
}

// Data payload keys: the app opens the room (and scrolls to the message) from them.
const (
	DataRoomID    = "roomId"
	DataMessageID = "messageId"
)

// text is one localisable string: its key, its arguments and the English rendering.
type text struct {
	Key     string
	Args    []string
	English string
}

func localised(key string, args ...string) text {
	return text{Key: key, Args: args, English: format(Strings[key], args)}
}

// format substitutes Android-style positional arguments (%1$s, %2$s, ...) into s.
func format(s string, args []string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			j := i + 1
			for j < len(s) && '0' <= s[j] && s[j] <= '9' {
				j++
			}
			if j > i+1 && j+1 < len(s) && s[j] == '$' && s[j+1] == 's' {
				n, _ := strconv.Atoi(s[i+1 : j])
				if n >= 1 && n <= len(args) {
					b.WriteString(args[n-1])
				}
				i = j + 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// content is everything one recipient's notification for one room says.
type content struct {
	RoomID    string
	RoomType  model.RoomType
	RoomTitle string
	// Count is how many messages the notification covers: 1 renders the message itself,
	// more render a digest.
	Count int
	// MessageID is the deep-link target: the newest mention of the recipient if any,
	// else the newest message.
	MessageID string
	// Message is that message when it could be read (nil: render without it).
	Message *model.Message
	// SenderName names Message's sender; for a direct room it is the other member.
	SenderName string
	// Mentioned says whether Message mentions the recipient.
	Mentioned bool
	// Previews is the recipient's settings.notificationPreviews.
	Previews bool
	// Badge is the recipient's badge number: the sum of unreadCount over their inbox
	// entries (inbox.Badge). nil: it could not be read in time; the notification goes
	// without one and the app keeps the number it shows.
	Badge *int
	// Urgent marks direct messages and mentions: high priority.
	Urgent bool
	// Reaction, when set, is the emoji of a reaction to the recipient's Message (by
	// SenderName): the notification is about the reaction, not a new message.
	Reaction string
	// Reply marks a reply in a thread the recipient takes part in (not a mention).
	Reply bool
}

// title and body return the localisable title and body of c.
func (c content) title() text {
	if c.RoomType == model.RoomDirect {
		return localised(KeyTitleDirect, c.SenderName)
	}
	return localised(KeyTitleGroup, c.RoomTitle)
}

func (c content) body() text {
	direct := c.RoomType == model.RoomDirect
	if c.Count > 1 || c.Message == nil {
		n := strconv.Itoa(max(c.Count, 1))
		switch {
		case direct:
			return localised(KeyDirectDigest, n)
		case c.Reply && c.Message != nil:
			return localised(KeyGroupDigestReply, n, c.RoomTitle, c.SenderName)
		case c.Mentioned && c.Message != nil:
			return localised(KeyGroupDigestMention, n, c.RoomTitle, c.SenderName)
		}
		return localised(KeyGroupDigest, n, c.RoomTitle)
	}
	preview := ""
	if c.Previews {
		preview = model.PreviewOf(c.Message.Text)
	}
	switch {
	case c.Reaction != "" && direct && preview == "":
		return localised(KeyDirectReactionHidden, c.Reaction)
	case c.Reaction != "" && direct:
		return localised(KeyDirectReaction, c.Reaction, preview)
	case c.Reaction != "" && preview == "":
		return localised(KeyGroupReactionHidden, c.SenderName, c.Reaction)
	case c.Reaction != "":
		return localised(KeyGroupReaction, c.SenderName, c.Reaction, preview)
	case !direct && c.Reply && preview == "":
		return localised(KeyGroupReplyHidden, c.SenderName)
	case !direct && c.Reply:
		return localised(KeyGroupReply, c.SenderName, preview)
	}
	if !direct && c.Mentioned {
		if preview == "" {
			return localised(KeyGroupMentionHidden, c.SenderName)
		}
		return localised(KeyGroupMention, c.SenderName, preview)
	}
	if preview != "" {
		if direct {
			return localised(KeyDirectText, preview)
		}
		return localised(KeyGroupText, c.SenderName, preview)
	}
	// No text to show: a media message without caption names its kind (that much is not
	// a preview); anything else, or previews off, says "New message".
	kind := c.Message.Type
	if !c.Previews {
		kind = model.MessageText
	}
	keys := map[model.MessageType][2]string{
		model.MessageImage: {KeyGroupImage, KeyDirectImage},
		model.MessageVideo: {KeyGroupVideo, KeyDirectVideo},
		model.MessageAudio: {KeyGroupAudio, KeyDirectAudio},
		model.MessageFile:  {KeyGroupFile, KeyDirectFile},
	}
	k, media := keys[kind]
	switch {
	case direct && media:
		return localised(k[1])
	case direct:
		return localised(KeyDirectHidden)
	case media:
		return localised(k[0], c.SenderName)
	}
	return localised(KeyGroupHidden, c.SenderName)
}

// device is one registration of a recipient.
type device struct {
	uid, id  string
	token    string
	platform model.Platform
	// registered is the device's updatedAt: when the app last registered the token.
	registered time.Time
	// updated is the document's update time, the precondition of its deletion: a device
	// re-registered with a new token meanwhile is not deleted for the old token's error.
	updated time.Time
}

// collapseID returns the per-room collapse identifier: the room id, or a hash of it when
// it is longer than the 64 bytes APNs allows for apns-collapse-id.
func collapseID(roomID string) string {
	if len(roomID) <= 64 {
		return roomID
	}
	sum := sha256.Sum256([]byte(roomID))
	return "r-" + hex.EncodeToString(sum[:])[:40]
}

// message builds the FCM message of c for one device: a cross-platform notification with
// the English texts, the data payload, and the block of the device's platform with the
// localisation keys, collapse per room, channel, badge and priority.
func (n *Notifier) message(c content, d device) *messaging.Message {
	title, body := c.title(), c.body()
	collapse := collapseID(c.RoomID)
	m := &messaging.Message{
		Token:        d.token,
		Notification: &messaging.Notification{Title: title.English, Body: body.English},
		Data:         map[string]string{DataRoomID: c.RoomID, DataMessageID: c.MessageID},
	}
	priority, apnsPriority, urgency := "normal", "5", "normal"
	if c.Urgent {
		priority, apnsPriority, urgency = "high", "10", "high"
	}
	var badge *int
	if c.Badge != nil {
		b := max(*c.Badge, 0)
		badge = &b
	}
	channel := n.cfg.AndroidChannelGroup
	if c.RoomType == model.RoomDirect {
		channel = n.cfg.AndroidChannelDirect
	}
	ttl := n.cfg.TTL
	android := &messaging.AndroidConfig{
		CollapseKey: collapse,
		Priority:    priority,
		TTL:         &ttl,
		Notification: &messaging.AndroidNotification{
			Tag:               collapse,
			ChannelID:         channel,
			TitleLocKey:       title.Key,
			TitleLocArgs:      title.Args,
			BodyLocKey:        body.Key,
			BodyLocArgs:       body.Args,
			NotificationCount: badge,
		},
	}
	apns := &messaging.APNSConfig{
		Headers: map[string]string{
			"apns-collapse-id": collapse,
			"apns-priority":    apnsPriority,
			"apns-push-type":   "alert",
		},
		Payload: &messaging.APNSPayload{Aps: &messaging.Aps{
			Alert: &messaging.ApsAlert{
				Title:        title.English,
				Body:         body.English,
				TitleLocKey:  title.Key,
				TitleLocArgs: title.Args,
				LocKey:       body.Key,
				LocArgs:      body.Args,
			},
			Badge:          badge,
			Sound:          "default",
			ThreadID:       collapse,
			Category:       n.cfg.APNSCategory,
			MutableContent: true,
		}},
	}
	web := &messaging.WebpushConfig{
		Headers: map[string]string{"Urgency": urgency, "TTL": strconv.Itoa(int(ttl / time.Second))},
		Notification: &messaging.WebpushNotification{
			Title:    title.English,
			Body:     body.English,
			Tag:      collapse,
			Renotify: true,
		},
	}
	switch d.platform {
	case model.PlatformAndroid:
		m.Android = android
	case model.PlatformIOS:
		m.APNS = apns
	case model.PlatformWeb:
		m.Webpush = web
	default: // an unknown platform: let FCM pick the block that applies
		m.Android, m.APNS = android, apns
	}
	return m
}
