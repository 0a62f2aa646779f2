package functions

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

// BenchmarkInboxLatency measures, per message, the time from a client starting its
// message write to the recipient's inbox listener showing it (the pipeline's latency),
// next to the time to the recipient's message listener showing the message itself (the
// emulator's own write-to-listener time, the floor). One op is one message, sent after
// the previous one has fully arrived, in a group room of 5. Run it over at least 500
// messages:
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench InboxLatency -benchtime 500x ./functions/
//
// It also splits the pipeline's time (medians over the messages, in ms; medians of
// parts do not add up exactly to the median of the whole):
//
//   - deliver-ms: write start → the onMessageWritten event reaches the local door;
//   - pickup-ms: event at the door → the handler's first Firestore call (queue, decode,
//     the handler's own checks);
//   - reads-ms, queries-ms, commit-ms: wall time during which at least one of the
//     handlers' Firestore calls of that kind was running: document reads
//     (BatchGetDocuments), queries and aggregations (the recounts, RunQuery and
//     RunAggregationQuery), the guarded commits (BeginTransaction, Commit, Rollback);
//   - between-ms: the rest of the handler, from its first call's start to its last
//     call's end, when no call was running: Go code between the calls;
//   - listen-ms: the last call's end (the commit of the inbox entries) → bob's inbox
//     listener shows it: the emulator's listener propagation of the derived write.
//
// The calls are those of the pipeline's own Firestore client, observed by a gRPC
// interceptor; every call made between a message's write and its inbox snapshot is
// counted for that message (the benchmark writes one message at a time, and in this
// pipeline only onMessageWritten and onRoomWritten see it).
func BenchmarkInboxLatency(b *testing.B) {
	env := emutest.New(b)
	env.LoadRules(rulesSource(b))
	db := env.Firestore()
	ctx := b.Context()
	rec := &callRecorder{}
	pdb := instrumentedFirestore(b, env, rec)
	p := runBenchPipeline(b, env, pdb)
	door := p.LocalHandler()
	env.Route(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, trigger, _ := strings.Cut(r.URL.Path, "/triggers/")
		rec.event(trigger, r.Header.Get("Ce-Subject"))
		door.ServeHTTP(w, r)
	}))

	members := []string{"alice", "bob", "carol", "dave", "erin"}
	now := time.Now().UTC()
	if err := db.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		tx.Create(db.Doc(model.RoomPath("bench")), model.Room{Type: model.RoomGroup, Title: "Bench", CreatedBy: "alice",
			CreatedAt: now, MemberIDs: members, MemberCount: len(members), LastMessageAt: now})
		for _, uid := range members {
			tx.Create(db.Doc(model.MemberPath("bench", uid)), model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: uid})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	alice, bob := env.UserClient("alice", nil), env.UserClient("bob", nil)

	// Bob's two query listeners, synced before the first write.
	var mu sync.Mutex
	seenMsg, seenInbox := map[string]time.Time{}, map[string]time.Time{}
	arrived := make(chan struct{}, 1)
	listen := func(q firestore.Query, seen map[string]time.Time, key func(*firestore.DocumentSnapshot) string) *emutest.Listener {
		return emutest.Listen(ctx, q, func(snap *firestore.QuerySnapshot, at time.Time) {
			mu.Lock()
			for _, c := range snap.Changes {
				if k := key(c.Doc); k != "" {
					if _, ok := seen[k]; !ok {
						seen[k] = at
					}
				}
			}
			mu.Unlock()
			select {
			case arrived <- struct{}{}:
			default:
			}
		})
	}
	msgs := listen(bob.Collection(model.MessagesCollectionPath("bench")).Query, seenMsg,
		func(d *firestore.DocumentSnapshot) string { return d.Ref.ID })
	inbox := listen(bob.Collection(model.InboxCollectionPath("bob")).Query, seenInbox,
		func(d *firestore.DocumentSnapshot) string {
			var e model.InboxEntry
			if d.DataTo(&e) != nil || e.LastMessage == nil {
				return ""
			}
			return e.LastMessage.ID
		})
	for name, l := range map[string]*emutest.Listener{"message": msgs, "inbox": inbox} {
		if err := l.WaitSynced(settle); err != nil {
			b.Fatalf("bob's %s listener: %v", name, err)
		}
	}
	waitFor := func(id string) (time.Time, time.Time) {
		deadline := time.NewTimer(settle)
		defer deadline.Stop()
		for {
			mu.Lock()
			m, okM := seenMsg[id]
			i, okI := seenInbox[id]
			mu.Unlock()
			if okM && okI {
				return m, i
			}
			select {
			case <-arrived:
			case <-msgs.Done():
				b.Fatalf("message %s: bob's message listener ended: %v", id, msgs.Err())
			case <-inbox.Done():
				b.Fatalf("message %s: bob's inbox listener ended: %v", id, inbox.Err())
			case <-deadline.C:
				b.Fatalf("message %s: not in bob's listeners after %s (message %v, inbox %v)", id, settle, okM, okI)
			}
		}
	}
	// Warm up: the first event after the emulator starts is slow.
	for i := range 3 {
		id := fmt.Sprintf("warm-%d", i)
		if _, err := alice.Doc(model.MessagePath("bench", id)).Create(ctx, map[string]any{
			"senderId": "alice", "type": "text", "text": "warm up", "createdAt": firestore.ServerTimestamp}); err != nil {
			b.Fatal(err)
		}
		waitFor(id)
	}

	var floor, pipeline []time.Duration
	var parts []breakdown
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("b%06d", i)
		start := time.Now()
		if _, err := alice.Doc(model.MessagePath("bench", id)).Create(ctx, map[string]any{
			"senderId": "alice", "type": "text", "text": fmt.Sprintf("message %d", i), "createdAt": firestore.ServerTimestamp}); err != nil {
			b.Fatal(err)
		}
		m, in := waitFor(id)
		floor = append(floor, m.Sub(start))
		pipeline = append(pipeline, in.Sub(start))
		if bd, ok := rec.breakdown(model.MessagePath("bench", id), start, in); ok {
			parts = append(parts, bd)
		}
	}
	b.StopTimer()
	if b.N == 1 {
		return // the benchmark framework's probe run
	}
	if b.N < 500 {
		b.Logf("only %d messages: run with -benchtime 500x for the report", b.N)
	}
	fp, pp := percentiles(floor), percentiles(pipeline)
	for i, q := range []string{"p50", "p90", "p99"} {
		b.ReportMetric(ms(pp[i]), "inbox-"+q+"-ms")
		b.ReportMetric(ms(fp[i]), "listener-"+q+"-ms")
	}
	b.ReportMetric(ms(pp[0])/ms(fp[0]), "p50-ratio")
	b.ReportMetric(ms(pp[2])/ms(fp[2]), "p99-ratio")
	b.Logf("%d messages, 5 members: write->inbox p50 %v p90 %v p99 %v; write->message listener (floor) p50 %v p90 %v p99 %v; ratio p50 %.1fx p90 %.1fx p99 %.1fx",
		len(pipeline), pp[0], pp[1], pp[2], fp[0], fp[1], fp[2], ms(pp[0])/ms(fp[0]), ms(pp[1])/ms(fp[1]), ms(pp[2])/ms(fp[2]))
	if len(parts) == 0 {
		b.Logf("no breakdown: no onMessageWritten event was seen at the door")
		return
	}
	med := func(f func(breakdown) time.Duration) float64 {
		ds := make([]time.Duration, len(parts))
		for i, p := range parts {
			ds[i] = f(p)
		}
		return ms(percentiles(ds)[0])
	}
	cols := []struct {
		name string
		f    func(breakdown) time.Duration
	}{
		{"deliver-ms", func(p breakdown) time.Duration { return p.deliver }},
		{"pickup-ms", func(p breakdown) time.Duration { return p.pickup }},
		{"reads-ms", func(p breakdown) time.Duration { return p.reads }},
		{"queries-ms", func(p breakdown) time.Duration { return p.queries }},
		{"commit-ms", func(p breakdown) time.Duration { return p.commit }},
		{"between-ms", func(p breakdown) time.Duration { return p.between }},
		{"listen-ms", func(p breakdown) time.Duration { return p.listen }},
	}
	var line strings.Builder
	for _, c := range cols {
		v := med(c.f)
		b.ReportMetric(v, c.name)
		fmt.Fprintf(&line, " %s %.1f", c.name, v)
	}
	calls := make([]time.Duration, len(parts))
	for i, p := range parts {
		calls[i] = time.Duration(p.calls)
	}
	b.Logf("breakdown of %d messages (medians):%s; Firestore calls per message p50 %d", len(parts), line.String(), percentiles(calls)[0])
}

// callRecorder notes when trigger events reach the local door and the Firestore calls
// of the pipeline's client.
type callRecorder struct {
	mu     sync.Mutex
	events []doorEvent
	calls  []fsCall
}

type doorEvent struct {
	trigger, document string
	at                time.Time
}

type fsCall struct {
	method     string
	start, end time.Time
}

// event records an event of trigger for subject ("documents/rooms/...", the
// CloudEvent's ce-subject header).
func (r *callRecorder) event(trigger, subject string) {
	at := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, doorEvent{trigger: trigger, document: strings.TrimPrefix(subject, "documents/"), at: at})
}

func (r *callRecorder) call(method string, start, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fsCall{method: method, start: start, end: end})
}

// unary and stream are gRPC client interceptors feeding the recorder. A stream call
// ends at its last received message (or error).
func (r *callRecorder) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	r.call(method, start, time.Now())
	return err
}

func (r *callRecorder) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	start := time.Now()
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		r.call(method, start, time.Now())
		return nil, err
	}
	return &recordedStream{ClientStream: s, r: r, method: method, start: start}, nil
}

type recordedStream struct {
	grpc.ClientStream
	r      *callRecorder
	method string
	start  time.Time
	once   sync.Once
}

func (s *recordedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.once.Do(func() { s.r.call(s.method, s.start, time.Now()) })
	} else if s.method != firestoreListen {
		// Server-streaming reads: the last message so far ends the call; a stream
		// the client stops reading early never sees its EOF.
		end := time.Now()
		s.r.mu.Lock()
		s.r.calls = append(s.r.calls, fsCall{method: s.method + "#msg", start: s.start, end: end})
		s.r.mu.Unlock()
	}
	return err
}

const firestoreListen = "/google.firestore.v1.Firestore/Listen"

// breakdown is where one message's time went (see BenchmarkInboxLatency).
type breakdown struct {
	deliver, pickup, reads, queries, commit, between, listen time.Duration
	calls                                                    int
}

// breakdown splits the window [start, seen] of the message at doc.
func (r *callRecorder) breakdown(doc string, start, seen time.Time) (breakdown, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var bd breakdown
	var door time.Time
	for _, e := range r.events {
		if e.trigger == TriggerMessageWritten && e.document == doc {
			door = e.at
			break
		}
	}
	if door.IsZero() {
		return bd, false
	}
	bd.deliver = door.Sub(start)
	// One interval per call: a stream's interval ends at its last message (or its end).
	type span struct{ start, end time.Time }
	byCall := map[string]map[time.Time]span{}
	for _, c := range r.calls {
		if c.start.Before(door) || c.start.After(seen) {
			continue
		}
		m := strings.TrimSuffix(c.method, "#msg")
		if byCall[m] == nil {
			byCall[m] = map[time.Time]span{}
		}
		s, ok := byCall[m][c.start]
		if !ok || c.end.After(s.end) {
			s = span{c.start, c.end}
		}
		byCall[m][c.start] = s
	}
	var all, reads, queries, commits []span
	for m, spans := range byCall {
		for _, s := range spans {
			bd.calls++
			all = append(all, s)
			switch m[strings.LastIndex(m, "/")+1:] {
			case "BatchGetDocuments", "GetDocument":
				reads = append(reads, s)
			case "RunQuery", "RunAggregationQuery", "ListDocuments":
				queries = append(queries, s)
			default: // BeginTransaction, Commit, Rollback
				commits = append(commits, s)
			}
		}
	}
	if len(all) == 0 {
		bd.listen = seen.Sub(door)
		return bd, true
	}
	// covered is the wall time during which at least one of spans ran (calls overlap:
	// the recounts of the members run at once).
	covered := func(spans []span) (d time.Duration, first, last time.Time) {
		slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
		var cur span
		for i, s := range spans {
			switch {
			case i == 0:
				cur, first = s, s.start
			case s.start.After(cur.end):
				d += cur.end.Sub(cur.start)
				cur = s
			case s.end.After(cur.end):
				cur.end = s.end
			}
			if s.end.After(last) {
				last = s.end
			}
		}
		return d + cur.end.Sub(cur.start), first, last
	}
	bd.reads, _, _ = covered(reads)
	bd.queries, _, _ = covered(queries)
	bd.commit, _, _ = covered(commits)
	inCalls, first, last := covered(all)
	bd.pickup = first.Sub(door)
	bd.between = last.Sub(first) - inCalls
	bd.listen = seen.Sub(last)
	return bd, true
}

// ownerCreds are the emulator's admin credentials ("Bearer owner"), which the client
// built from FIRESTORE_EMULATOR_HOST sends.
type ownerCreds struct{}

func (ownerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (ownerCreds) RequireTransportSecurity() bool { return false }

// instrumentedFirestore is an admin client of env's project whose calls rec observes.
func instrumentedFirestore(tb testing.TB, env *emutest.Env, rec *callRecorder) *firestore.Client {
	tb.Helper()
	return interceptedFirestore(tb, env, rec.unary, rec.stream)
}

// interceptedFirestore is an owner client of env's Firestore whose RPCs pass through
// unary and stream, either of which may be nil (messages of any size: a large room's
// batch reads are big).
func interceptedFirestore(tb testing.TB, env *emutest.Env, unary grpc.UnaryClientInterceptor, stream grpc.StreamClientInterceptor) *firestore.Client {
	tb.Helper()
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(ownerCreds{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	}
	if unary != nil {
		opts = append(opts, grpc.WithChainUnaryInterceptor(unary))
	}
	if stream != nil {
		opts = append(opts, grpc.WithChainStreamInterceptor(stream))
	}
	conn, err := grpc.NewClient(env.FirestoreHost, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := firestore.NewClient(context.Background(), env.ProjectID, option.WithGRPCConn(conn))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// runBenchPipeline runs a pipeline on pdb (no schedulers) with its triggers registered
// at env's emulator, and stops it when the benchmark ends, failing if it does not stop
// within settle.
func runBenchPipeline(b *testing.B, env *emutest.Env, pdb *firestore.Client) *Pipeline {
	b.Helper()
	return runBenchPipelineConfig(b, env, pdb, Config{DisableSchedulers: true})
}

func runBenchPipelineConfig(b *testing.B, env *emutest.Env, pdb *firestore.Client, cfg Config) *Pipeline {
	b.Helper()
	p, stop := startBenchPipeline(b, env, pdb, cfg, testLogger())
	b.Cleanup(stop)
	return p
}

// startBenchPipeline runs a pipeline on pdb logging to logger, with its triggers
// registered at env's emulator; stop ends it, failing the benchmark if Run fails or
// does not return within settle of its context's end.
func startBenchPipeline(b *testing.B, env *emutest.Env, pdb *firestore.Client, cfg Config, logger *slog.Logger) (p *Pipeline, stop func()) {
	b.Helper()
	p, err := New(cfg, Deps{Firestore: pdb, Clock: clock.System{}, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("pipeline: %v", err)
			}
		case <-time.After(settle):
			b.Errorf("the pipeline did not stop within %s of its context's end", settle)
		}
	}
	if err := p.Register(b.Context(), env.FirestoreHost, env.ProjectID); err != nil {
		stop()
		b.Fatal(err)
	}
	return p, stop
}

func percentiles(ds []time.Duration) [3]time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		if len(s) == 0 {
			return 0
		}
		return s[min(len(s)-1, int(q*float64(len(s))))]
	}
	return [3]time.Duration{at(0.50), at(0.90), at(0.99)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
