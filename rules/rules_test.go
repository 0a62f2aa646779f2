package rules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// ruleCase is one attempt by an end user (or nobody) to read or write, with
// the outcome the rules must give.
type ruleCase struct {
	name  string
	as    string // uid of the caller; "" is unauthenticated
	admin bool   // the caller's token carries admin: true
	// claims, when set, are the caller's custom claims (instead of admin).
	claims map[string]any
	// setup, when set, runs with the admin client just before op: it puts the
	// documents op needs in place, so cases do not depend on each other.
	setup func(ctx context.Context, db *firestore.Client) error
	op    func(ctx context.Context, c *firestore.Client) error
	allow bool
}

// Fixture ids. Rooms: r1 (group: alice owner, bob member; dave banned; frank
// left), r2 (group: carol, bob), arch (archived group: alice, bob), big (group
// of 60: alice and m01..m59), lg (group in large-room mode: alice, bob), and the
// direct room of alice and bob.
const (
	roomR1   = "r1"
	roomR2   = "r2"
	roomArch = "arch"
	roomBig  = "big"
	roomLg   = "lg" // in large-room mode (room.large): alice and bob
)

var roomDM = model.DirectRoomID("alice", "bob")

// t0 is "a while ago": the time fixtures were written at.
var t0 = time.Now().Add(-time.Hour).Truncate(time.Microsecond)

func bigRoomMembers() []string {
	ids := []string{"alice"}
	for i := 1; i < 60; i++ {
		ids = append(ids, fmt.Sprintf("m%02d", i))
	}
	return ids
}

// seed writes the fixture with the admin client, as Hearth would.
func seed(ctx context.Context, db *firestore.Client) error {
	docs := map[string]any{}
	room := func(id string, typ model.RoomType, title string, members []string, archived bool) {
		docs[model.RoomPath(id)] = model.Room{
			Type: typ, Title: title, CreatedBy: members[0], CreatedAt: t0,
			MemberIDs: members, MemberCount: len(members), LastMessageAt: t0, Archived: archived,
		}
	}
	member := func(roomID, uid string, role model.Role, banned bool) {
		m := model.Member{Role: role, JoinedAt: t0, DisplayName: uid, Banned: banned}
		if banned {
			m.BannedAt, m.BannedBy = t0, "alice"
		}
		docs[model.MemberPath(roomID, uid)] = m
	}
	room(roomR1, model.RoomGroup, "Team", []string{"alice", "bob"}, false)
	member(roomR1, "alice", model.RoleOwner, false)
	member(roomR1, "bob", model.RoleMember, false)
	member(roomR1, "dave", model.RoleMember, true)
	room(roomR2, model.RoomGroup, "Other", []string{"carol", "bob"}, false)
	member(roomR2, "carol", model.RoleOwner, false)
	member(roomR2, "bob", model.RoleMember, false)
	room(roomArch, model.RoomGroup, "Old", []string{"alice", "bob"}, true)
	member(roomArch, "alice", model.RoleOwner, false)
	room(roomBig, model.RoomGroup, "Big", bigRoomMembers(), false)
	room(roomLg, model.RoomGroup, "Large", []string{"alice", "bob"}, false)
	lg := docs[model.RoomPath(roomLg)].(model.Room)
	lg.Large = true
	docs[model.RoomPath(roomLg)] = lg
	member(roomLg, "alice", model.RoleOwner, false)
	member(roomLg, "bob", model.RoleMember, false)
	docs[model.ReadCountPath(roomLg)] = model.ReadCount{MessageID: "m1", SentAt: t0, Count: 1, UpdatedAt: t0}
	room(roomDM, model.RoomDirect, "", []string{"alice", "bob"}, false)
	member(roomDM, "alice", model.RoleMember, false)
	member(roomDM, "bob", model.RoleMember, false)

	for _, uid := range []string{"alice", "bob", "carol", "dave"} {
		docs[model.UserPath(uid)] = model.User{DisplayName: uid, CreatedAt: t0}
	}
	msg := func(roomID, id, sender, text string) {
		docs[model.MessagePath(roomID, id)] = model.Message{SenderID: sender, Type: model.MessageText, Text: text, CreatedAt: t0}
	}
	msg(roomR1, "m-alice", "alice", "hello")
	msg(roomR1, "m-bob", "bob", "hi")
	msg(roomR1, "m-dave", "dave", "before the ban")
	msg(roomArch, "m-arch", "alice", "old news")
	msg(roomR2, "m-carol", "carol", "elsewhere")

	docs[model.MembershipPath("alice", roomR1)] = model.Membership{LastReadAt: t0, LastReadMessageID: "m-bob", LastDeliveredAt: t0, Notifications: model.NotifyAll}
	docs[model.MembershipPath("bob", roomR1)] = model.Membership{LastReadAt: t0, Notifications: model.NotifyAll}
	docs[model.DevicePath("alice", "phone")] = model.Device{Token: "tok-alice", Platform: model.PlatformIOS, UpdatedAt: t0}
	docs[model.InboxEntryPath("alice", roomR1)] = model.InboxEntry{RoomID: roomR1, Type: model.RoomGroup, Title: "Team", LastMessageAt: t0, UpdatedAt: t0}
	docs[model.CountersPath("alice")] = map[string]any{"unreadTotal": 1, "updatedAt": t0} // stale: no longer written
	docs[model.PresencePath("alice")] = model.Presence{State: model.PresenceOnline, HeartbeatAt: t0, ActiveRoomID: roomR1}
	// frank was viewing r1 when he left it.
	docs[model.PresencePath("frank")] = model.Presence{State: model.PresenceOnline, HeartbeatAt: t0, ActiveRoomID: roomR1}
	docs[model.TypingPath(roomR1, "bob")] = model.Typing{Typing: true, UpdatedAt: t0}
	docs[model.PushQueuePath("alice", roomR1)] = model.PushQueueEntry{UID: "alice", RoomID: roomR1, MessageIDs: []string{"m-bob"}, Count: 1, FirstAt: t0, LastAt: t0, DueAt: t0}
	docs[model.AuditEntryPath("a1")] = model.AuditEntry{At: t0, ActorUID: "admin", Action: "member.ban", Target: model.MemberPath(roomR1, "dave")}
	docs["secrets/s1"] = map[string]any{"x": 1}

	bw := db.BulkWriter(ctx)
	jobs := map[string]*firestore.BulkWriterJob{}
	for path, d := range docs {
		j, err := bw.Set(db.Doc(path), d)
		if err != nil {
			return fmt.Errorf("seed %s: %w", path, err)
		}
		jobs[path] = j
	}
	bw.End()
	for path, j := range jobs {
		if _, err := j.Results(); err != nil {
			return fmt.Errorf("seed %s: %w", path, err)
		}
	}
	return nil
}

// projectRun records where one group ran, for the coverage report.
type projectRun struct{ host, project string }

// TestRules runs the attack table: every case against the real Firestore
// emulator with the rendered rules, then checks the emulator's rule coverage
// over all groups.
func TestRules(t *testing.T) {
	src, _, err := Render()
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	var (
		mu   sync.Mutex
		runs []projectRun
	)
	total := 0
	for _, g := range caseGroups() {
		total += len(g.cases)
	}
	t.Logf("%d rule cases in %d groups", total, len(caseGroups()))
	t.Run("cases", func(t *testing.T) {
		for _, g := range caseGroups() {
			t.Run(g.name, func(t *testing.T) {
				t.Parallel()
				env := emutest.New(t)
				env.LoadRules(string(src))
				if err := seed(t.Context(), env.Firestore()); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				runs = append(runs, projectRun{env.FirestoreHost, env.ProjectID})
				mu.Unlock()
				runCases(t, env, g.cases)
			})
		}
	})
	if t.Failed() {
		return
	}
	checkCoverage(t, runs)
}

func runCases(t *testing.T, env *emutest.Env, cases []ruleCase) {
	clients := map[string]*firestore.Client{}
	client := func(uid string, admin bool, claims map[string]any) *firestore.Client {
		key := fmt.Sprint(uid, admin, claims)
		if c, ok := clients[key]; ok {
			return c
		}
		if admin {
			claims = map[string]any{"admin": true}
		}
		c := env.UserClient(uid, claims)
		clients[key] = c
		return c
	}
	db := env.Firestore()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			if c.setup != nil {
				if err := c.setup(ctx, db); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			who := c.as
			if who == "" {
				who = "unauthenticated"
			}
			err := c.op(ctx, client(c.as, c.admin, c.claims))
			switch code := status.Code(err); {
			case c.allow && err != nil:
				t.Errorf("%s as %s = %v, want allowed", c.name, who, err)
			case !c.allow && code != codes.PermissionDenied:
				t.Errorf("%s as %s = %v (code %v), want PermissionDenied", c.name, who, err, code)
			}
		})
	}
}

// errSetup marks a failure in a multi-step op that is not the step under test.
var errSetup = errors.New("earlier step failed")

// TestLoadEmulator: the rendered rules load into the Firestore emulator (as `hearth
// rules deploy --emulator` does) and are in force there.
func TestLoadEmulator(t *testing.T) {
	env := emutest.New(t)
	src, _, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	if err := emulator.LoadFirestoreRules(t.Context(), env.FirestoreHost, env.ProjectID, string(src)); err != nil {
		t.Fatalf("LoadFirestoreRules(rendered rules) = %v, want nil", err)
	}
	// The rules are in force: default deny for an unknown collection, which
	// the emulator's open default rules would allow.
	_, err = env.UserClient("alice", nil).Doc("anything/x").Set(t.Context(), map[string]any{"a": 1})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("write after loading the rules = %v, want PermissionDenied", err)
	}
	if err := emulator.LoadFirestoreRules(t.Context(), env.FirestoreHost, env.ProjectID, "not rules"); !errors.Is(err, emulator.ErrRulesRejected) {
		t.Errorf("LoadFirestoreRules(garbage) = %v, want ErrRulesRejected", err)
	}
}
