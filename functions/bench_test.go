package functions

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

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
func BenchmarkInboxLatency(b *testing.B) {
	env := emutest.New(b)
	env.LoadRules(rulesSource(b))
	db := env.Firestore()
	ctx := b.Context()
	p, err := New(Config{DisableSchedulers: true}, Deps{Firestore: db, Clock: clock.System{}, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() { stop(); <-done }()
	if err := p.Register(ctx, env.FirestoreHost, env.ProjectID); err != nil {
		b.Fatal(err)
	}
	env.Route(p.LocalHandler())

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
	listen := func(q firestore.Query, seen map[string]time.Time, key func(*firestore.DocumentSnapshot) string) <-chan struct{} {
		synced := make(chan struct{})
		go func() {
			it := q.Snapshots(ctx)
			defer it.Stop()
			first := true
			for {
				snap, err := it.Next()
				if err != nil {
					return
				}
				at := time.Now()
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
				if first {
					close(synced)
					first = false
				}
			}
		}()
		return synced
	}
	msgSynced := listen(bob.Collection(model.MessagesCollectionPath("bench")).Query, seenMsg,
		func(d *firestore.DocumentSnapshot) string { return d.Ref.ID })
	inboxSynced := listen(bob.Collection(model.InboxCollectionPath("bob")).Query, seenInbox,
		func(d *firestore.DocumentSnapshot) string {
			var e model.InboxEntry
			if d.DataTo(&e) != nil || e.LastMessage == nil {
				return ""
			}
			return e.LastMessage.ID
		})
	<-msgSynced
	<-inboxSynced
	waitFor := func(id string) (time.Time, time.Time) {
		deadline := time.After(settle)
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
			case <-deadline:
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
	b.Logf("%d messages, 5 members: write->inbox p50 %v p90 %v p99 %v; write->message listener (floor) p50 %v p90 %v p99 %v; ratio p50 %.1fx p90 %.1fx p99 %.1fx",
		len(pipeline), pp[0], pp[1], pp[2], fp[0], fp[1], fp[2], ms(pp[0])/ms(fp[0]), ms(pp[1])/ms(fp[1]), ms(pp[2])/ms(fp[2]))
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
