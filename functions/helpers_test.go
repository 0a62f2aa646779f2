package functions

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// settle is how long a test waits for derived documents before failing.
const settle = 60 * time.Second

// fixture is one test's project with a running pipeline whose triggers are registered
// with the emulator and whose local door receives the project's events.
type fixture struct {
	t     *testing.T
	env   *emutest.Env
	db    *firestore.Client
	p     *Pipeline
	clock clock.Clock
	ctx   context.Context
	parts Deps // Notifier and Media of the fixture's pipelines
	// reg holds the metrics of the fixture's pipelines (they share the collectors).
	reg *prometheus.Registry
}

type fixtureOpts struct {
	clock    clock.Clock
	cfg      Config
	noEvents bool // do not register triggers or route events (handlers are called directly)
	// pipelineDB, when set, returns the pipeline's admin client (default: the env's).
	pipelineDB func(env *emutest.Env) *firestore.Client
	// notifier and media are the push and media parts of the triggers (default none).
	notifier Notifier
	media    MediaChecks
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	env := emutest.New(t)
	env.LoadRules(rulesSource(t))
	f := &fixture{t: t, env: env, db: env.Firestore(), ctx: t.Context(), clock: o.clock,
		parts: Deps{Notifier: o.notifier, Media: o.media}, reg: prometheus.NewRegistry()}
	if f.clock == nil {
		f.clock = clock.System{}
	}
	pdb := f.db
	if o.pipelineDB != nil {
		pdb = o.pipelineDB(env)
	}
	f.p = f.newPipelineOn(pdb, o.cfg)
	if !o.noEvents {
		if err := f.p.Register(f.ctx, env.FirestoreHost, env.ProjectID); err != nil {
			t.Fatalf("Register: %v", err)
		}
		env.Route(f.p.LocalHandler())
	}
	return f
}

// newPipeline returns a running pipeline on the fixture's project (stopped when the test
// ends). Schedulers are off unless cfg says otherwise via a test of its own.
func (f *fixture) newPipeline(cfg Config) *Pipeline {
	f.t.Helper()
	return f.newPipelineOn(f.db, cfg)
}

// newPipelineOn is newPipeline writing with the admin client db.
func (f *fixture) newPipelineOn(db *firestore.Client, cfg Config) *Pipeline {
	f.t.Helper()
	if cfg.Retry.InitialBackoff == 0 {
		cfg.Retry = RetryPolicy{MaxAttempts: 10, InitialBackoff: 20 * time.Millisecond, MaxBackoff: time.Second}
	}
	if cfg.PresenceSweepInterval == 0 {
		cfg.DisableSchedulers = true
	}
	p, err := New(cfg, Deps{Firestore: db, Clock: f.clock, Logger: testLogger(), Notifier: f.parts.Notifier, Media: f.parts.Media,
		Registerer: f.reg})
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	f.t.Cleanup(func() {
		// Let the events still in flight (follow-ups of the test's last writes) finish
		// before stopping: stopping cancels them, and a cancelled event counts as given up.
		dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
		drained := p.Drain(dctx)
		dcancel()
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("Run: %v", err)
		}
		if s := p.Stats(); s.Failed > 0 {
			f.t.Errorf("pipeline gave up on %d events (waiting for the events in flight before stopping: %v)", s.Failed, drained)
		}
	})
	return p
}

// testLogger logs warnings and errors to stderr (not t.Log: retries may log after the
// test returned).
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func rulesSource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../rules/firestore.rules")
	if err != nil {
		t.Fatalf("read rules: %v", err)
	}
	return string(b)
}

// user creates uid's profile as the client would.
func (f *fixture) user(uid, name string, settings *model.UserSettings) {
	f.t.Helper()
	data := map[string]any{"displayName": name, "createdAt": firestore.ServerTimestamp}
	if settings != nil {
		s := map[string]any{}
		if settings.ReadReceipts != nil {
			s["readReceipts"] = *settings.ReadReceipts
		}
		data["settings"] = s
	}
	if _, err := f.env.UserClient(uid, nil).Doc(model.UserPath(uid)).Create(f.ctx, data); err != nil {
		f.t.Fatalf("create user %s: %v", uid, err)
	}
}

// room creates a room with its member docs in one commit, as Hearth's API does (the
// first member is the owner).
func (f *fixture) room(id string, typ model.RoomType, title string, members ...string) {
	f.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := f.db.RunTransaction(f.ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		r := model.Room{Type: typ, Title: title, CreatedBy: members[0], CreatedAt: now,
			MemberIDs: members, MemberCount: len(members), LastMessageAt: now}
		if err := tx.Create(f.db.Doc(model.RoomPath(id)), r); err != nil {
			return err
		}
		for i, uid := range members {
			role := model.RoleMember
			if i == 0 {
				role = model.RoleOwner
			}
			if err := tx.Create(f.db.Doc(model.MemberPath(id, uid)), model.Member{Role: role, JoinedAt: now, DisplayName: uid}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatalf("create room %s: %v", id, err)
	}
}

// addMember adds uid to a room as the API does: memberIds and the member doc together.
func (f *fixture) addMember(roomID, uid string) {
	f.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := f.db.RunTransaction(f.ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		ref := f.db.Doc(model.RoomPath(roomID))
		if err := tx.Update(ref, []firestore.Update{
			{Path: model.FieldMemberIDs, Value: firestore.ArrayUnion(uid)},
			{Path: "memberCount", Value: firestore.Increment(1)},
		}); err != nil {
			return err
		}
		return tx.Create(f.db.Doc(model.MemberPath(roomID, uid)), model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: uid})
	})
	if err != nil {
		f.t.Fatalf("add %s to %s: %v", uid, roomID, err)
	}
}

// removeMember removes uid as the API does; ban keeps the member doc with banned = true.
func (f *fixture) removeMember(roomID, uid string, ban bool) {
	f.t.Helper()
	err := f.db.RunTransaction(f.ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Update(f.db.Doc(model.RoomPath(roomID)), []firestore.Update{
			{Path: model.FieldMemberIDs, Value: firestore.ArrayRemove(uid)},
			{Path: "memberCount", Value: firestore.Increment(-1)},
		}); err != nil {
			return err
		}
		ref := f.db.Doc(model.MemberPath(roomID, uid))
		if ban {
			return tx.Update(ref, []firestore.Update{{Path: "banned", Value: true}, {Path: "bannedAt", Value: time.Now()}, {Path: "bannedBy", Value: "admin"}})
		}
		return tx.Delete(ref)
	})
	if err != nil {
		f.t.Fatalf("remove %s from %s: %v", uid, roomID, err)
	}
}

var msgSeq atomic.Int64

// send writes a text message as uid through an end-user client (the security rules
// apply) and returns its id.
func (f *fixture) send(c *firestore.Client, uid, roomID, text string, mentions ...string) string {
	f.t.Helper()
	id, err := f.trySend(c, uid, roomID, text, mentions...)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// trySend is send for goroutines other than the test's.
func (f *fixture) trySend(c *firestore.Client, uid, roomID, text string, mentions ...string) (string, error) {
	id := fmt.Sprintf("m%06d-%s", msgSeq.Add(1), uid)
	data := map[string]any{"senderId": uid, "type": "text", "text": text, "createdAt": firestore.ServerTimestamp}
	if len(mentions) > 0 {
		data["mentions"] = mentions
	}
	if _, err := c.Doc(model.MessagePath(roomID, id)).Create(f.ctx, data); err != nil {
		return "", fmt.Errorf("send %s in %s as %s: %w", text, roomID, uid, err)
	}
	return id, nil
}

// markRead moves uid's read pointer to message messageID, as a client does after showing it.
func (f *fixture) markRead(c *firestore.Client, uid, roomID, messageID string) {
	f.t.Helper()
	snap, err := c.Doc(model.MessagePath(roomID, messageID)).Get(f.ctx)
	if err != nil {
		f.t.Fatalf("read message %s: %v", messageID, err)
	}
	var m model.Message
	if err := snap.DataTo(&m); err != nil {
		f.t.Fatal(err)
	}
	if _, err := c.Doc(model.MembershipPath(uid, roomID)).Update(f.ctx, []firestore.Update{
		{Path: "lastReadAt", Value: m.CreatedAt},
		{Path: "lastReadMessageId", Value: messageID},
	}); err != nil {
		f.t.Fatalf("mark read %s/%s: %v", uid, roomID, err)
	}
}

// eventually polls cond (emutest.Eventually) until it returns "" (no complaint) or
// settle passes.
func (f *fixture) eventually(what string, cond func() string) {
	f.t.Helper()
	emutest.Eventually(f.t, settle, func() error {
		if last := cond(); last != "" {
			return fmt.Errorf("%s: %s", what, last)
		}
		return nil
	})
}

// joined waits until uid has an inbox entry for each of rooms.
func (f *fixture) joined(uid string, rooms ...string) {
	f.t.Helper()
	f.eventually("joined", func() string {
		for _, r := range rooms {
			if _, ok := f.entry(uid, r); !ok {
				return fmt.Sprintf("no entry for %s in %s", uid, r)
			}
		}
		return ""
	})
}

// entry reads uid's inbox entry of roomID (ok false when missing).
func (f *fixture) entry(uid, roomID string) (model.InboxEntry, bool) {
	f.t.Helper()
	var e model.InboxEntry
	return e, f.get(model.InboxEntryPath(uid, roomID), &e)
}

// badge returns uid's badge as clients and push compute it: the sums over the inbox
// entries (inbox.Badge). It also checks that nothing wrote a counters document: the
// badge is derived, never stored.
func (f *fixture) badge(uid string) inbox.Totals {
	f.t.Helper()
	b, err := inbox.Badge(f.ctx, f.db, uid)
	if err != nil {
		f.t.Fatalf("badge of %s: %v", uid, err)
	}
	if f.exists(model.CountersPath(uid)) {
		f.t.Fatalf("%s exists: the badge must not be stored", model.CountersPath(uid))
	}
	return b
}

func (f *fixture) member(roomID, uid string) (model.Member, bool) {
	f.t.Helper()
	var m model.Member
	return m, f.get(model.MemberPath(roomID, uid), &m)
}

func (f *fixture) roomDoc(roomID string) model.Room {
	f.t.Helper()
	var r model.Room
	f.get(model.RoomPath(roomID), &r)
	return r
}

// get reads path into dst with the admin client; false when missing.
func (f *fixture) get(path string, dst any) bool {
	f.t.Helper()
	snap, err := f.db.Doc(path).Get(f.ctx)
	if firestoreerr.IsNotFound(err) {
		return false
	}
	if err != nil {
		f.t.Fatalf("get %s: %v", path, err)
	}
	if err := snap.DataTo(dst); err != nil {
		f.t.Fatalf("decode %s: %v", path, err)
	}
	return true
}

func (f *fixture) exists(path string) bool {
	f.t.Helper()
	snap, err := f.db.Doc(path).Get(f.ctx)
	if err != nil && !firestoreerr.IsNotFound(err) {
		f.t.Fatalf("get %s: %v", path, err)
	}
	return snap.Exists()
}

func ptr[T any](v T) *T { return &v }
