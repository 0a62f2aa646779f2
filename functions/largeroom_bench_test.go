package functions

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/deployplan"
	"github.com/hearth-chat/hearth/internal/model"
)

// BenchmarkLargeRoom measures a message in group rooms of 5, 100 and 1,000 members:
// the time from the sender's client starting the write to every member's inbox entry
// showing it (one collection-group listener on the room's entries), and what the
// pipeline asks of Firestore for it, counted by gRPC interceptors on the pipeline's own
// client: RPCs, documents read (each document a BatchGetDocuments or RunQuery returns,
// found or missing, and one per aggregation query: what Firestore bills) and documents
// written (the writes of each Commit). One op is one message, sent after the previous
// one reached every inbox. After the timed messages, a burst of 20 messages sent back to
// back: the writes per member until every entry shows the last one with its exact
// count.
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench LargeRoom -benchtime 20x ./functions/
func BenchmarkLargeRoom(b *testing.B) {
	for _, n := range []int{5, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) { benchLargeRoom(b, n) })
	}
}

func benchLargeRoom(b *testing.B, n int) {
	env := emutest.New(b)
	env.LoadRules(rulesSource(b))
	db := env.Firestore()
	ctx := b.Context()
	const roomID = "big"

	// The room, its members, their memberships and entries, written before the
	// pipeline's triggers exist (a join of 1,000 members is not what is measured).
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf("u%04d", i)
	}
	sender := members[0]
	now := time.Now().UTC().Truncate(time.Microsecond)
	bw := db.BulkWriter(ctx)
	jobs := []*firestore.BulkWriterJob{}
	add := func(j *firestore.BulkWriterJob, err error) {
		if err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	add(bw.Create(db.Doc(model.RoomPath(roomID)), model.Room{Type: model.RoomGroup, Title: "Big", CreatedBy: sender,
		CreatedAt: now, MemberIDs: members, MemberCount: n, LastMessageAt: now}))
	for _, uid := range members {
		add(bw.Create(db.Doc(model.MemberPath(roomID, uid)), model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: uid}))
		add(bw.Create(db.Doc(model.MembershipPath(uid, roomID)), model.Membership{LastReadAt: now, Notifications: model.NotifyAll}))
		add(bw.Create(db.Doc(model.InboxEntryPath(uid, roomID)), map[string]any{
			"roomId": roomID, "type": string(model.RoomGroup), "title": "Big", "lastMessageAt": now,
			"unreadCount": 0, "mentionCount": 0, "muted": false, "updatedAt": now, "countedAfter": now}))
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			b.Fatalf("set up the room of %d: %v", n, err)
		}
	}

	cnt := &rpcCounter{}
	pdb := countedFirestore(b, env, cnt)
	// As many events at once as one production events instance takes (its Cloud Run
	// concurrency), not the local door's default: the per-member cost of a burst is the
	// one instance of the production service would see, the worst case (more workers
	// gather more of a burst into one run).
	p := runBenchPipelineConfig(b, env, pdb, Config{DisableSchedulers: true, Workers: eventsConcurrency(b)})
	env.Route(p.LocalHandler())

	// One listener on every entry of the room: when has each message reached all n?
	var mu sync.Mutex
	last := map[string]string{} // uid -> lastMessage.id of their entry
	unread := map[string]int{}  // uid -> unreadCount
	atID := map[string]int{}    // message id -> entries showing it
	reached := map[string]time.Time{}
	arrived := make(chan struct{}, 1)
	l := emutest.Listen(ctx, db.CollectionGroup(model.InboxCollection).Where("roomId", "==", roomID), func(snap *firestore.QuerySnapshot, at time.Time) {
		mu.Lock()
		for _, c := range snap.Changes {
			var e model.InboxEntry
			if c.Kind == firestore.DocumentRemoved || c.Doc.DataTo(&e) != nil {
				continue
			}
			uid := c.Doc.Ref.Parent.Parent.ID
			unread[uid] = e.UnreadCount
			id := ""
			if e.LastMessage != nil {
				id = e.LastMessage.ID
			}
			if prev, had := last[uid]; !had || prev != id {
				if had {
					atID[prev]--
				}
				atID[id]++
				last[uid] = id
			}
			if atID[id] == n {
				if _, ok := reached[id]; !ok {
					reached[id] = at
				}
			}
		}
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	if err := l.WaitSynced(settle); err != nil {
		b.Fatalf("inbox listener: %v", err)
	}
	// waitAll waits until every entry shows message id (and, with exact, every other
	// member's unreadCount is sent).
	waitAll := func(id string, sent int) time.Time {
		deadline := time.NewTimer(settle)
		defer deadline.Stop()
		for {
			mu.Lock()
			at, ok := reached[id]
			exact := true
			if ok && sent > 0 {
				for _, uid := range members[1:] {
					exact = exact && unread[uid] == sent
				}
			}
			mu.Unlock()
			if ok && exact {
				return at
			}
			select {
			case <-arrived:
			case <-l.Done():
				b.Fatalf("message %s: the inbox listener ended: %v", id, l.Err())
			case <-deadline.C:
				mu.Lock()
				got := atID[id]
				mu.Unlock()
				b.Fatalf("message %s: %d of %d entries show it after %s (exact counts: %v)", id, got, n, settle, ok)
			}
		}
	}
	client := env.UserClient(sender, nil)
	sent := 0
	send := func(id string) {
		// A write the emulator never answers fails the benchmark instead of hanging it.
		ctx, cancel := context.WithTimeout(ctx, settle)
		defer cancel()
		if _, err := client.Doc(model.MessagePath(roomID, id)).Create(ctx, map[string]any{
			"senderId": sender, "type": "text", "text": "hello " + id, "createdAt": firestore.ServerTimestamp}); err != nil {
			b.Fatalf("send %s: %v", id, err)
		}
		sent++
	}
	// Warm up: the first events after the emulator starts are slow.
	for i := range 2 {
		id := fmt.Sprintf("warm-%d", i)
		send(id)
		waitAll(id, sent)
	}

	var lat []time.Duration
	var reads, writes, rpcs int64
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("m%06d", i)
		before := cnt.snapshot()
		start := time.Now()
		send(id)
		at := waitAll(id, sent)
		lat = append(lat, at.Sub(start))
		d := cnt.snapshot().sub(before)
		reads, writes, rpcs = reads+d.reads, writes+d.writes, rpcs+d.rpcs
	}
	b.StopTimer()

	// The burst: 20 messages back to back, then until every entry is exact.
	before := cnt.snapshot()
	burstStart := time.Now()
	var lastID string
	for i := range 20 {
		lastID = fmt.Sprintf("burst-%02d", i)
		send(lastID)
	}
	burstAt := waitAll(lastID, sent)
	burst := cnt.snapshot().sub(before)

	pp := percentiles(lat)
	msgs := float64(len(lat))
	b.ReportMetric(ms(pp[0]), "p50-ms")
	b.ReportMetric(ms(pp[2]), "p99-ms")
	b.ReportMetric(float64(reads)/msgs/float64(n), "reads/member/msg")
	b.ReportMetric(float64(writes)/msgs/float64(n), "writes/member/msg")
	b.ReportMetric(float64(rpcs)/msgs, "rpcs/msg")
	b.ReportMetric(float64(burst.writes)/float64(n), "burst-writes/member")
	b.ReportMetric(float64(burst.reads)/float64(n), "burst-reads/member")
	b.Logf("%d members, %d messages: write->every inbox p50 %v p90 %v p99 %v; per message %.0f reads %.0f writes %.0f RPCs (%s); burst of 20: %d reads %d writes, every entry exact %v after the first write",
		n, len(lat), pp[0], pp[1], pp[2], float64(reads)/msgs, float64(writes)/msgs, float64(rpcs)/msgs, cnt.methods(),
		burst.reads, burst.writes, burstAt.Sub(burstStart).Round(time.Millisecond))
}

// eventsConcurrency is the deploy plan's request concurrency of the events service.
func eventsConcurrency(b *testing.B) int {
	for _, s := range deployplan.Services() {
		if s.Role == "events" {
			return s.Concurrency
		}
	}
	b.Fatal("the deploy plan has no events service")
	return 0
}

// rpcCounter counts a Firestore client's RPCs and the documents they read and write.
type rpcCounter struct {
	reads, writes, rpcs atomic.Int64
	mu                  sync.Mutex
	byMethod            map[string]int64
}

type rpcCounts struct{ reads, writes, rpcs int64 }

func (c *rpcCounter) snapshot() rpcCounts {
	return rpcCounts{c.reads.Load(), c.writes.Load(), c.rpcs.Load()}
}

func (a rpcCounts) sub(b rpcCounts) rpcCounts {
	return rpcCounts{a.reads - b.reads, a.writes - b.writes, a.rpcs - b.rpcs}
}

func (c *rpcCounter) rpc(method string) {
	c.rpcs.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byMethod == nil {
		c.byMethod = map[string]int64{}
	}
	c.byMethod[method[strings.LastIndex(method, "/")+1:]]++
}

// methods lists the RPCs so far by method.
func (c *rpcCounter) methods() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for m, k := range c.byMethod {
		parts = append(parts, fmt.Sprintf("%s %d", m, k))
	}
	return strings.Join(parts, ", ")
}

func (c *rpcCounter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.rpc(method)
	if r, ok := req.(*firestorepb.CommitRequest); ok {
		c.writes.Add(int64(len(r.GetWrites())))
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (c *rpcCounter) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.rpc(method)
	if strings.HasSuffix(method, "/RunAggregationQuery") {
		c.reads.Add(1) // billed as one read per up to 1,000 index entries counted
	}
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	return &countedStream{ClientStream: s, c: c}, nil
}

type countedStream struct {
	grpc.ClientStream
	c *rpcCounter
}

func (s *countedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		return err
	}
	switch r := m.(type) {
	case *firestorepb.BatchGetDocumentsResponse:
		s.c.reads.Add(1) // found or missing: both are billed
	case *firestorepb.RunQueryResponse:
		if r.GetDocument() != nil {
			s.c.reads.Add(1)
		}
	}
	return nil
}

// countedFirestore is an admin client of env's project whose RPCs c counts. The
// interceptors go on a connection of its own: with FIRESTORE_EMULATOR_HOST set, the
// client dials the emulator itself and ignores gRPC dial options.
func countedFirestore(tb testing.TB, env *emutest.Env, c *rpcCounter) *firestore.Client {
	tb.Helper()
	return interceptedFirestore(tb, env, c.unary, c.stream)
}
