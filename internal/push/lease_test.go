package push

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestSendBoundedByLease: a digest whose send outlives its lease would be claimed and sent
// again by another instance. Two instances share the queue; FCM answers the first
// instance's send slowly, or with a 503 whose Retry-After the Admin SDK waits out inside
// SendEach. While the first instance is stuck in the SDK, the lease runs out (the fake
// clock moves past it) and the second instance flushes. Every send runs under a deadline
// below its lease, so the first instance gives up its send before the second can claim
// the entry: the digest reaches the device exactly once.
func TestSendBoundedByLease(t *testing.T) {
	tests := []struct {
		name   string
		inject func(h *harness)
		// stuck waits until the first instance's send is held inside the SDK.
		stuck func(ctx context.Context, h *harness) error
	}{
		{
			name:   "slow answer",
			inject: func(h *harness) { h.fcm.SlowNextFor("tok-bob", 1, 10*time.Second) },
			stuck:  func(ctx context.Context, h *harness) error { return h.fcm.WaitHeld(ctx, 1) },
		},
		{
			name:   "503 with Retry-After",
			inject: func(h *harness) { h.fcm.FailNextFor("tok-bob", 1, http.StatusServiceUnavailable, 10*time.Second) },
			stuck: func(ctx context.Context, h *harness) error {
				_, err := h.fcm.WaitAttempts(ctx, 2) // the first push, then the 503
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.room("team", model.RoomGroup, "Team", "alice", "bob")
			h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
			a := h.notifier(Config{InstanceID: "a"})
			b := h.notifier(Config{InstanceID: "b"})
			h.say(a, "team", "m1", "alice", "hi") // pushed at once; opens the window
			h.say(a, "team", "m2", "alice", "still there?")
			h.say(a, "team", "m3", "alice", "hello?")
			if sent := h.fcm.SentTo("tok-bob"); len(sent) != 1 {
				t.Fatalf("pushes before the window ends = %d, want 1", len(sent))
			}
			h.clock.Advance(DefaultWindow + time.Second)
			tt.inject(h)

			flushed := make(chan error, 1)
			go func() {
				_, err := a.Flush(h.ctx)
				flushed <- err
			}()
			wctx, cancel := context.WithTimeout(h.ctx, 60*time.Second)
			defer cancel()
			if err := tt.stuck(wctx, h); err != nil {
				t.Fatalf("instance a's digest never reached FCM: %v", err)
			}
			// The lease of instance a runs out while its send is stuck; instance b flushes.
			h.clock.Advance(DefaultLease + time.Second)
			if _, err := b.Flush(h.ctx); err != nil {
				t.Fatalf("b.Flush() = %v", err)
			}
			select {
			case err := <-flushed:
				if err != nil {
					t.Logf("a.Flush() = %v", err)
				}
			case <-wctx.Done():
				t.Fatalf("a.Flush() still running after its lease ended and 60 s passed")
			}
			// Whatever a gave back is due again later: let it go out.
			h.clock.Advance(time.Hour)
			h.flush(b)

			var digests []string
			for _, s := range h.fcm.SentTo("tok-bob")[1:] {
				digests = append(digests, s.Body)
			}
			if len(digests) != 1 {
				t.Fatalf("digest delivered %d times (%q), want exactly once", len(digests), digests)
			}
			if e := h.entry("bob", "team"); e == nil || e.Count != 0 || e.LeaseID != "" {
				t.Errorf("entry after the digest = %+v, want nothing pending, no lease", e)
			}
		})
	}
}

// TestStopMidSendRecordsWhatWasSent: when the process stops (ctx ends) while a digest is
// in flight, what FCM accepted is recorded before Flush returns; the entry is not left
// leased to be sent again when the lease expires.
func TestStopMidSendRecordsWhatWasSent(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "phone", "tok-phone", model.PlatformAndroid, h.clock.Now())
	h.device("bob", "tablet", "tok-tablet", model.PlatformAndroid, h.clock.Now())
	// The Admin SDK's client, with a transport that says when it has read FCM's answer to
	// the phone: FCM recording a send is not yet the client knowing it.
	phone := &answerSignal{base: http.DefaultTransport, token: "tok-phone", read: make(chan struct{})}
	app, err := firebase.NewApp(h.ctx, &firebase.Config{ProjectID: h.env.ProjectID},
		append(fcmfake.MessagingOptions(h.fcm.Addr()), option.WithHTTPClient(&http.Client{Transport: phone}))...)
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Messaging(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.client = client
	n := h.notifier(Config{})
	h.say(n, "team", "m1", "alice", "hi")
	h.say(n, "team", "m2", "alice", "still there?")
	h.clock.Advance(DefaultWindow + time.Second)
	h.fcm.SlowNextFor("tok-tablet", 1, time.Hour)
	phone.armed.Store(true)

	ctx, stop := context.WithCancel(h.ctx)
	defer stop()
	flushed := make(chan error, 1)
	go func() {
		_, err := n.Flush(ctx)
		flushed <- err
	}()
	wctx, cancel := context.WithTimeout(h.ctx, 60*time.Second)
	defer cancel()
	select {
	case <-phone.read:
	case <-wctx.Done():
		t.Fatal("the digest to the phone was never answered")
	}
	if err := h.fcm.WaitHeld(wctx, 1); err != nil {
		t.Fatalf("the digest never reached FCM for the tablet: %v", err)
	}
	stop()
	select {
	case err := <-flushed:
		if err == nil {
			t.Errorf("Flush() stopped mid-send = nil, want the context's error")
		}
	case <-wctx.Done():
		t.Fatal("Flush() still running 60 s after its context ended")
	}
	if e := h.entry("bob", "team"); e == nil || e.Count != 0 || e.LeaseID != "" || !e.DueAt.IsZero() {
		t.Errorf("entry after a stop mid-send = %+v, want the digest recorded as sent: nothing pending, no lease", e)
	}
}

// answerSignal is an HTTP transport that closes read once the client has read and closed
// FCM's answer to a send to token (after armed is set).
type answerSignal struct {
	base  http.RoundTripper
	token string
	armed atomic.Bool
	once  sync.Once
	read  chan struct{}
}

func (a *answerSignal) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := a.base.RoundTrip(req)
	if err == nil && a.armed.Load() && bytes.Contains(body, []byte(`"`+a.token+`"`)) {
		resp.Body = &closeHook{ReadCloser: resp.Body, f: func() { a.once.Do(func() { close(a.read) }) }}
	}
	return resp, err
}

type closeHook struct {
	io.ReadCloser
	f func()
}

func (c *closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.f()
	return err
}
