package functions

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/model"
)

// The burst's shape (BenchmarkBurst): -burst.users users in -burst.rooms overlapping
// group rooms send -burst.messages messages in all, each user -burst.inflight at a time.
var (
	burstUsers    = flag.Int("burst.users", 6, "BenchmarkBurst: users sending")
	burstRooms    = flag.Int("burst.rooms", 4, "BenchmarkBurst: overlapping group rooms")
	burstMessages = flag.Int("burst.messages", 300, "BenchmarkBurst: messages in the burst, all users together")
	burstInflight = flag.Int("burst.inflight", 4, "BenchmarkBurst: writes each user has in flight at once")
	burstWait     = flag.Duration("burst.wait", 3*time.Minute, "BenchmarkBurst: how long after the burst the counts may take before the benchmark fails")
	burstWorkers  = flag.Int("burst.workers", 0, "BenchmarkBurst: events the pipeline's local door handles at once (0: the default, HEARTH_FUNCTIONS_WORKERS's)")
)

// BenchmarkBurst is the burst of the performance issue: several users in overlapping
// rooms write messages as fast as they can (through the security rules, as clients do;
// every fifth message mentions another member of its room), nobody reads, and the
// benchmark times from the burst's end (its last write acknowledged) until every
// user's unread and mention counts in every room (the inbox entries) are exact, as
// seen by listeners on those documents — and with them the badge, their sum (checked
// once more at the end with the sum aggregation clients and push use). It reads only
// the inbox documents: how the pipeline counts is its own business.
//
// Next to it, in a project of its own, the same burst runs with the pipeline's
// triggers registered for the same document patterns but answered by a handler that
// does nothing: the time from the burst's end until the emulator delivered the last
// message's event is the emulator's own delivery floor, which no pipeline can beat.
// Each op runs the floor, then the pipeline. Metrics (per op; -count for medians):
//
//   - converge-ms: burst end → the counts and badges are exact;
//   - floor-ms: burst end → the no-op handler has every message's event;
//   - converge-over-floor: the ratio of the two (the floor is small when the
//     emulator keeps up; the difference is reported too, as extra-ms);
//   - offered-msg/s: messages / the burst's duration (the pipeline run's);
//   - absorbed-msg/s: messages / (burst start → exact).
//
// Every wait is bounded (-burst.wait, the listeners' sync, the pipeline's stop) and
// fails with what was still missing.
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench Burst -benchtime 1x -count 3 ./functions/
//	... -args -burst.users 6 -burst.rooms 4 -burst.messages 3000
func BenchmarkBurst(b *testing.B) {
	shape, err := newBurstShape(*burstUsers, *burstRooms, *burstMessages)
	if err != nil {
		b.Fatal(err)
	}
	var conv, floor, offered, absorbed []float64
	for b.Loop() {
		f := burstFloor(b, shape)
		r := burstPipeline(b, shape)
		floor = append(floor, ms(f.settled))
		conv = append(conv, ms(r.settled))
		offered = append(offered, float64(shape.messages)/r.burst.Seconds())
		absorbed = append(absorbed, float64(shape.messages)/(r.burst+r.settled).Seconds())
		b.Logf("burst of %d messages, %d users, %d rooms: pipeline burst %v, exact %v after it; floor burst %v, last delivery %v after it",
			shape.messages, shape.users, len(shape.rooms), r.burst.Round(time.Millisecond), r.settled.Round(time.Millisecond),
			f.burst.Round(time.Millisecond), f.settled.Round(time.Millisecond))
	}
	c, fl := mean(conv), mean(floor)
	b.ReportMetric(c, "converge-ms")
	b.ReportMetric(fl, "floor-ms")
	b.ReportMetric(c-fl, "extra-ms")
	b.ReportMetric(c/max(fl, 1), "converge-over-floor")
	b.ReportMetric(mean(offered), "offered-msg/s")
	b.ReportMetric(mean(absorbed), "absorbed-msg/s")
}

func mean(vs []float64) float64 {
	var s float64
	for _, v := range vs {
		s += v
	}
	return s / float64(max(len(vs), 1))
}

// burstShape is who is in which room and who sends what.
type burstShape struct {
	users    int
	rooms    [][]string // rooms[k] are room k's members
	messages int
	// sends[u] are user u's messages in order.
	sends [][]burstMsg
	// want[uid][room] are uid's exact (unread, mentions) after the burst.
	want map[string]map[string][2]int
}

type burstMsg struct {
	room    string
	mention string // "" or a member of room other than the sender
}

func burstUID(i int) string    { return fmt.Sprintf("u%d", i) }
func burstRoomID(k int) string { return fmt.Sprintf("burst-%d", k) }

// newBurstShape lays out users in rooms: room k holds a window of about half the users
// starting at user k (so consecutive rooms overlap), and the last room holds everyone.
// Message i is sent by user i mod users, in the sender's rooms in turn; every fifth
// message of a sender mentions the next member of its room.
func newBurstShape(users, rooms, messages int) (burstShape, error) {
	switch {
	case users < 2 || users > 100:
		return burstShape{}, fmt.Errorf("burst.users = %d, want 2..100", users)
	case rooms < 1 || rooms > 50:
		return burstShape{}, fmt.Errorf("burst.rooms = %d, want 1..50", rooms)
	case messages < 1 || messages > 100_000:
		return burstShape{}, fmt.Errorf("burst.messages = %d, want 1..100000", messages)
	}
	s := burstShape{users: users, messages: messages, sends: make([][]burstMsg, users), want: map[string]map[string][2]int{}}
	window := users/2 + 1
	in := make([][]int, users) // the rooms of each user
	for k := range rooms {
		var ms []string
		for j := range users {
			if k == rooms-1 || (j-k%users+users)%users < window {
				ms = append(ms, burstUID(j))
				in[j] = append(in[j], k)
			}
		}
		s.rooms = append(s.rooms, ms)
	}
	for j := range users {
		s.want[burstUID(j)] = map[string][2]int{}
		for _, k := range in[j] {
			s.want[burstUID(j)][burstRoomID(k)] = [2]int{}
		}
	}
	for i := range messages {
		u := i % users
		n := len(s.sends[u])
		k := in[u][n%len(in[u])]
		m := burstMsg{room: burstRoomID(k)}
		if n%5 == 4 {
			members := s.rooms[k]
			for x, uid := range members {
				if uid == burstUID(u) {
					m.mention = members[(x+1)%len(members)]
				}
			}
		}
		s.sends[u] = append(s.sends[u], m)
		for _, uid := range s.rooms[k] {
			if uid == burstUID(u) {
				continue
			}
			w := s.want[uid][m.room]
			w[0]++
			if uid == m.mention {
				w[1]++
			}
			s.want[uid][m.room] = w
		}
	}
	return s, nil
}

// burstRun is one burst's timing: the burst (first write sent → last write
// acknowledged) and the settling after it.
type burstRun struct {
	burst, settled time.Duration
	end            time.Time
}

// setup creates the users' profiles and the rooms with their member docs (as the API
// does: the room and its members in one commit) in env's project.
func (s burstShape) setup(b *testing.B, env *emutest.Env) {
	b.Helper()
	ctx := b.Context()
	for j := range s.users {
		uid := burstUID(j)
		if _, err := env.UserClient(uid, nil).Doc(model.UserPath(uid)).Create(ctx,
			map[string]any{"displayName": uid, "createdAt": firestore.ServerTimestamp}); err != nil {
			b.Fatalf("create user %s: %v", uid, err)
		}
	}
	db := env.Firestore()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for k, members := range s.rooms {
		id := burstRoomID(k)
		if err := db.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if err := tx.Create(db.Doc(model.RoomPath(id)), model.Room{Type: model.RoomGroup, Title: id, CreatedBy: members[0],
				CreatedAt: now, MemberIDs: members, MemberCount: len(members), LastMessageAt: now}); err != nil {
				return err
			}
			for i, uid := range members {
				role := model.RoleMember
				if i == 0 {
					role = model.RoleOwner
				}
				if err := tx.Create(db.Doc(model.MemberPath(id, uid)), model.Member{Role: role, JoinedAt: now, DisplayName: uid}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatalf("create room %s: %v", id, err)
		}
	}
}

// send runs the burst: every user's messages through that user's own client (the rules
// apply), inflight at a time per user. It returns the burst's start and end (the last
// write acknowledged); a refused write, or a burst longer than -burst.wait, fails the
// benchmark.
func (s burstShape) send(b *testing.B, env *emutest.Env, tag string) (time.Time, time.Time) {
	b.Helper()
	// A write the emulator never answers fails the burst instead of hanging it.
	ctx, cancel := context.WithTimeout(b.Context(), *burstWait)
	defer cancel()
	clients := make([]*firestore.Client, s.users)
	for j := range clients {
		clients[j] = env.UserClient(burstUID(j), nil)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for u, msgs := range s.sends {
		next := make(chan int)
		go func() {
			defer close(next)
			for i := range msgs {
				select {
				case next <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		for range max(*burstInflight, 1) {
			wg.Go(func() {
				uid := burstUID(u)
				for i := range next {
					m := msgs[i]
					data := map[string]any{"senderId": uid, "type": "text", "text": fmt.Sprintf("%s %s %d", tag, uid, i),
						"createdAt": firestore.ServerTimestamp}
					if m.mention != "" {
						data["mentions"] = []string{m.mention}
					}
					id := fmt.Sprintf("%s-%s-%05d", tag, uid, i)
					if _, err := clients[u].Doc(model.MessagePath(m.room, id)).Create(ctx, data); err != nil {
						mu.Lock()
						if first == nil {
							first = fmt.Errorf("send %s in %s as %s: %w", id, m.room, uid, err)
						}
						mu.Unlock()
						cancel()
						return
					}
				}
			})
		}
	}
	wg.Wait()
	end := time.Now()
	if first != nil {
		b.Fatal(first)
	}
	return start, end
}

// burstFloor runs the burst with the pipeline's triggers registered but answered by a
// no-op handler, and times until the last message's event arrived.
func burstFloor(b *testing.B, s burstShape) burstRun {
	b.Helper()
	env := emutest.New(b)
	env.LoadRules(rulesSource(b))
	p, err := New(Config{DisableSchedulers: true}, Deps{Firestore: env.Firestore(), Clock: clock.System{}, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[string]time.Time{} // message document → first delivery
		all  = make(chan struct{})
	)
	env.Route(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		doc := strings.TrimPrefix(r.Header.Get("Ce-Subject"), "documents/")
		if _, trigger, _ := strings.Cut(r.URL.Path, "/triggers/"); trigger == TriggerMessageWritten && strings.Contains(doc, "/messages/") {
			mu.Lock()
			if _, ok := seen[doc]; !ok {
				seen[doc] = at
				if len(seen) == s.messages {
					close(all)
				}
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	if err := p.Register(b.Context(), env.FirestoreHost, env.ProjectID); err != nil {
		b.Fatal(err)
	}
	s.setup(b, env)
	start, end := s.send(b, env, "floor")
	select {
	case <-all:
	case <-time.After(*burstWait):
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		b.Fatalf("floor: %d of %d message events delivered %s after the burst", n, s.messages, *burstWait)
	}
	mu.Lock()
	defer mu.Unlock()
	var last time.Time
	for _, at := range seen {
		if at.After(last) {
			last = at
		}
	}
	return burstRun{burst: end.Sub(start), settled: max(last.Sub(end), 0), end: end}
}

// burstPipeline runs the burst against a running pipeline and times until every
// count and badge is exact.
func burstPipeline(b *testing.B, s burstShape) burstRun {
	b.Helper()
	env := emutest.New(b)
	env.LoadRules(rulesSource(b))
	// The pipeline logs to a buffer, shown when it gave up on an event: on stderr
	// its lines would split the benchmark's result lines, and the events it is
	// still handed while it stops (the rooms' own updates, which need nothing)
	// are logged as lost.
	var logs emutest.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, stop := startBenchPipeline(b, env, env.Firestore(), Config{DisableSchedulers: true, Workers: *burstWorkers}, logger)
	defer stop()
	env.Route(p.LocalHandler())
	s.setup(b, env)

	// Every user's inbox, as listeners see it (the admin client: the benchmark
	// watches, it is not a user).
	w := newBurstWatch(s)
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	db := env.Firestore()
	var listeners []*emutest.Listener
	for j := range s.users {
		uid := burstUID(j)
		listeners = append(listeners,
			emutest.Listen(ctx, db.Collection(model.InboxCollectionPath(uid)).Query, func(snap *firestore.QuerySnapshot, at time.Time) {
				w.inbox(uid, snap, at)
			}))
	}
	for _, l := range listeners {
		if err := l.WaitSynced(settle); err != nil {
			b.Fatalf("burst listener: %v", err)
		}
	}
	// Everyone's entries exist (the members' inboxes are written by the pipeline)
	// before the burst starts, so the burst measures messages only.
	if err := w.wait(settle, listeners, func() string { return w.joined() }); err != nil {
		b.Fatalf("before the burst: %v", err)
	}
	start, end := s.send(b, env, "burst")
	if err := w.wait(*burstWait, listeners, w.exact); err != nil {
		b.Fatalf("%v after the burst's end", err)
	}
	exactAt := w.exactSince()
	for j := range s.users {
		uid := burstUID(j)
		got, err := inbox.Badge(ctx, db, uid)
		if err != nil {
			b.Fatal(err)
		}
		if want := w.s.total(uid); got != want {
			b.Fatalf("%s's badge (sum aggregation) = %+v, want %+v", uid, got, want)
		}
	}
	if st := p.Stats(); st.Failed > 0 {
		b.Fatalf("the pipeline gave up on %d events during the burst; its log:\n%s", st.Failed, logs.String())
	}
	return burstRun{burst: end.Sub(start), settled: max(exactAt.Sub(end), 0), end: end}
}

// burstWatch holds the latest inbox entries of every user and when the state last
// became exact.
type burstWatch struct {
	s burstShape

	mu       sync.Mutex
	entries  map[string]map[string][2]int // uid → room → (unread, mentions)
	last     time.Time                    // the latest snapshot's arrival
	exactAt  time.Time                    // when the state became exact (zero: it is not)
	changed  chan struct{}
	problems string
}

func newBurstWatch(s burstShape) *burstWatch {
	w := &burstWatch{s: s, entries: map[string]map[string][2]int{}, changed: make(chan struct{}, 1)}
	for uid := range s.want {
		w.entries[uid] = map[string][2]int{}
	}
	return w
}

func (w *burstWatch) inbox(uid string, snap *firestore.QuerySnapshot, at time.Time) {
	w.mu.Lock()
	for _, c := range snap.Changes {
		if c.Kind == firestore.DocumentRemoved {
			delete(w.entries[uid], c.Doc.Ref.ID)
			continue
		}
		var e model.InboxEntry
		if err := c.Doc.DataTo(&e); err != nil {
			w.problems = fmt.Sprintf("inbox entry %s: %v", c.Doc.Ref.Path, err)
			continue
		}
		w.entries[uid][c.Doc.Ref.ID] = [2]int{e.UnreadCount, e.MentionCount}
	}
	w.update(at)
	w.mu.Unlock()
}

// update notes a snapshot at `at` (w.mu held): the state became exact then, or is no
// longer.
func (w *burstWatch) update(at time.Time) {
	w.last = at
	if w.mismatch() == "" {
		if w.exactAt.IsZero() {
			w.exactAt = at
		}
	} else {
		w.exactAt = time.Time{}
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// mismatch is the first difference between the state and the exact counts (w.mu
// held), or "".
func (w *burstWatch) mismatch() string {
	if w.problems != "" {
		return w.problems
	}
	for j := range w.s.users {
		uid := burstUID(j)
		for room, want := range w.s.want[uid] {
			got, ok := w.entries[uid][room]
			if !ok {
				return fmt.Sprintf("%s has no inbox entry for %s", uid, room)
			}
			if got != want {
				return fmt.Sprintf("%s in %s: unread %d mentions %d, want %d %d", uid, room, got[0], got[1], want[0], want[1])
			}
		}
	}
	return ""
}

// total is uid's exact badge: the sums of their exact counts.
func (s burstShape) total(uid string) inbox.Totals {
	var t inbox.Totals
	for _, want := range s.want[uid] {
		t.Unread, t.Mentions = t.Unread+want[0], t.Mentions+want[1]
	}
	return t
}

// joined is "" once every user has an entry for each of their rooms.
func (w *burstWatch) joined() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for uid, rooms := range w.s.want {
		for room := range rooms {
			if _, ok := w.entries[uid][room]; !ok {
				return fmt.Sprintf("%s has no inbox entry for %s", uid, room)
			}
		}
	}
	return ""
}

func (w *burstWatch) exact() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mismatch()
}

func (w *burstWatch) exactSince() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.exactAt
}

// wait waits at most timeout for cond to return "", woken by every snapshot; it fails
// with cond's last complaint on the timeout, or at once when a listener ends.
func (w *burstWatch) wait(timeout time.Duration, listeners []*emutest.Listener, cond func() string) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ended := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	for _, l := range listeners {
		go func() {
			select {
			case <-l.Done():
				select {
				case ended <- l.Err():
				default:
				}
			case <-stop:
			}
		}()
	}
	for {
		last := cond()
		if last == "" {
			return nil
		}
		select {
		case <-w.changed:
		case err := <-ended:
			return fmt.Errorf("a listener ended (%v) while waiting: %s", err, last)
		case <-deadline.C:
			return errors.New("not exact within " + timeout.String() + ": " + last)
		}
	}
}
