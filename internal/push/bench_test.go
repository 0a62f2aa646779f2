package push

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

// BenchmarkFanout10k sends one group message to 10,000 devices (2,000 members × 5
// devices) through a fake FCM started in process, twice per iteration: with Hearth's
// fan-out (SendEach batches of 500, MaxConcurrentBatches at once, 50 SDK workers each)
// and with a naive sender that makes one Send call after the other. It reports both
// times, both rates and the ratio, for the fake on loopback (rtt=0: CPU-bound, client and
// fake share the machine) and behind a simulated 2 ms round trip (what FCM costs from a
// nearby region is more; the naive sender then pays it 10,000 times). fanout-cpu-ms is
// the CPU the fan-out took (client and fake: it is CPU-bound on a small machine), the
// figure to compare across runs on a busy one:
//
//	go test -run '^$' -bench Fanout10k -benchtime 1x ./internal/push/
func BenchmarkFanout10k(b *testing.B) {
	for _, rtt := range []time.Duration{0, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%s", rtt), func(b *testing.B) { benchFanout(b, rtt) })
	}
}

func benchFanout(b *testing.B, rtt time.Duration) {
	const members, perMember = 2000, 5
	fake := fcmfake.New(fcmfake.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	handler := fake.Handler()
	if rtt > 0 {
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(rtt) // the simulated network, not a wait for a condition
			inner.ServeHTTP(w, r)
		})
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	client, err := fcmfake.NewMessagingClient(b.Context(), ln.Addr().String(), "demo-bench")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := Config{}.withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	m, _ := newMetrics(nil)
	n := &Notifier{cfg: cfg}
	f := &fanout{sender: client, clock: clock.System{}, cfg: cfg, m: m, log: slog.New(slog.DiscardHandler)}

	// One personalised message per device (badge, platform block), as deliver builds them.
	var msgs []*messaging.Message
	for i := range members {
		c := content{RoomID: "team", RoomType: model.RoomGroup, RoomTitle: "Team", Count: 1, MessageID: "m1",
			Message: &model.Message{Type: model.MessageText, Text: "Release is out, please test"}, SenderName: "Alice",
			Previews: true, Badge: new(i % 50)}
		for d := range perMember {
			platform := model.PlatformAndroid
			if d%2 == 1 {
				platform = model.PlatformIOS
			}
			msgs = append(msgs, n.message(c, device{token: fmt.Sprintf("tok-%04d-%d", i, d), platform: platform}))
		}
	}
	total := float64(len(msgs))
	var fanTime, naiveTime, fanCPU time.Duration
	for b.Loop() {
		fake.ClearSent()
		ds := make([]*delivery, len(msgs))
		for i, msg := range msgs {
			ds[i] = &delivery{msg: msg}
		}
		cpu0 := processCPU(b)
		start := time.Now()
		if err := f.send(b.Context(), ds); err != nil {
			b.Fatal(err)
		}
		fanTime += time.Since(start)
		fanCPU += processCPU(b) - cpu0
		for _, d := range ds {
			if !d.ok {
				b.Fatalf("fan-out: a message failed: %+v", d.fail)
			}
		}

		fake.ClearSent()
		start = time.Now()
		for _, msg := range msgs {
			if _, err := client.Send(b.Context(), msg); err != nil {
				b.Fatal(err)
			}
		}
		naiveTime += time.Since(start)
		if got := len(fake.Sent()); got != len(msgs) {
			b.Fatalf("naive: %d accepted, want %d", got, len(msgs))
		}
	}
	iters := float64(b.N)
	b.ReportMetric(fanTime.Seconds()*1000/iters, "fanout-ms")
	b.ReportMetric(fanCPU.Seconds()*1000/iters, "fanout-cpu-ms")
	b.ReportMetric(naiveTime.Seconds()*1000/iters, "naive-ms")
	b.ReportMetric(total*iters/fanTime.Seconds(), "fanout-sends/s")
	b.ReportMetric(total*iters/naiveTime.Seconds(), "naive-sends/s")
	b.ReportMetric(naiveTime.Seconds()/fanTime.Seconds(), "speedup-x")
}

// processCPU is the CPU time (user and system) this process used so far: during a
// fan-out, the client's and the fake's together. Unlike the fan-out's wall time it
// hardly depends on what else the machine runs.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
