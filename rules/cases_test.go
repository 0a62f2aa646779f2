package rules

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// caseGroup is a set of cases that share one project (and so one fixture).
type caseGroup struct {
	name  string
	cases []ruleCase
}

func caseGroups() []caseGroup {
	return []caseGroup{
		{"users", userCases()},
		{"private", privateCases()},
		{"presence", presenceCases()},
		{"rooms", roomCases()},
		{"messages", messageCases()},
		{"media", mediaCases()},
		{"edits", editCases()},
		{"typing", typingCases()},
		{"read counts", readCountCases()},
		{"rate limits", rateCases()},
		{"backend", backendCases()},
		{"revocation", revocationCases()},
		{"reactions", reactionCases()},
		{"safety", safetyCases()},
	}
}

type opFunc = func(ctx context.Context, c *firestore.Client) error
type setupFunc = func(ctx context.Context, db *firestore.Client) error

// get reads one document. NotFound counts as allowed: the rules let the read
// through and there was nothing to return.
func get(path string) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		_, err := c.Doc(path).Get(ctx)
		if firestoreerr.IsNotFound(err) {
			return nil
		}
		return err
	}
}

// query runs a list query.
func query(q func(c *firestore.Client) firestore.Query) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		_, err := q(c).Documents(ctx).GetAll()
		return err
	}
}

// sum runs a sum aggregation of field over q.
func sum(q func(c *firestore.Client) firestore.Query, field string) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		query := q(c)
		_, err := query.NewAggregationQuery().WithSum(field, "s").Get(ctx)
		return err
	}
}

func coll(path string) func(c *firestore.Client) firestore.Query {
	return func(c *firestore.Client) firestore.Query { return c.Collection(path).Query }
}

func group(id string) func(c *firestore.Client) firestore.Query {
	return func(c *firestore.Client) firestore.Query { return c.CollectionGroup(id).Query }
}

// set writes a whole document (create when it does not exist, as a mobile
// client's setDoc does).
func set(path string, data map[string]any) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		_, err := c.Doc(path).Set(ctx, data)
		return err
	}
}

// update changes fields of an existing document.
func update(path string, ups ...firestore.Update) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		_, err := c.Doc(path).Update(ctx, ups)
		return err
	}
}

func del(path string) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		_, err := c.Doc(path).Delete(ctx)
		return err
	}
}

// twice writes data to path two times back to back and returns the second
// write's result (the first must succeed).
func twice(path string, data map[string]any) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		if _, err := c.Doc(path).Set(ctx, data); err != nil {
			return fmt.Errorf("%w: first write: %v", errSetup, err)
		}
		_, err := c.Doc(path).Set(ctx, data)
		return err
	}
}

// put is a setup that writes data at path with the admin client.
func put(path string, data any) setupFunc {
	return func(ctx context.Context, db *firestore.Client) error {
		_, err := db.Doc(path).Set(ctx, data)
		return err
	}
}

// remove is a setup that deletes path with the admin client.
func remove(path string) setupFunc {
	return func(ctx context.Context, db *firestore.Client) error {
		_, err := db.Doc(path).Delete(ctx)
		return err
	}
}

func up(path string, v any) firestore.Update { return firestore.Update{Path: path, Value: v} }

// absent, as a value for with, removes the key.
var absent = &struct{}{}

// with returns a deep copy of m with the key/value pairs applied. A key with
// a dot addresses a nested map ("media.size"); the value absent removes it.
func with(m map[string]any, kv ...any) map[string]any {
	out := deepCopy(m)
	for i := 0; i < len(kv); i += 2 {
		key, v := kv[i].(string), kv[i+1]
		target := out
		parts := strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			target = target[p].(map[string]any)
		}
		if v == absent {
			delete(target, parts[len(parts)-1])
		} else {
			target[parts[len(parts)-1]] = v
		}
	}
	return out
}

func deepCopy(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range out {
		if sub, ok := v.(map[string]any); ok {
			out[k] = deepCopy(sub)
		}
	}
	return out
}

var (
	hourAgo     = time.Now().Add(-time.Hour)
	minuteAgo   = time.Now().Add(-time.Minute)
	inAnHour    = time.Now().Add(time.Hour)
	beforeFixed = t0.Add(-time.Hour) // before every fixture pointer
)

// ---- users/{uid} -------------------------------------------------------------

func profile(name string) map[string]any {
	return map[string]any{
		"displayName": name,
		"photoURL":    "https://cdn.example.com/p/1.png",
		"settings":    map[string]any{"readReceipts": true, "notificationPreviews": false},
		"createdAt":   firestore.ServerTimestamp,
	}
}

func userCases() []ruleCase {
	long := "https://cdn.example.com/"
	url2048 := long + strings.Repeat("a", model.MaxPhotoURLLen-len(long))
	// create: uid creates their own profile; denied unless allow is given.
	create := func(name, uid string, data map[string]any, allow ...bool) ruleCase {
		return ruleCase{name: name, as: uid, op: set(model.UserPath(uid), data), allow: len(allow) > 0 && allow[0]}
	}
	return []ruleCase{
		{name: "anyone signed in reads a profile", as: "bob", op: get("users/alice"), allow: true},
		{name: "unauthenticated reads a profile", op: get("users/alice")},
		{name: "listing all users (enumeration)", as: "bob", op: query(coll("users"))},
		{name: "admin lists users", as: "root", admin: true, op: query(coll("users")), allow: true},
		create("creates own profile", "u-ok", profile("Una"), true),
		create("creates a minimal profile", "u-min", map[string]any{"displayName": "Min", "createdAt": firestore.ServerTimestamp}, true),
		create("creates profile with empty settings and no photo", "u-empty", with(profile("E"), "photoURL", "", "settings", map[string]any{}), true),
		{name: "creates someone else's profile", as: "alice", op: set("users/zed", profile("Zed"))},
		{name: "unauthenticated creates a profile", op: set("users/nobody", profile("Nobody"))},
		create("uid outside the id pattern", "bad.uid", profile("Bad")),
		create("extra field role", "u-extra", with(profile("X"), "role", "admin")),
		create("displayName of 64 emoji", "u-64emoji", with(profile(strings.Repeat("😀", 64))), true),
		create("displayName of 65 emoji", "u-65emoji", with(profile(strings.Repeat("😀", 65)))),
		create("displayName of 64 ASCII", "u-64", with(profile(strings.Repeat("a", 64))), true),
		create("displayName of 65 ASCII", "u-65", with(profile(strings.Repeat("a", 65)))),
		create("displayName of 64 combining characters", "u-64comb", with(profile(strings.Repeat("e\u0301", 32))), true),
		create("displayName of 65 combining characters", "u-65comb", with(profile(strings.Repeat("e\u0301", 32)+"e"))),
		create("empty displayName", "u-noname", with(profile(""))),
		create("displayName with a newline", "u-nl", with(profile("a\nb"))),
		create("displayName with a bell", "u-bel", with(profile("a\x07b"))),
		// Invisible and bidi characters (model.InvisibleRunes), and the
		// joiners and selectors names need, which stay allowed.
		create("displayName with a right-to-left override", "u-rlo", with(profile("Eve\u202Egnp.exe"))),
		create("displayName with a bidi isolate", "u-rli", with(profile("Eve\u2067x\u2069"))),
		create("displayName with a zero width space", "u-zwsp", with(profile("ad\u200Bmin"))),
		create("displayName with a right-to-left mark", "u-rlm", with(profile("Eve\u200F"))),
		create("displayName with a byte order mark", "u-bom", with(profile("\uFEFFEve"))),
		create("displayName with a line separator", "u-lsep", with(profile("Eve\u2028Admin"))),
		create("displayName with a C1 control", "u-c1", with(profile("Eve\u0085"))),
		create("displayName with hidden tag characters", "u-tag", with(profile("Eve\U000E0041\U000E0042"))),
		create("displayName a Hangul filler", "u-blank", with(profile("\u3164"))),
		create("displayName with an emoji ZWJ sequence", "u-zwj", with(profile("\U0001F469\u200D\U0001F4BB Dev")), true),
		create("displayName with a zero width non-joiner (Persian)", "u-zwnj", with(profile("\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645")), true),
		create("displayName with a variation selector", "u-vs16", with(profile("\u2764\uFE0F Team")), true),
		create("displayName a number", "u-num", with(profile("x"), "displayName", 42)),
		create("displayName missing", "u-noname2", with(profile("x"), "displayName", absent)),
		create("createdAt spoofed from the client clock", "u-time", with(profile("T"), "createdAt", minuteAgo)),
		create("createdAt missing", "u-notime", with(profile("T"), "createdAt", absent)),
		create("settings.readReceipts a string", "u-set1", with(profile("S"), "settings.readReceipts", "yes")),
		create("settings.notificationPreviews a number", "u-set2", with(profile("S"), "settings.notificationPreviews", 1)),
		create("settings with an extra key", "u-set3", with(profile("S"), "settings.admin", true)),
		create("settings not a map", "u-set4", with(profile("S"), "settings", true)),
		create("photoURL over http", "u-http", with(profile("P"), "photoURL", "http://cdn.example.com/a.png")),
		create("photoURL with a space", "u-space", with(profile("P"), "photoURL", "https://cdn.example.com/a b.png")),
		create("photoURL with user info", "u-userinfo", with(profile("P"), "photoURL", "https://user@cdn.example.com/a.png")),
		create("photoURL javascript:", "u-js", with(profile("P"), "photoURL", "javascript:alert(1)")),
		create("photoURL a number", "u-urlnum", with(profile("P"), "photoURL", 7)),
		create("photoURL of 2048 characters", "u-2048", with(profile("P"), "photoURL", url2048), true),
		create("photoURL of 2049 characters", "u-2049", with(profile("P"), "photoURL", url2048+"a")),
		{name: "updates own displayName", as: "alice", op: update("users/alice", up("displayName", "Alice A."), up("displayNameChangedAt", firestore.ServerTimestamp)), allow: true},
		{name: "turns read receipts off", as: "bob", op: update("users/bob", up("settings.readReceipts", false)), allow: true},
		{name: "removes own photoURL", as: "carol", op: update("users/carol", up("photoURL", firestore.Delete)), allow: true},
		{name: "update to a 65-character name", as: "alice", op: update("users/alice", up("displayName", strings.Repeat("a", 65)))},
		{name: "update to a name with a right-to-left override", as: "alice", op: update("users/alice", up("displayName", "Alice\u202E"))},
		{name: "update rewrites createdAt", as: "alice", op: update("users/alice", up("createdAt", firestore.ServerTimestamp))},
		{name: "update adds banned", as: "alice", op: update("users/alice", up("banned", false))},
		{name: "updates someone else's profile", as: "bob", op: update("users/alice", up("displayName", "pwned"))},
		{name: "deletes own profile", as: "alice", op: del("users/alice")},
	}
}

// ---- users/{uid}/memberships, devices, inbox, private ---------------------

func privateCases() []ruleCase {
	mine := model.MembershipPath("alice", roomR1)
	reset := put(mine, model.Membership{LastReadAt: t0, LastReadMessageID: "m-bob", LastDeliveredAt: t0, Notifications: model.NotifyAll, MutedUntil: inAnHour})
	upd := func(name string, allow bool, ups ...firestore.Update) ruleCase {
		return ruleCase{name: name, as: "alice", setup: reset, op: update(mine, ups...), allow: allow}
	}
	return []ruleCase{
		{name: "owner reads own membership", as: "alice", op: get(mine), allow: true},
		{name: "member reads another's membership", as: "bob", op: get(mine)},
		{name: "unauthenticated reads a membership", op: get(mine)},
		{name: "admin reads a membership", as: "root", admin: true, op: get(mine), allow: true},
		{name: "owner lists own memberships", as: "alice", op: query(coll("users/alice/memberships")), allow: true},
		{name: "lists another's memberships", as: "bob", op: query(coll("users/alice/memberships"))},
		{name: "collection group memberships", as: "alice", op: query(group("memberships"))},
		{name: "collection group memberships filtered to a room", as: "bob", op: query(func(c *firestore.Client) firestore.Query {
			return c.CollectionGroup("memberships").Where("notifications", "==", "all")
		})},
		{name: "admin collection group memberships", as: "root", admin: true, op: query(group("memberships")), allow: true},
		upd("marks read up to now", true, up("lastReadAt", firestore.ServerTimestamp), up("lastReadMessageId", "m-alice")),
		upd("read pointer moves backwards", false, up("lastReadAt", beforeFixed)),
		upd("read pointer into the future", false, up("lastReadAt", inAnHour)),
		upd("read pointer a string", false, up("lastReadAt", "now")),
		upd("read pointer removed", false, up("lastReadAt", firestore.Delete)),
		upd("read pointer to a past time after the old one", true, up("lastReadAt", t0.Add(time.Minute))),
		upd("lastReadMessageId not an id", false, up("lastReadMessageId", "not an id")),
		upd("lastReadMessageId a number", false, up("lastReadMessageId", 5)),
		upd("delivery pointer to now", true, up("lastDeliveredAt", firestore.ServerTimestamp)),
		upd("delivery pointer backwards", false, up("lastDeliveredAt", beforeFixed)),
		upd("delivery pointer into the future", false, up("lastDeliveredAt", inAnHour)),
		upd("notifications to mentions", true, up("notifications", "mentions")),
		upd("notifications to an unknown level", false, up("notifications", "loud")),
		upd("mutes until tomorrow", true, up("mutedUntil", time.Now().Add(24*time.Hour))),
		upd("unmutes", true, up("mutedUntil", firestore.Delete)),
		upd("mutedUntil a string", false, up("mutedUntil", "tomorrow")),
		upd("adds a role field", false, up("role", "admin")),
		upd("turns on its own readReceipts key (Hearth's)", false, up("readReceipts", true)),
		upd("sets its own roomId key (Hearth's)", false, up("roomId", roomR2)),
		{name: "collection group memberships of a room by roomId", as: "bob", op: query(func(c *firestore.Client) firestore.Query {
			return c.CollectionGroup("memberships").Where("roomId", "==", roomR1)
		})},
		upd("adds lastReadAt and a foreign field", false, up("lastReadAt", firestore.ServerTimestamp), up("unreadCount", 0)),
		{name: "sets a first delivery pointer", as: "bob", op: update(model.MembershipPath("bob", roomR1), up("lastDeliveredAt", firestore.ServerTimestamp)), allow: true},
		{name: "changes notifications without a delivery pointer", as: "bob", setup: put(model.MembershipPath("bob", roomR1), model.Membership{LastReadAt: t0, Notifications: model.NotifyAll}),
			op: update(model.MembershipPath("bob", roomR1), up("notifications", "none")), allow: true},
		{name: "creates a membership (joining behind Hearth's back)", as: "alice", op: set(model.MembershipPath("alice", roomR2), map[string]any{"notifications": "all"})},
		{name: "deletes own membership", as: "alice", op: del(mine)},
		{name: "updates another's membership", as: "bob", setup: reset, op: update(mine, up("lastReadAt", firestore.ServerTimestamp))},
		{name: "owner reads own device", as: "alice", op: get("users/alice/devices/phone"), allow: true},
		{name: "reads another's device token", as: "bob", op: get("users/alice/devices/phone")},
		{name: "owner lists own devices", as: "alice", op: query(coll("users/alice/devices")), allow: true},
		{name: "lists another's devices", as: "bob", op: query(coll("users/alice/devices"))},
		{name: "collection group devices", as: "bob", op: query(group("devices"))},
		{name: "registers a device directly", as: "alice", op: set("users/alice/devices/tablet", map[string]any{"token": "t", "platform": "ios"})},
		{name: "owner lists own inbox by lastMessageAt", as: "alice", op: query(func(c *firestore.Client) firestore.Query {
			return c.Collection("users/alice/inbox").OrderBy("lastMessageAt", firestore.Desc)
		}), allow: true},
		{name: "reads another's inbox", as: "bob", op: query(coll("users/alice/inbox"))},
		{name: "reads another's inbox entry", as: "bob", op: get(model.InboxEntryPath("alice", roomR1))},
		{name: "collection group inbox", as: "bob", op: query(group("inbox"))},
		{name: "zeroes own unread count", as: "alice", op: update(model.InboxEntryPath("alice", roomR1), up("unreadCount", 0))},
		{name: "owner sums own inbox (the badge)", as: "alice", op: sum(coll("users/alice/inbox"), "unreadCount"), allow: true},
		{name: "sums another's inbox", as: "bob", op: sum(coll("users/alice/inbox"), "unreadCount")},
		{name: "sums every inbox", as: "bob", op: sum(group("inbox"), "unreadCount")},
		{name: "owner reads own stale counters", as: "alice", op: get(model.CountersPath("alice"))},
		{name: "reads another's counters", as: "bob", op: get(model.CountersPath("alice"))},
		{name: "writes own counters", as: "alice", op: set(model.CountersPath("alice"), map[string]any{"unreadTotal": 0})},
		{name: "reads an unknown private doc", as: "alice", op: get("users/alice/private/other")},
		{name: "reads an unknown subcollection", as: "alice", op: get("users/alice/secrets/x")},
	}
}

// ---- presence/{uid} ----------------------------------------------------------

func presence(state string) map[string]any {
	return map[string]any{"state": state, "heartbeatAt": firestore.ServerTimestamp}
}

func presenceCases() []ruleCase {
	return []ruleCase{
		{name: "owner reads own presence", as: "alice", op: get("presence/alice"), allow: true},
		{name: "reads another's presence", as: "bob", op: get("presence/alice")},
		{name: "unauthenticated reads presence", op: get("presence/alice")},
		{name: "admin reads presence", as: "root", admin: true, op: get("presence/alice"), allow: true},
		{name: "lists presence", as: "bob", op: query(coll("presence"))},
		{name: "heartbeat", as: "alice", op: set("presence/alice", presence("online")), allow: true},
		{name: "goes away", as: "alice", setup: put("presence/alice", model.Presence{State: model.PresenceOnline, HeartbeatAt: t0, ActiveRoomID: roomR1}), op: update("presence/alice", up("state", "away"), up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", firestore.ServerTimestamp)), allow: true},
		{name: "first presence", as: "carol", op: set("presence/carol", presence("online")), allow: true},
		{name: "first presence viewing a room", as: "bob", op: set("presence/bob", with(presence("online"), "activeRoomId", roomR1)), allow: true},
		{name: "first presence with lastSeen", as: "dave", op: set("presence/dave", with(presence("offline"), "lastSeen", firestore.ServerTimestamp))},
		{name: "writes presence for someone else", as: "bob", op: set("presence/alice", presence("offline"))},
		{name: "unauthenticated writes presence", op: set("presence/alice", presence("online"))},
		{name: "unknown state", as: "alice", op: set("presence/alice", presence("invisible"))},
		{name: "state missing", as: "alice", op: set("presence/alice", with(presence("online"), "state", absent))},
		{name: "old heartbeat", as: "alice", op: set("presence/alice", with(presence("online"), "heartbeatAt", hourAgo))},
		{name: "future heartbeat", as: "alice", op: set("presence/alice", with(presence("online"), "heartbeatAt", inAnHour))},
		{name: "state change without a heartbeat", as: "alice", op: update("presence/alice", up("state", "away"))},
		{name: "views a room of theirs", as: "alice", setup: put("presence/alice", model.Presence{State: model.PresenceOnline, HeartbeatAt: t0, ActiveRoomID: roomR1}),
			op: set("presence/alice", with(presence("online"), "activeRoomId", roomDM)), allow: true},
		{name: "views a room they are not in", as: "alice", op: set("presence/alice", with(presence("online"), "activeRoomId", roomR2))},
		{name: "views a room they were banned from", as: "dave", op: set("presence/dave", with(presence("online"), "activeRoomId", roomR1))},
		{name: "activeRoomId not a room id", as: "alice", op: set("presence/alice", with(presence("online"), "activeRoomId", "a_b"))},
		{name: "activeRoomId a number", as: "alice", op: set("presence/alice", with(presence("online"), "activeRoomId", 1))},
		{name: "heartbeat keeps a room left meanwhile", as: "frank", op: update("presence/frank", up("heartbeatAt", firestore.ServerTimestamp)), allow: true},
		{name: "writes lastSeen", as: "alice", op: update("presence/alice", up("heartbeatAt", firestore.ServerTimestamp), up("lastSeen", firestore.ServerTimestamp))},
		{name: "full set drops Hearth's lastSeen", as: "alice", setup: put("presence/alice", map[string]any{"state": "offline", "heartbeatAt": hourAgo, "lastSeen": hourAgo}),
			op: set("presence/alice", with(presence("online"), "stateChangedAt", firestore.ServerTimestamp)), allow: true},
		{name: "heartbeat keeps Hearth's lastSeen", as: "alice", setup: put("presence/alice", map[string]any{"state": "offline", "heartbeatAt": hourAgo, "lastSeen": hourAgo}),
			op: update("presence/alice", up("state", "online"), up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", firestore.ServerTimestamp)), allow: true},
		{name: "changes Hearth's lastSeen", as: "alice", setup: put("presence/alice", map[string]any{"state": "offline", "heartbeatAt": hourAgo, "lastSeen": hourAgo}),
			op: set("presence/alice", with(presence("online"), "lastSeen", minuteAgo))},
		{name: "extra field", as: "alice", op: set("presence/alice", with(presence("online"), "device", "ios"))},
		{name: "deletes own presence", as: "alice", op: del("presence/alice")},
	}
}

// ---- rooms and members --------------------------------------------------------

func roomCases() []ruleCase {
	r1 := model.RoomPath(roomR1)
	byMember := func(uid string) func(c *firestore.Client) firestore.Query {
		return func(c *firestore.Client) firestore.Query {
			return c.Collection("rooms").Where(model.FieldMemberIDs, "array-contains", uid)
		}
	}
	roster := func(c *firestore.Client) firestore.Query {
		return c.Collection(model.MembersCollectionPath(roomR1)).Where("banned", "==", false)
	}
	return []ruleCase{
		{name: "member reads the room", as: "alice", op: get(r1), allow: true},
		{name: "member reads the direct room", as: "bob", op: get(model.RoomPath(roomDM)), allow: true},
		{name: "non-member reads the room", as: "carol", op: get(r1)},
		{name: "banned user reads the room", as: "dave", op: get(r1)},
		{name: "unauthenticated reads the room", op: get(r1)},
		{name: "reads a room that does not exist", as: "alice", op: get("rooms/nope")},
		{name: "admin reads the room", as: "root", admin: true, op: get(r1), allow: true},
		{name: "lists own rooms", as: "alice", op: query(byMember("alice")), allow: true},
		{name: "lists own rooms by last message", as: "bob", op: query(func(c *firestore.Client) firestore.Query {
			return byMember("bob")(c).OrderBy("lastMessageAt", firestore.Desc)
		}), allow: true},
		{name: "lists another user's rooms", as: "alice", op: query(byMember("carol"))},
		{name: "lists all rooms", as: "alice", op: query(coll("rooms"))},
		{name: "lists rooms by title", as: "alice", op: query(func(c *firestore.Client) firestore.Query {
			return c.Collection("rooms").Where("title", "==", "Other")
		})},
		{name: "admin lists all rooms", as: "root", admin: true, op: query(coll("rooms")), allow: true},
		{name: "creates a room", as: "alice", op: set("rooms/mine", map[string]any{"type": "group", "title": "Mine", model.FieldMemberIDs: []any{"alice"}})},
		{name: "adds someone to memberIds", as: "alice", op: update(r1, up(model.FieldMemberIDs, firestore.ArrayUnion("carol")))},
		{name: "adds self to a room", as: "carol", op: update(r1, up(model.FieldMemberIDs, firestore.ArrayUnion("carol")))},
		{name: "owner renames the room directly", as: "alice", op: update(r1, up("title", "Renamed"))},
		{name: "owner deletes the room", as: "alice", op: del(r1)},
		{name: "admin updates a room directly", as: "root", admin: true, op: update(r1, up("archived", true))},
		{name: "member reads a member doc", as: "alice", op: get(model.MemberPath(roomR1, "bob")), allow: true},
		{name: "member reads the roster", as: "bob", op: query(roster), allow: true},
		{name: "non-member reads the roster", as: "carol", op: query(roster)},
		{name: "banned user reads the roster", as: "dave", op: query(roster)},
		{name: "unauthenticated reads a member doc", op: get(model.MemberPath(roomR1, "bob"))},
		{name: "raises own role to owner", as: "bob", op: update(model.MemberPath(roomR1, "bob"), up("role", "owner"))},
		{name: "fakes own read receipt", as: "bob", op: update(model.MemberPath(roomR1, "bob"), up("readAt", firestore.ServerTimestamp))},
		{name: "adds a member doc for a friend", as: "bob", op: set(model.MemberPath(roomR1, "carol"), map[string]any{"role": "member"})},
		{name: "adds a member doc for self", as: "carol", op: set(model.MemberPath(roomR1, "carol"), map[string]any{"role": "owner"})},
		{name: "banned user unbans self", as: "dave", op: update(model.MemberPath(roomR1, "dave"), up("banned", false))},
		{name: "owner removes a member doc", as: "alice", op: del(model.MemberPath(roomR1, "bob"))},
		{name: "collection group members", as: "alice", op: query(group("members"))},
		{name: "collection group members not banned", as: "alice", op: query(func(c *firestore.Client) firestore.Query {
			return c.CollectionGroup("members").Where("banned", "==", false)
		})},
		{name: "admin collection group members", as: "root", admin: true, op: query(group("members")), allow: true},
	}
}

// ---- messages: create ----------------------------------------------------------

func textMsg(sender, text string) map[string]any {
	return map[string]any{"senderId": sender, "type": "text", "text": text, "createdAt": firestore.ServerTimestamp}
}

// msgPaths returns a function that makes a fresh message path in a room on
// each call (prefix keeps groups apart).
func msgPaths(prefix string) func(room string) string {
	seq := 0
	return func(room string) string {
		seq++
		return model.MessagePath(room, fmt.Sprintf("%s%03d", prefix, seq))
	}
}

func messageCases() []ruleCase {
	newMsg := msgPaths("c")
	post := func(name, as, room string, data map[string]any, allow bool) ruleCase {
		return ruleCase{name: name, as: as, op: set(newMsg(room), data), allow: allow}
	}
	n := model.MaxTextLen
	family := "👨‍👩‍👧" // 5 code points, 8 UTF-16 units
	mentions := func(k int) []any {
		var out []any
		for i := 1; i <= k; i++ {
			out = append(out, fmt.Sprintf("m%02d", i))
		}
		return out
	}
	history := func(c *firestore.Client) firestore.Query {
		return c.Collection(model.MessagesCollectionPath(roomR1)).OrderBy("createdAt", firestore.Desc).Limit(50)
	}
	return []ruleCase{
		{name: "member reads a message", as: "bob", op: get(model.MessagePath(roomR1, "m-alice")), allow: true},
		{name: "member pages the history", as: "alice", op: query(func(c *firestore.Client) firestore.Query {
			return history(c).StartAfter(time.Now())
		}), allow: true},
		{name: "non-member reads the history", as: "carol", op: query(history)},
		{name: "banned user reads the history", as: "dave", op: query(history)},
		{name: "unauthenticated reads a message", op: get(model.MessagePath(roomR1, "m-alice"))},
		{name: "reads a message of another room", as: "alice", op: get(model.MessagePath(roomR2, "m-carol"))},
		{name: "admin reads the history", as: "root", admin: true, op: query(history), allow: true},
		{name: "collection group messages", as: "alice", op: query(group("messages"))},
		{name: "collection group messages of a sender", as: "bob", op: query(func(c *firestore.Client) firestore.Query {
			return c.CollectionGroup("messages").Where("senderId", "==", "carol")
		})},
		{name: "admin collection group messages", as: "root", admin: true, op: query(group("messages")), allow: true},
		post("posts a text", "alice", roomR1, textMsg("alice", "hello"), true),
		post("posts in the direct room", "bob", roomDM, textMsg("bob", "hey"), true),
		post("posts a multi-line text", "alice", roomR1, textMsg("alice", "line 1\nline 2"), true),
		post(fmt.Sprintf("text of %d ASCII", n), "alice", roomR1, textMsg("alice", strings.Repeat("a", n)), true),
		post(fmt.Sprintf("text of %d ASCII", n+1), "alice", roomR1, textMsg("alice", strings.Repeat("a", n+1)), false),
		post(fmt.Sprintf("text of %d emoji", n), "alice", roomR1, textMsg("alice", strings.Repeat("😀", n)), true),
		post(fmt.Sprintf("text of %d emoji", n+1), "alice", roomR1, textMsg("alice", strings.Repeat("😀", n+1)), false),
		post(fmt.Sprintf("text of %d CJK", n), "alice", roomR1, textMsg("alice", strings.Repeat("語", n)), true),
		post(fmt.Sprintf("text of %d CJK", n+1), "alice", roomR1, textMsg("alice", strings.Repeat("語", n+1)), false),
		post("text of MaxTextLen code points, more UTF-16 units", "alice", roomR1, textMsg("alice", strings.Repeat("a", n-5)+family), true),
		post("text of MaxTextLen+1 code points with a ZWJ family", "alice", roomR1, textMsg("alice", strings.Repeat("a", n-4)+family), false),
		post("empty text", "alice", roomR1, textMsg("alice", ""), false),
		post("text a number", "alice", roomR1, with(textMsg("alice", ""), "text", 42), false),
		post("text missing", "alice", roomR1, with(textMsg("alice", ""), "text", absent), false),
		post("forged senderId", "alice", roomR1, textMsg("bob", "I am bob"), false),
		post("senderId missing", "alice", roomR1, with(textMsg("alice", "x"), "senderId", absent), false),
		post("createdAt spoofed from the client clock", "alice", roomR1, with(textMsg("alice", "x"), "createdAt", minuteAgo), false),
		post("createdAt in the future", "alice", roomR1, with(textMsg("alice", "x"), "createdAt", inAnHour), false),
		post("createdAt missing", "alice", roomR1, with(textMsg("alice", "x"), "createdAt", absent), false),
		post("type system", "alice", roomR1, with(textMsg("alice", "alice joined"), "type", "system"), false),
		post("unknown type", "alice", roomR1, with(textMsg("alice", "x"), "type", "poll"), false),
		post("type a number", "alice", roomR1, with(textMsg("alice", "x"), "type", 1), false),
		post("extra field pinned", "alice", roomR1, with(textMsg("alice", "x"), "pinned", true), false),
		post("created already edited", "alice", roomR1, with(textMsg("alice", "x"), "editedAt", firestore.ServerTimestamp), false),
		post("created as deleted", "alice", roomR1, with(textMsg("alice", ""), "deletedAt", firestore.ServerTimestamp, "deletedBy", "alice"), false),
		post("non-member posts", "carol", roomR1, textMsg("carol", "let me in"), false),
		post("banned member posts", "dave", roomR1, textMsg("dave", "I'm back"), false),
		{name: "unauthenticated posts", op: set(newMsg(roomR1), textMsg("", "anon"))},
		post("posts into a room that does not exist", "alice", "nope", textMsg("alice", "x"), false),
		post("posts into an archived room", "alice", roomArch, textMsg("alice", "x"), false),
		{name: "message id outside the id pattern", as: "alice", op: set(model.MessagePath(roomR1, "bad.id"), textMsg("alice", "x"))},
		post("mentions a member", "alice", roomR1, with(textMsg("alice", "@bob"), "mentions", []any{"bob"}), true),
		post("mentions a non-member", "alice", roomR1, with(textMsg("alice", "@carol"), "mentions", []any{"carol"}), false),
		post("mentions twice", "alice", roomR1, with(textMsg("alice", "@bob @bob"), "mentions", []any{"bob", "bob"}), false),
		post("mentions a string", "alice", roomR1, with(textMsg("alice", "@bob"), "mentions", "bob"), false),
		post(fmt.Sprintf("mentions %d", model.MaxMentions), "alice", roomBig, with(textMsg("alice", "all"), "mentions", mentions(model.MaxMentions)), true),
		post(fmt.Sprintf("mentions %d", model.MaxMentions+1), "alice", roomBig, with(textMsg("alice", "all"), "mentions", mentions(model.MaxMentions+1)), false),
		post("replies to a message", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "m-bob"), true),
		{name: "replies to itself", as: "alice", op: set(model.MessagePath(roomR1, "self"), with(textMsg("alice", "re"), "replyTo", "self"))},
		post("replyTo not an id", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "../m-bob"), false),
		post("replyTo a reserved id", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "__x__"), false),
		post("replyTo a number", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", 3), false),
		post("replies to a message of a banned member", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "m-dave"), true),
		{name: "replies in the direct room", as: "bob",
			setup: put(model.MessagePath(roomDM, "dm-1"), model.Message{SenderID: "alice", Type: model.MessageText, Text: "hi bob", CreatedAt: t0}),
			op:    set(newMsg(roomDM), with(textMsg("bob", "re"), "replyTo", "dm-1")), allow: true},
		{name: "replies to a tombstone", as: "bob",
			setup: put(model.MessagePath(roomR1, "gone-1"), model.Message{SenderID: "alice", Type: model.MessageText, CreatedAt: t0, DeletedAt: t0, DeletedBy: "alice"}),
			op:    set(newMsg(roomR1), with(textMsg("bob", "re"), "replyTo", "gone-1")), allow: true},
		post("replies to a message that does not exist", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "m-nobody"), false),
		post("replies to a message of another room of the sender", "bob", roomR1, with(textMsg("bob", "re"), "replyTo", "m-carol"), false),
		post("replies to a message the sender cannot read", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "m-carol"), false),
		post("replies in the direct room to a group message", "alice", roomDM, with(textMsg("alice", "re"), "replyTo", "m-bob"), false),
		post("replies into another room's message from its own room", "carol", roomR2, with(textMsg("carol", "re"), "replyTo", "m-alice"), false),
		post("writes its own replyPreview", "alice", roomR1, with(textMsg("alice", "re"), "replyTo", "m-bob",
			"replyPreview", map[string]any{"id": "m-bob", "senderId": "bob", "type": "text", "text": "forged"}), false),
		post("text message with media", "alice", roomR1, with(textMsg("alice", "x"), "media", imageMedia(roomR1, "alice")), false),
	}
}

// ---- messages: media -----------------------------------------------------------

func imageMedia(room, sender string) map[string]any {
	return map[string]any{
		"path": model.MediaObjectPath(room, sender, "obj1", "jpg"), "contentType": "image/jpeg",
		"size": 1000, "width": 640, "height": 480, "status": "pending",
	}
}

func mediaMsg(sender, typ string, media map[string]any) map[string]any {
	return map[string]any{"senderId": sender, "type": typ, "text": "", "createdAt": firestore.ServerTimestamp, "media": media}
}

func mediaCases() []ruleCase {
	img := mediaMsg("alice", "image", imageMedia(roomR1, "alice"))
	newMsg := msgPaths("md")
	post := func(name string, data map[string]any, allow bool) ruleCase {
		return ruleCase{name: name, as: "alice", op: set(newMsg(roomR1), data), allow: allow}
	}
	kind := func(typ, contentType, ext string, size int64) map[string]any {
		return mediaMsg("alice", typ, map[string]any{
			"path": model.MediaObjectPath(roomR1, "alice", "obj2", ext), "contentType": contentType, "size": size, "status": "pending",
		})
	}
	return []ruleCase{
		post("image with empty caption", img, true),
		post("image with a caption", with(img, "text", "look"), true),
		post(fmt.Sprintf("image caption of %d characters", model.MaxTextLen+1), with(img, "text", strings.Repeat("a", model.MaxTextLen+1)), false),
		post("image without media", with(img, "media", absent), false),
		post("media not a map", with(img, "media", "media/r1/alice/obj1.jpg"), false),
		post("media already ready", with(img, "media.status", "ready"), false),
		post("media status missing", with(img, "media.status", absent), false),
		post("media with a thumbnailPath", with(img, "media.thumbnailPath", "thumbs/r1/alice/obj1.jpg"), false),
		post("media with an extra key", with(img, "media.url", "https://evil.example.com/x.jpg"), false),
		post("media path in another user's folder", with(img, "media.path", model.MediaObjectPath(roomR1, "bob", "obj1", "jpg")), false),
		post("media path in another room", with(img, "media.path", model.MediaObjectPath(roomR2, "alice", "obj1", "jpg")), false),
		post("media path outside media/", with(img, "media.path", "thumbs/r1/alice/obj1.jpg"), false),
		post("media path with an extra segment", with(img, "media.path", "media/r1/alice/x/obj1.jpg"), false),
		post("media path without extension", with(img, "media.path", "media/r1/alice/obj1"), false),
		post("media path with two extensions", with(img, "media.path", "media/r1/alice/obj1.jpg.exe"), false),
		post("media path with a reserved id", with(img, "media.path", "media/r1/alice/__obj__.jpg"), false),
		post("media path a number", with(img, "media.path", 1), false),
		post("extension of another content type", with(img, "media.path", model.MediaObjectPath(roomR1, "alice", "obj1", "png")), false),
		post("png image", with(img, "media.contentType", "image/png", "media.path", model.MediaObjectPath(roomR1, "alice", "obj1", "png")), true),
		post("content type not allowed", with(img, "media.contentType", "image/svg+xml"), false),
		post("video content type on an image", with(img, "media.contentType", "video/mp4", "media.path", model.MediaObjectPath(roomR1, "alice", "obj1", "mp4")), false),
		post("image of MaxImageSize", kind("image", "image/png", "png", model.MaxImageSize), true),
		post("image of MaxImageSize+1", kind("image", "image/png", "png", model.MaxImageSize+1), false),
		post("video of MaxVideoSize", kind("video", "video/quicktime", "mov", model.MaxVideoSize), true),
		post("video of MaxVideoSize+1", kind("video", "video/quicktime", "mov", model.MaxVideoSize+1), false),
		post("audio of MaxAudioSize with a duration", with(kind("audio", "audio/mpeg", "mp3", model.MaxAudioSize), "media.durationMs", 61000), true),
		post("audio of MaxAudioSize+1", kind("audio", "audio/mpeg", "mp3", model.MaxAudioSize+1), false),
		post("file of MaxFileSize", kind("file", "application/pdf", "pdf", model.MaxFileSize), true),
		post("file of MaxFileSize+1", kind("file", "application/pdf", "pdf", model.MaxFileSize+1), false),
		post("size zero", with(img, "media.size", 0), false),
		post("size a string", with(img, "media.size", "1000"), false),
		post("size a float", with(img, "media.size", 1000.5), false),
		post("negative width", with(img, "media.width", -1), false),
		post("width a string", with(img, "media.width", "640"), false),
		post("negative height", with(img, "media.height", -480), false),
		post("height a string", with(img, "media.height", "480"), false),
		post("negative duration", with(kind("audio", "audio/ogg", "ogg", 10), "media.durationMs", -5), false),
		post("duration a string", with(kind("audio", "audio/ogg", "ogg", 10), "media.durationMs", "5s"), false),
		post("image of another sender", mediaMsg("bob", "image", imageMedia(roomR1, "bob")), false),
	}
}

// ---- messages: edits and deletes ---------------------------------------------------

func editCases() []ruleCase {
	seq := 0
	// own seeds a fresh message of alice in room (with a mention, and media
	// for an image) and returns its path and the setup.
	own := func(room, typ string) (string, setupFunc) {
		seq++
		path := model.MessagePath(room, fmt.Sprintf("e%03d", seq))
		m := model.Message{SenderID: "alice", Type: model.MessageType(typ), Text: "original", Mentions: []string{"bob"}, CreatedAt: t0}
		if typ == "image" {
			m.Text = ""
			m.Mentions = nil
			m.Media = &model.Media{Path: model.MediaObjectPath(room, "alice", "o1", "jpg"), ContentType: "image/jpeg", Size: 10, Status: model.MediaPending}
		}
		return path, put(path, m)
	}
	edit := func(name, as string, allow bool, ups ...firestore.Update) ruleCase {
		path, setup := own(roomR1, "text")
		return ruleCase{name: name, as: as, setup: setup, op: update(path, ups...), allow: allow}
	}
	// tombstone is the update that soft-deletes a message, with some fields
	// replaced by over.
	tombstone := func(by string, over ...firestore.Update) []firestore.Update {
		ups := []firestore.Update{
			up("text", ""), up("mentions", firestore.Delete), up("media", firestore.Delete),
			up("deletedAt", firestore.ServerTimestamp), up("deletedBy", by),
		}
		for _, o := range over {
			for i := range ups {
				if ups[i].Path == o.Path {
					ups[i] = o
				}
			}
		}
		return ups
	}
	editedNow := up("editedAt", firestore.ServerTimestamp)
	deletedPath, deletedSetup := own(roomR1, "text")
	imagePath, imageSetup := own(roomR1, "image")
	imagePath2, imageSetup2 := own(roomR1, "image")
	archPath, archSetup := own(roomArch, "text")
	return []ruleCase{
		edit("edits own text", "alice", true, up("text", "fixed"), editedNow),
		edit("edits own text to MaxTextLen emoji", "alice", true, up("text", strings.Repeat("😀", model.MaxTextLen)), editedNow),
		edit("edits own text to MaxTextLen+1", "alice", false, up("text", strings.Repeat("a", model.MaxTextLen+1)), editedNow),
		edit("edits own text to empty", "alice", false, up("text", ""), editedNow),
		edit("edits without editedAt", "alice", false, up("text", "fixed")),
		edit("edits with a spoofed editedAt", "alice", false, up("text", "fixed"), up("editedAt", minuteAgo)),
		edit("edits another's message", "bob", false, up("text", "fixed"), editedNow),
		edit("unauthenticated edits", "", false, up("text", "fixed"), editedNow),
		edit("changes senderId", "alice", false, up("senderId", "bob")),
		edit("changes senderId while editing", "alice", false, up("text", "fixed"), editedNow, up("senderId", "bob")),
		edit("moves createdAt", "alice", false, up("createdAt", firestore.ServerTimestamp)),
		edit("changes type to system", "alice", false, up("type", "system")),
		edit("edits mentions", "alice", false, up("mentions", []any{}), up("text", "x"), editedNow),
		edit("adds an extra field", "alice", false, up("pinned", true)),
		edit("adds a replyTo", "alice", false, up("replyTo", "m-bob")),
		edit("writes a replyPreview while editing", "alice", false, up("text", "x"), editedNow,
			up("replyPreview", map[string]any{"id": "m-bob", "senderId": "bob", "type": "text", "text": "forged"})),
		edit("deletes own message (tombstone)", "alice", true, tombstone("alice")...),
		edit("tombstone blaming someone else", "alice", false, tombstone("bob")...),
		edit("tombstone keeping the text", "alice", false, tombstone("alice", up("text", "still here"))...),
		edit("tombstone keeping the mentions", "alice", false,
			up("text", ""), up("deletedAt", firestore.ServerTimestamp), up("deletedBy", "alice")),
		edit("tombstone with a spoofed deletedAt", "alice", false, tombstone("alice", up("deletedAt", minuteAgo))...),
		edit("tombstone without deletedBy", "alice", false, up("text", ""), up("mentions", firestore.Delete), up("deletedAt", firestore.ServerTimestamp)),
		edit("deletes another's message", "bob", false, tombstone("bob")...),
		{name: "tombstone of a media message", as: "alice", setup: imageSetup, op: update(imagePath, tombstone("alice")...), allow: true},
		{name: "tombstone keeping the media", as: "alice", setup: imageSetup2, op: update(imagePath2,
			up("deletedAt", firestore.ServerTimestamp), up("deletedBy", "alice"))},
		{name: "edits a caption", as: "alice", setup: imageSetup2, op: update(imagePath2, up("text", "caption"), editedNow), allow: true},
		{name: "marks own media ready", as: "alice", setup: imageSetup2, op: update(imagePath2, up("media.status", "ready"))},
		{name: "swaps own media path", as: "alice", setup: imageSetup2, op: update(imagePath2, up("media.path", model.MediaObjectPath(roomR1, "bob", "o9", "jpg")))},
		{name: "edits a deleted message", as: "alice", setup: chain(deletedSetup, tombstoned(deletedPath)), op: update(deletedPath, up("text", "back"), editedNow)},
		{name: "undeletes a message", as: "alice", setup: chain(deletedSetup, tombstoned(deletedPath)), op: update(deletedPath, up("deletedAt", firestore.Delete), up("deletedBy", firestore.Delete))},
		{name: "edits a system message under own name", as: "alice", setup: put(model.MessagePath(roomR1, "sys1"),
			model.Message{SenderID: "alice", Type: model.MessageSystem, Text: "alice added bob", CreatedAt: t0}),
			op: update(model.MessagePath(roomR1, "sys1"), up("text", "alice made bob owner"), editedNow)},
		{name: "hard-deletes own message", as: "alice", op: del(model.MessagePath(roomR1, "m-alice"))},
		{name: "banned member edits an old message", as: "dave", op: update(model.MessagePath(roomR1, "m-dave"), up("text", "edited"), editedNow)},
		{name: "banned member deletes an old message", as: "dave", op: update(model.MessagePath(roomR1, "m-dave"), tombstone("dave")...)},
		{name: "edits in an archived room", as: "alice", setup: archSetup, op: update(archPath, up("text", "x"), editedNow)},
		{name: "admin redacts directly", as: "root", admin: true, op: update(model.MessagePath(roomR1, "m-bob"), tombstone("root")...)},
	}
}

func chain(fs ...setupFunc) setupFunc {
	return func(ctx context.Context, db *firestore.Client) error {
		for _, f := range fs {
			if err := f(ctx, db); err != nil {
				return err
			}
		}
		return nil
	}
}

// tombstoned turns the message at path into a tombstone.
func tombstoned(path string) setupFunc {
	return func(ctx context.Context, db *firestore.Client) error {
		_, err := db.Doc(path).Update(ctx, []firestore.Update{
			up("text", ""), up("mentions", firestore.Delete), up("deletedAt", t0), up("deletedBy", "alice"),
		})
		return err
	}
}

// ---- typing ------------------------------------------------------------------------

func typingCases() []ruleCase {
	mine := model.TypingPath(roomR1, "alice")
	typing := map[string]any{"typing": true, "updatedAt": firestore.ServerTimestamp}
	stale := put(mine, model.Typing{Typing: true, UpdatedAt: minuteAgo})
	return []ruleCase{
		{name: "member sees who is typing", as: "alice", op: query(coll(model.TypingCollectionPath(roomR1))), allow: true},
		{name: "member reads a typing doc", as: "alice", op: get(model.TypingPath(roomR1, "bob")), allow: true},
		{name: "non-member sees who is typing", as: "carol", op: query(coll(model.TypingCollectionPath(roomR1)))},
		{name: "starts typing", as: "alice", setup: remove(mine), op: set(mine, typing), allow: true},
		{name: "types again after the interval", as: "alice", setup: stale, op: set(mine, with(typing, "typing", false)), allow: true},
		{name: "types twice within the interval", as: "alice", setup: remove(mine), op: twice(mine, typing)},
		{name: "updates twice within the interval", as: "alice", setup: stale, op: twice(mine, typing)},
		{name: "writes another's typing doc", as: "bob", setup: stale, op: set(mine, typing)},
		{name: "non-member types", as: "carol", op: set(model.TypingPath(roomR1, "carol"), typing)},
		{name: "banned member types", as: "dave", op: set(model.TypingPath(roomR1, "dave"), typing)},
		{name: "unauthenticated types", op: set(mine, typing)},
		{name: "types in an archived room", as: "alice", op: set(model.TypingPath(roomArch, "alice"), typing)},
		{name: "keeps typing in a room that got archived", as: "alice", setup: put(model.TypingPath(roomArch, "alice"), model.Typing{Typing: true, UpdatedAt: minuteAgo}),
			op: set(model.TypingPath(roomArch, "alice"), typing)},
		{name: "typing a string", as: "alice", setup: stale, op: set(mine, with(typing, "typing", "yes"))},
		{name: "typing missing", as: "alice", setup: stale, op: set(mine, with(typing, "typing", absent))},
		{name: "updatedAt spoofed", as: "alice", setup: stale, op: set(mine, with(typing, "updatedAt", time.Now()))},
		{name: "extra field", as: "alice", setup: stale, op: set(mine, with(typing, "text", "what I am typing"))},
		{name: "deletes own typing doc", as: "alice", setup: stale, op: del(mine)},
		{name: "starts typing in a large room", as: "alice", setup: remove(model.TypingPath(roomLg, "alice")),
			op: set(model.TypingPath(roomLg, "alice"), typing)},
		{name: "keeps typing in a room that became large", as: "alice", setup: put(model.TypingPath(roomLg, "alice"), model.Typing{Typing: true, UpdatedAt: minuteAgo}),
			op: set(model.TypingPath(roomLg, "alice"), with(typing, "typing", false))},
		{name: "writes another's typing doc in a large room", as: "bob", op: set(model.TypingPath(roomLg, "alice"), typing)},
	}
}

// ---- rooms/{roomId}/readCounts ------------------------------------------------------

func readCountCases() []ruleCase {
	rc := model.ReadCountPath(roomLg)
	return []ruleCase{
		{name: "member reads the room's read count", as: "bob", op: get(rc), allow: true},
		{name: "member lists the room's read counts", as: "alice", op: query(coll(model.RoomPath(roomLg) + "/" + model.ReadCountsCollection)), allow: true},
		{name: "non-member reads a read count", as: "carol", op: get(rc)},
		{name: "unauthenticated reads a read count", op: get(rc)},
		{name: "member raises the read count", as: "alice", op: update(rc, up("count", 60))},
		{name: "member writes a read count of another room", as: "alice", op: set(model.ReadCountPath(roomR1), map[string]any{"messageId": "m-bob", "count": 2})},
		{name: "member deletes the read count", as: "alice", op: del(rc)},
		{name: "collection group read counts", as: "alice", op: query(group(model.ReadCountsCollection))},
	}
}

// ---- Hearth-only collections and everything else ------------------------------------

func backendCases() []ruleCase {
	newMsg := msgPaths("b")
	pq := model.PushQueuePath("alice", roomR1)
	return []ruleCase{
		{name: "reads own push queue entry", as: "alice", op: get(pq)},
		{name: "lists the push queue", as: "alice", op: query(coll("pushQueue"))},
		{name: "writes a push queue entry", as: "alice", op: set(model.PushQueuePath("alice", roomR2), map[string]any{"count": 1})},
		{name: "clears own push queue entry", as: "alice", op: del(pq)},
		{name: "admin reads the push queue", as: "root", admin: true, op: query(coll("pushQueue")), allow: true},
		{name: "reads the audit log", as: "alice", op: query(coll("auditLog"))},
		{name: "writes the audit log", as: "alice", op: set(model.AuditEntryPath("x"), map[string]any{"action": "nothing"})},
		{name: "admin reads the audit log by time", as: "root", admin: true, op: query(func(c *firestore.Client) firestore.Query {
			return c.Collection("auditLog").OrderBy("at", firestore.Desc)
		}), allow: true},
		{name: "admin writes the audit log", as: "root", admin: true, op: set(model.AuditEntryPath("y"), map[string]any{"action": "forged"})},
		{name: "admin claim as a string reads the audit log", as: "eve", claims: map[string]any{"admin": "true"}, op: query(coll("auditLog"))},
		{name: "admin claim false reads the audit log", as: "eve", claims: map[string]any{"admin": false}, op: query(coll("auditLog"))},
		{name: "admin posts without being a member", as: "root", admin: true, op: set(newMsg(roomR1), textMsg("root", "hi"))},
		{name: "reads an unknown collection", as: "alice", op: get("secrets/s1")},
		{name: "writes an unknown collection", as: "alice", op: set("secrets/s2", map[string]any{"x": 1})},
		{name: "unauthenticated writes an unknown collection", op: set("secrets/s3", map[string]any{"x": 1})},
		{name: "admin reads an unknown collection", as: "root", admin: true, op: get("secrets/s1"), allow: true},
		{name: "admin writes an unknown collection", as: "root", admin: true, op: set("secrets/s4", map[string]any{"x": 1})},
	}
}

// ---- rate limits of fanned-out writes ------------------------------------------------

// The rules cannot be given a request.time: it is the emulator's clock when the
// request arrives. So each limit is tested from both sides with the previous stamp
// written by the admin client relative to the test's clock (the same machine's):
//   - at the limit: the stamp is interval before the setup ran, so by the time the
//     request arrives at least interval has passed (always allowed);
//   - just under: the stamp is interval-margin before the setup ran; the request must
//     arrive within margin (a few milliseconds in practice). An allowed write that took
//     longer is reported as inconclusive, never as a pass;
//   - twice in a row: the client's own stamp, then an immediate second write.

// rateMargin is how far inside the interval a "just under" case stamps: a quarter of
// it (250 ms for edits).
func rateMargin(interval time.Duration) time.Duration { return interval / 4 }

// stampedAgo is a setup that writes doc(now - ago) at path with the admin client.
func stampedAgo(path string, ago time.Duration, doc func(at time.Time) any) setupFunc {
	return func(ctx context.Context, db *firestore.Client) error {
		_, err := db.Doc(path).Set(ctx, doc(time.Now().Add(-ago)))
		return err
	}
}

// justUnder returns the setup and op of a case on the near side of a limit of interval:
// the setup writes doc(now - interval + margin) at path, op runs right after. A write
// that is allowed although it reached the emulator later than margin after the stamp
// says nothing: the stamp is written afresh and op tried again, up to three times,
// then the case fails as inconclusive (never as a pass).
func justUnder(path string, interval time.Duration, doc func(at time.Time) any, op opFunc) (setupFunc, opFunc) {
	var (
		admin *firestore.Client
		start time.Time
	)
	margin := rateMargin(interval)
	stamp := func(ctx context.Context) error {
		start = time.Now()
		_, err := admin.Doc(path).Set(ctx, doc(start.Add(margin-interval)))
		return err
	}
	setup := func(ctx context.Context, db *firestore.Client) error {
		admin = db
		return stamp(ctx)
	}
	run := func(ctx context.Context, c *firestore.Client) error {
		var took time.Duration
		for attempt := 0; attempt < 3; attempt++ {
			if attempt > 0 {
				if err := stamp(ctx); err != nil {
					return fmt.Errorf("%w: stamp again: %v", errSetup, err)
				}
			}
			err := op(ctx, c)
			if took = time.Since(start); err != nil || took < margin {
				return err
			}
		}
		return fmt.Errorf("%w: inconclusive: the write was allowed but arrived %v after the stamp (margin %v)", errSetup, took, margin)
	}
	return setup, run
}

// updateTwice applies ups to path two times back to back and returns the second
// update's result (the first must succeed).
func updateTwice(path string, first, second []firestore.Update) opFunc {
	return func(ctx context.Context, c *firestore.Client) error {
		if _, err := c.Doc(path).Update(ctx, first); err != nil {
			return fmt.Errorf("%w: first write: %v", errSetup, err)
		}
		_, err := c.Doc(path).Update(ctx, second)
		return err
	}
}

func rateCases() []ruleCase {
	var cases []ruleCase
	add := func(c ...ruleCase) { cases = append(cases, c...) }

	// Edits: at most one per model.EditInterval per message.
	seq := 0
	msg := func() string {
		seq++
		return model.MessagePath(roomR1, fmt.Sprintf("rl%03d", seq))
	}
	editedAt := func(at time.Time) any {
		return model.Message{SenderID: "alice", Type: model.MessageText, Text: "typo", CreatedAt: t0, EditedAt: at}
	}
	edit := []firestore.Update{up("text", "fixed"), up("editedAt", firestore.ServerTimestamp)}
	editAgain := []firestore.Update{up("text", "fixed again"), up("editedAt", firestore.ServerTimestamp)}
	tombstone := []firestore.Update{up("text", ""), up("deletedAt", firestore.ServerTimestamp), up("deletedBy", "alice")}
	p := msg()
	add(ruleCase{name: "edits EditInterval after the last edit", as: "alice", setup: stampedAgo(p, model.EditInterval, editedAt), op: update(p, edit...), allow: true})
	p = msg()
	setup, op := justUnder(p, model.EditInterval, editedAt, update(p, edit...))
	add(ruleCase{name: "edits just under EditInterval after the last edit", as: "alice", setup: setup, op: op})
	p = msg()
	add(ruleCase{name: "edits twice in a row", as: "alice", setup: put(p, model.Message{SenderID: "alice", Type: model.MessageText, Text: "typo", CreatedAt: t0}),
		op: updateTwice(p, edit, editAgain)})
	p = msg()
	add(ruleCase{name: "edits right after sending (the first edit is free)", as: "alice", setup: stampedAgo(p, 0, func(at time.Time) any {
		return model.Message{SenderID: "alice", Type: model.MessageText, Text: "typo", CreatedAt: at}
	}), op: update(p, edit...), allow: true})
	p = msg()
	add(ruleCase{name: "deletes right after an edit", as: "alice", setup: stampedAgo(p, 0, editedAt), op: update(p, tombstone...), allow: true})

	// Display names: at most one change per model.RenameInterval.
	alice := model.UserPath("alice")
	namedAt := func(at time.Time) any {
		return model.User{DisplayName: "alice", CreatedAt: t0, DisplayNameChangedAt: at}
	}
	rename := func(name string) []firestore.Update {
		return []firestore.Update{up("displayName", name), up("displayNameChangedAt", firestore.ServerTimestamp)}
	}
	never := put(alice, model.User{DisplayName: "alice", CreatedAt: t0})
	add(
		ruleCase{name: "renames for the first time", as: "alice", setup: never, op: update(alice, rename("Alice A.")...), allow: true},
		ruleCase{name: "renames without displayNameChangedAt", as: "alice", setup: never, op: update(alice, up("displayName", "Alice B."))},
		ruleCase{name: "renames with a spoofed displayNameChangedAt", as: "alice", setup: never,
			op: update(alice, up("displayName", "Alice B."), up("displayNameChangedAt", minuteAgo))},
		ruleCase{name: "renames RenameInterval after the last rename", as: "alice", setup: stampedAgo(alice, model.RenameInterval, namedAt),
			op: update(alice, rename("Alice C.")...), allow: true},
	)
	setup, op = justUnder(alice, model.RenameInterval, namedAt, update(alice, rename("Alice D.")...))
	add(
		ruleCase{name: "renames just under RenameInterval after the last rename", as: "alice", setup: setup, op: op},
		ruleCase{name: "renames twice in a row", as: "alice", setup: never, op: updateTwice(alice, rename("Alice E."), rename("Alice F."))},
		ruleCase{name: "changes photo right after a rename", as: "alice", setup: stampedAgo(alice, 0, namedAt),
			op: update(alice, up("photoURL", "https://cdn.example.com/p/2.png")), allow: true},
		ruleCase{name: "keeps the name, moves displayNameChangedAt", as: "alice", setup: stampedAgo(alice, model.RenameInterval, namedAt),
			op: update(alice, up("displayNameChangedAt", firestore.ServerTimestamp))},
		ruleCase{name: "removes displayNameChangedAt", as: "alice", setup: stampedAgo(alice, 0, namedAt),
			op: update(alice, up("displayNameChangedAt", firestore.Delete))},
		ruleCase{name: "renames and removes displayNameChangedAt", as: "alice", setup: stampedAgo(alice, 0, namedAt),
			op: update(alice, up("displayName", "Alice G."), up("displayNameChangedAt", firestore.Delete))},
		ruleCase{name: "creates a profile with displayNameChangedAt", as: "u-stamp",
			op: set(model.UserPath("u-stamp"), with(profile("S"), "displayNameChangedAt", firestore.ServerTimestamp))},
	)

	// Presence: at most one state change per model.PresenceStateInterval; heartbeats
	// that keep the state are never limited.
	bob := model.PresencePath("bob")
	changedAt := func(at time.Time) any {
		return map[string]any{"state": "online", "heartbeatAt": at, "stateChangedAt": at}
	}
	heartbeatAt := func(at time.Time) any { // a presence written without stateChangedAt
		return map[string]any{"state": "online", "heartbeatAt": at}
	}
	away := []firestore.Update{up("state", "away"), up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", firestore.ServerTimestamp)}
	back := []firestore.Update{up("state", "online"), up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", firestore.ServerTimestamp)}
	beat := []firestore.Update{up("heartbeatAt", firestore.ServerTimestamp)}
	longAgo := put(bob, map[string]any{"state": "online", "heartbeatAt": t0, "stateChangedAt": t0})
	add(
		ruleCase{name: "changes state PresenceStateInterval after the last change", as: "bob",
			setup: stampedAgo(bob, model.PresenceStateInterval, changedAt), op: update(bob, away...), allow: true},
	)
	setup, op = justUnder(bob, model.PresenceStateInterval, changedAt, update(bob, away...))
	add(ruleCase{name: "changes state just under PresenceStateInterval after the last change", as: "bob", setup: setup, op: op})
	setup, op = justUnder(bob, model.PresenceStateInterval, heartbeatAt, update(bob, away...))
	add(
		ruleCase{name: "changes state just under PresenceStateInterval after a heartbeat without stateChangedAt", as: "bob", setup: setup, op: op},
		ruleCase{name: "changes state PresenceStateInterval after a heartbeat without stateChangedAt", as: "bob",
			setup: stampedAgo(bob, model.PresenceStateInterval, heartbeatAt), op: update(bob, away...), allow: true},
		ruleCase{name: "flips state twice in a row", as: "bob", setup: longAgo, op: updateTwice(bob, away, back)},
		ruleCase{name: "heartbeats right after a state change", as: "bob", setup: longAgo, op: updateTwice(bob, away, beat), allow: true},
		ruleCase{name: "full set() heartbeat right after a state change", as: "bob", setup: stampedAgo(bob, 0, changedAt),
			op: set(bob, presence("online")), allow: true},
		ruleCase{name: "changes state without stateChangedAt", as: "bob", setup: longAgo,
			op: update(bob, up("state", "away"), up("heartbeatAt", firestore.ServerTimestamp))},
		ruleCase{name: "changes state with a spoofed stateChangedAt", as: "bob", setup: longAgo,
			op: update(bob, up("state", "away"), up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", hourAgo))},
		ruleCase{name: "heartbeat moves stateChangedAt", as: "bob", setup: longAgo,
			op: update(bob, up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", firestore.ServerTimestamp))},
		ruleCase{name: "heartbeat sets stateChangedAt where there was none", as: "bob", setup: put(bob, map[string]any{"state": "online", "heartbeatAt": t0}),
			op: update(bob, up("heartbeatAt", firestore.ServerTimestamp), up("stateChangedAt", firestore.ServerTimestamp))},
		ruleCase{name: "first presence with stateChangedAt", as: "erin",
			op: set(model.PresencePath("erin"), with(presence("online"), "stateChangedAt", firestore.ServerTimestamp)), allow: true},
		ruleCase{name: "first presence with a spoofed stateChangedAt", as: "frida",
			op: set(model.PresencePath("frida"), with(presence("online"), "stateChangedAt", hourAgo))},
	)
	return cases
}
