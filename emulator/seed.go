package emulator

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/model"
)

// DemoPassword is the password of every demo account that `hearth dev` creates.
const DemoPassword = "hearth-demo"

// DemoGroupRoomID is the id of the demo group room "Team".
const DemoGroupRoomID = "team"

// DemoUser is one seeded account.
type DemoUser struct {
	UID, Email, DisplayName string
	Admin                   bool
}

// DemoUsers are the accounts `hearth dev` seeds; admin@example.com carries the admin claim.
var DemoUsers = []DemoUser{
	{UID: "alice", Email: "alice@example.com", DisplayName: "Alice"},
	{UID: "bob", Email: "bob@example.com", DisplayName: "Bob"},
	{UID: "carol", Email: "carol@example.com", DisplayName: "Carol"},
	{UID: "admin", Email: "admin@example.com", DisplayName: "Admin", Admin: true},
}

// DemoDeviceToken is the FCM token of the demo phone seeded for uid.
func DemoDeviceToken(uid string) string { return "demo-" + uid + "-android" }

// SeedInfo says what Seed created.
type SeedInfo struct {
	Users        []DemoUser
	GroupRoomID  string // alice, bob and carol: "Team"
	DirectRoomID string // alice and bob
}

// Seed creates the demo accounts in the Auth emulator and the demo rooms and messages in
// Firestore, as Hearth's API would (room, member docs, messages); triggers, when running,
// derive inboxes and counts from them. It is idempotent: existing accounts are kept.
func Seed(ctx context.Context, db *firestore.Client, ac *auth.Client, now time.Time) (SeedInfo, error) {
	info := SeedInfo{Users: DemoUsers, GroupRoomID: DemoGroupRoomID, DirectRoomID: model.DirectRoomID("alice", "bob")}
	for _, u := range DemoUsers {
		if _, err := ac.GetUser(ctx, u.UID); auth.IsUserNotFound(err) {
			params := (&auth.UserToCreate{}).UID(u.UID).Email(u.Email).Password(DemoPassword).DisplayName(u.DisplayName).EmailVerified(true)
			if _, err := ac.CreateUser(ctx, params); err != nil {
				return info, fmt.Errorf("seed user %s: %w", u.Email, err)
			}
		} else if err != nil {
			return info, fmt.Errorf("seed user %s: %w", u.Email, err)
		}
		if u.Admin {
			if err := ac.SetCustomUserClaims(ctx, u.UID, map[string]any{"admin": true}); err != nil {
				return info, fmt.Errorf("seed admin claim: %w", err)
			}
		}
		if _, err := db.Doc(model.UserPath(u.UID)).Set(ctx, model.User{DisplayName: u.DisplayName, CreatedAt: now}); err != nil {
			return info, fmt.Errorf("seed profile %s: %w", u.UID, err)
		}
		// One phone each, so pushes show up at the fake FCM's GET /v1/sent.
		dev := model.Device{Token: DemoDeviceToken(u.UID), Platform: model.PlatformAndroid, Locale: "en", UpdatedAt: now}
		if _, err := db.Doc(model.DevicePath(u.UID, "demo-phone")).Set(ctx, dev); err != nil {
			return info, fmt.Errorf("seed device %s: %w", u.UID, err)
		}
	}
	names := map[string]string{}
	for _, u := range DemoUsers {
		names[u.UID] = u.DisplayName
	}
	rooms := []struct {
		id      string
		room    model.Room
		owner   string
		members []string
		texts   []string // alternating senders: members[0], members[1], ...
	}{
		{DemoGroupRoomID, model.Room{Type: model.RoomGroup, Title: "Team"}, "alice", []string{"alice", "bob", "carol"},
			[]string{"Welcome to Hearth!", "Hi all 👋", "Morning!"}},
		{info.DirectRoomID, model.Room{Type: model.RoomDirect}, "alice", []string{"alice", "bob"},
			[]string{"Lunch today?", "Sure, 12:30"}},
	}
	for _, r := range rooms {
		ref := db.Doc(model.RoomPath(r.id))
		if snap, err := ref.Get(ctx); err == nil && snap.Exists() {
			continue // seeded before
		}
		r.room.CreatedBy, r.room.CreatedAt, r.room.LastMessageAt = r.owner, now, now
		r.room.MemberIDs, r.room.MemberCount = r.members, len(r.members)
		err := db.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if err := tx.Set(ref, r.room); err != nil {
				return err
			}
			for _, uid := range r.members {
				role := model.RoleMember
				if uid == r.owner {
					role = model.RoleOwner
				}
				if err := tx.Set(db.Doc(model.MemberPath(r.id, uid)), model.Member{Role: role, JoinedAt: now, DisplayName: names[uid]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return info, fmt.Errorf("seed room %s: %w", r.id, err)
		}
		for i, text := range r.texts {
			sender := r.members[i%len(r.members)]
			msg := model.Message{SenderID: sender, Type: model.MessageText, Text: text, CreatedAt: now.Add(time.Duration(i+1) * time.Second)}
			if _, err := db.Doc(model.MessagePath(r.id, fmt.Sprintf("seed-%s-%d", r.id, i))).Set(ctx, msg); err != nil {
				return info, fmt.Errorf("seed message: %w", err)
			}
		}
	}
	return info, nil
}
