package push

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestPruneTokens: unregistered and invalid tokens are deleted after the send, tokens
// older than TokenMaxAge before it (never sent to), while a sender-id mismatch (not the
// token's fault as far as FCM says) keeps its device.
func TestPruneTokens(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	now := h.clock.Now()
	devs := []struct {
		id, token string
		age       time.Duration
		want      bool // still registered afterwards
	}{
		{"good", "tok-good", 24 * time.Hour, true},
		{"unreg", "tok-unreg", time.Hour, false},
		{"invalid", "tok-invalid", time.Hour, false},
		{"mismatch", "tok-mismatch", time.Hour, true},
		{"stale", "tok-stale", 271 * 24 * time.Hour, false},
		{"old-but-fresh", "tok-269", 269 * 24 * time.Hour, true},
	}
	for _, d := range devs {
		h.device("bob", d.id, d.token, model.PlatformAndroid, now.Add(-d.age))
	}
	h.fcm.Unregister("tok-unreg")
	h.fcm.Invalidate("tok-invalid")
	h.fcm.MismatchSender("tok-mismatch")
	n := h.notifier(Config{})
	h.say(n, "team", "m1", "alice", "hi")

	got := tokens(h.fcm.Sent())
	slices.Sort(got)
	if want := []string{"tok-269", "tok-good"}; !slices.Equal(got, want) {
		t.Errorf("accepted pushes = %q, want %q", got, want)
	}
	for _, a := range h.fcm.Attempts() {
		if a.Token == "tok-stale" {
			t.Errorf("a stale token was sent to: %+v", a)
		}
	}
	for _, d := range devs {
		if got := h.deviceExists("bob", d.id); got != d.want {
			t.Errorf("device %s exists = %v, want %v", d.id, got, d.want)
		}
	}
	for reason, want := range map[string]float64{FailUnregistered: 1, FailInvalidToken: 1, PruneStale: 1} {
		if got := counter(n.m.pruned, reason); got != want {
			t.Errorf("tokens_pruned{%s} = %v, want %v", reason, got, want)
		}
	}
	if got := counter(n.m.failed, FailSenderIDMismatch); got != 1 {
		t.Errorf("failed{sender_id_mismatch} = %v, want 1", got)
	}
	if len(h.fcm.Attempts()) != 5 {
		t.Errorf("attempts = %d, want 5 (no retries of permanent errors)", len(h.fcm.Attempts()))
	}
}

// TestPruneKeepsReRegisteredDevice: a device whose token was replaced between the read
// and the prune keeps its new registration.
func TestPruneKeepsReRegisteredDevice(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-old", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{})
	ld := n.newLoader()
	c := &claim{uid: "bob", roomID: "team"}
	if err := ld.loadDevices(h.ctx, []*claim{c}); err != nil {
		t.Fatal(err)
	}
	h.device("bob", "b1", "tok-new", model.PlatformAndroid, h.clock.Now().Add(time.Second))
	n.prune(h.ctx, []pruning{{ld.devices["bob"][0], FailUnregistered}})
	if !h.deviceExists("bob", "b1") {
		t.Errorf("prune deleted a device re-registered after the failed send")
	}
}

// TestRetries drives the fan-out against the fake FCM with injected failures; the fake
// clock in auto mode records the backoff waits instead of sleeping them.
func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		count        int
		retryAfter   time.Duration
		wantOK       bool
		wantAttempts int
		wantReason   string // of the final failure when !wantOK
		wantAction   action
		wantMinWait  time.Duration // the longest wait must be at least this
		wantWaits    int
	}{
		{"429 with Retry-After", http.StatusTooManyRequests, 1, 3 * time.Second, true, 2, "", 0, 3 * time.Second, 1},
		{"429 twice", http.StatusTooManyRequests, 2, 0, true, 3, "", 0, 0, 2},
		{"500", http.StatusInternalServerError, 1, 0, true, 2, "", 0, 0, 1},
		{"503 (the SDK retries it itself)", http.StatusServiceUnavailable, 1, 0, true, 2, "", 0, 0, 0},
		{"500 beyond MaxRetries", http.StatusInternalServerError, 3, 0, false, 3, FailInternal, actRetry, 0, 2},
		{"Retry-After beyond RetryMax", http.StatusTooManyRequests, 1, time.Minute, false, 1, FailQuotaExceeded, actRetry, 0, 0},
		{"400 not retried", http.StatusBadRequest, 1, 0, false, 1, FailInvalidToken, actPrune, 0, 0},
		{"403 not retried", http.StatusForbidden, 1, 0, false, 1, FailSenderIDMismatch, actDrop, 0, 0},
		{"404 not retried", http.StatusNotFound, 1, 0, false, 1, FailUnregistered, actPrune, 0, 0},
		{"401 not retried", http.StatusUnauthorized, 1, 0, false, 1, FailThirdPartyAuth, actDrop, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.clock.SetAuto(true)
			cfg, _ := Config{MaxRetries: 2, RetryBase: 100 * time.Millisecond, RetryMax: 10 * time.Second}.withDefaults()
			m, _ := newMetrics(nil)
			f := &fanout{sender: h.client, clock: h.clock, cfg: cfg, m: m, log: slog.New(slog.DiscardHandler)}
			h.fcm.FailNext(tt.count, tt.status, tt.retryAfter)
			d := &delivery{dev: device{token: "tok"}, msg: &messaging.Message{Token: "tok", Notification: &messaging.Notification{Title: "t", Body: "b"}}}
			if err := f.send(h.ctx, []*delivery{d}); err != nil {
				t.Fatalf("send() = %v", err)
			}
			if d.ok != tt.wantOK {
				t.Fatalf("send(%s).ok = %v (fail %+v), want %v", tt.name, d.ok, d.fail, tt.wantOK)
			}
			if !tt.wantOK && (d.fail == nil || d.fail.reason != tt.wantReason || d.fail.action != tt.wantAction) {
				t.Errorf("send(%s).fail = %+v, want reason %s action %d", tt.name, d.fail, tt.wantReason, tt.wantAction)
			}
			if got := len(h.fcm.Attempts()); got != tt.wantAttempts {
				t.Errorf("send(%s) made %d attempts, want %d", tt.name, got, tt.wantAttempts)
			}
			waits := h.clock.Waits()
			if len(waits) != tt.wantWaits {
				t.Errorf("send(%s) waited %v, want %d waits", tt.name, waits, tt.wantWaits)
			}
			if tt.wantMinWait > 0 && (len(waits) == 0 || slices.Max(waits) < tt.wantMinWait) {
				t.Errorf("send(%s) waits = %v, want one of at least %s (Retry-After)", tt.name, waits, tt.wantMinWait)
			}
			for _, w := range waits {
				if w > cfg.RetryMax && w != tt.retryAfter {
					t.Errorf("send(%s) waited %s, beyond RetryMax %s", tt.name, w, cfg.RetryMax)
				}
			}
		})
	}
}

// TestRetryThroughQueue: a push whose device keeps failing transiently goes back to the
// queue with backoff and is sent by the flusher later: nothing is lost.
func TestRetryThroughQueue(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{MaxRetries: 1, RetryBase: 10 * time.Millisecond, RetryMax: time.Second})
	// A Retry-After beyond RetryMax: the fan-out does not wait, the queue does.
	h.fcm.FailNext(1, http.StatusTooManyRequests, 30*time.Second)
	h.say(n, "team", "m1", "alice", "hi")
	if sent := h.fcm.Sent(); len(sent) != 0 {
		t.Fatalf("pushes = %v, want none yet", tokens(sent))
	}
	e := h.entry("bob", "team")
	if e == nil || e.Count != 1 || e.Attempts != 1 || e.LastError != FailQuotaExceeded || e.LeaseID != "" {
		t.Fatalf("entry after failing = %+v, want 1 pending, 1 attempt, no lease", e)
	}
	if wait := e.DueAt.Sub(h.clock.Now()); wait < 29*time.Second {
		t.Errorf("entry due in %s, want at least the 30s Retry-After", wait)
	}
	if got := h.flush(n); got != 0 {
		t.Errorf("Flush() before the retry time claimed %d, want 0", got)
	}
	h.clock.Set(e.DueAt)
	if got := h.flush(n); got != 1 {
		t.Fatalf("Flush() at the retry time claimed %d, want 1", got)
	}
	sent := h.fcm.Sent()
	if len(sent) != 1 || sent[0].Body != "Alice: hi" {
		t.Errorf("pushes after the retry = %v, want \"Alice: hi\"", sent)
	}
	if e := h.entry("bob", "team"); e.Count != 0 || e.Attempts != 0 || !e.DueAt.IsZero() {
		t.Errorf("entry after the retry = %+v, want nothing pending", e)
	}
}

// TestClassifyPayloadError: an INVALID_ARGUMENT about the payload (not the token) is
// dropped, not pruned.
func TestClassifyPayloadError(t *testing.T) {
	h := newHarness(t)
	// "from" is a data key FCM reserves: the fake refuses the payload with a BadRequest
	// naming message.data.
	_, err := h.client.Send(h.ctx, &messaging.Message{Token: "tok", Data: map[string]string{"from": "x"}})
	if err == nil {
		t.Fatal("Send(reserved data key) = nil error, want 400")
	}
	if f := classify(err, time.Now()); f.reason != FailInvalidArgument || f.action != actDrop {
		t.Errorf("classify(payload 400) = %+v, want invalid_argument, dropped", f)
	}
	h.fcm.Invalidate("tok-bad")
	_, err = h.client.Send(h.ctx, &messaging.Message{Token: "tok-bad"})
	if f := classify(err, time.Now()); f.reason != FailInvalidToken || f.action != actPrune {
		t.Errorf("classify(token 400) = %+v, want invalid_token, pruned", f)
	}
	// The body stays readable for whoever looks next.
	if f := classify(err, time.Now()); f.reason != FailInvalidToken {
		t.Errorf("classify(same error again) = %+v, want invalid_token", f)
	}
}

// TestBatches: a fan-out larger than MaxPushBatch goes out in several SendEach calls of at
// most 500 messages, and every message arrives once.
func TestBatches(t *testing.T) {
	h := newHarness(t)
	rec := &recordingSender{next: h.client}
	cfg, _ := Config{MaxConcurrentBatches: 2}.withDefaults()
	m, _ := newMetrics(nil)
	f := &fanout{sender: rec, clock: h.clock, cfg: cfg, m: m, log: slog.New(slog.DiscardHandler)}
	ds := make([]*delivery, 1203)
	for i := range ds {
		tok := fmt.Sprintf("tok-%04d", i)
		ds[i] = &delivery{dev: device{token: tok}, msg: &messaging.Message{Token: tok, Data: map[string]string{"i": tok}}}
	}
	if err := f.send(h.ctx, ds); err != nil {
		t.Fatal(err)
	}
	if got := rec.sizes(); !slices.Equal(got, []int{203, 500, 500}) {
		t.Errorf("SendEach batch sizes = %v, want [203 500 500]", got)
	}
	if got := len(h.fcm.Sent()); got != len(ds) {
		t.Errorf("accepted = %d, want %d", got, len(ds))
	}
	for _, d := range ds {
		if !d.ok {
			t.Fatalf("delivery %s not ok: %+v", d.dev.token, d.fail)
		}
	}
}

// recordingSender records the size of every SendEach call.
type recordingSender struct {
	next  Sender
	mu    sync.Mutex
	calls []int
}

func (r *recordingSender) SendEach(ctx context.Context, msgs []*messaging.Message) (*messaging.BatchResponse, error) {
	r.mu.Lock()
	r.calls = append(r.calls, len(msgs))
	r.mu.Unlock()
	return r.next.SendEach(ctx, msgs)
}

func (r *recordingSender) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.calls)
	slices.Sort(out)
	return out
}

// TestNewMessagingClient: with HEARTH_FCM_EMULATOR_HOST set, the client sends to that fake
// FCM, without credentials, under the given project.
func TestNewMessagingClient(t *testing.T) {
	h := newHarness(t)
	t.Setenv(FCMEmulatorHostEnv, h.fcm.Addr())
	c, err := NewMessagingClient(h.ctx, h.env.ProjectID)
	if err != nil {
		t.Fatalf("NewMessagingClient() = %v", err)
	}
	if _, err := c.Send(h.ctx, &messaging.Message{Token: "tok-env", Data: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	sent := h.fcm.Sent()
	if len(sent) != 1 || sent[0].Token != "tok-env" || sent[0].Project != h.env.ProjectID {
		t.Errorf("fake received %+v, want one send to tok-env in project %s", sent, h.env.ProjectID)
	}
}
