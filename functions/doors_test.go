package functions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// flaky is a trigger on things/{id} that fails its first failures calls per document
// (with a Permanent error if permanent), recording every call.
type flaky struct {
	mu        sync.Mutex
	calls     map[string]int
	failures  int
	permanent bool
}

func (f *flaky) handle(ctx context.Context, ev *firestoreevent.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[ev.Document]++
	if f.calls[ev.Document] <= f.failures {
		err := errors.New("not yet")
		if f.permanent {
			return Permanent(err)
		}
		return err
	}
	return nil
}

func (f *flaky) count(doc string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[doc]
}

// offlinePipeline returns a running pipeline whose Firestore client is never used, with
// the flaky trigger "thing" (written, things/{id}).
func offlinePipeline(t *testing.T, fl *flaky) *Pipeline {
	t.Helper()
	db, err := firestore.NewClient(context.Background(), "demo-offline", option.WithoutAuthentication(), option.WithEndpoint("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := New(Config{DisableSchedulers: true, Retry: RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}},
		Deps{Firestore: db, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(Trigger{Name: "thing", EventType: firestoreevent.TypeWritten, Document: "things/{id}", Handle: fl.handle})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func thingEvent(id string, exists bool) *firestoreevent.Event {
	ev := &firestoreevent.Event{Kind: firestoreevent.KindWritten}
	ev.Type = firestoreevent.TypeWritten
	ev.Project = "demo-offline"
	ev.Document = "things/" + id
	if exists {
		ev.Value = &firestorepb.Document{
			Name:       "projects/demo-offline/databases/(default)/documents/things/" + id,
			CreateTime: timestamppb.Now(), UpdateTime: timestamppb.Now(),
		}
	}
	return ev
}

func post(t *testing.T, url string, ev *firestoreevent.Event) int {
	t.Helper()
	req, err := firestoreevent.NewRequest(t.Context(), url, ev)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestLocalDoor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failures  int
		permanent bool
		exists    bool
		wantCalls int
		want      Stats
	}{
		{"success", 0, false, true, 1, Stats{Received: 1, Succeeded: 1}},
		{"retried until it succeeds", 2, false, true, 3, Stats{Received: 1, Succeeded: 1, Retried: 2}},
		{"attempts exhausted", 5, false, true, 3, Stats{Received: 1, Retried: 2, Failed: 1}},
		{"permanent error not retried", 5, true, true, 1, Stats{Received: 1, Failed: 1}},
		{"empty event ignored", 0, false, false, 0, Stats{Received: 1, Ignored: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := &flaky{calls: map[string]int{}, failures: tc.failures, permanent: tc.permanent}
			p := offlinePipeline(t, fl)
			srv := httptest.NewServer(p.LocalHandler())
			defer srv.Close()
			if got := post(t, srv.URL+firestoreevent.DeliveryPath("demo-offline", "thing"), thingEvent("a", tc.exists)); got != http.StatusNoContent {
				t.Fatalf("POST = %d, want 204", got)
			}
			if err := p.Drain(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := fl.count("things/a"); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if got := p.Stats(); got != tc.want {
				t.Errorf("Stats() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLocalDoorErrors(t *testing.T) {
	p := offlinePipeline(t, &flaky{calls: map[string]int{}})
	srv := httptest.NewServer(p.LocalHandler())
	defer srv.Close()
	if got := post(t, srv.URL+firestoreevent.DeliveryPath("demo-offline", "nope"), thingEvent("a", true)); got != http.StatusNotFound {
		t.Errorf("POST unknown trigger = %d, want 404", got)
	}
	resp, err := http.Post(srv.URL+firestoreevent.DeliveryPath("demo-offline", "thing"), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST without CloudEvent = %d, want 400", resp.StatusCode)
	}
}

// TestLocalDoorAcksAtOnce: the door answers while the handler is still running (the
// emulator's single delivery thread must not wait for handlers).
func TestLocalDoorAcksAtOnce(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	p := offlinePipeline(t, &flaky{calls: map[string]int{}})
	p.Add(Trigger{Name: "slow", EventType: firestoreevent.TypeWritten, Document: "slow/{id}", Handle: func(ctx context.Context, ev *firestoreevent.Event) error {
		started <- struct{}{}
		<-release
		return nil
	}})
	srv := httptest.NewServer(p.LocalHandler())
	defer srv.Close()
	for _, id := range []string{"a", "b"} {
		ev := thingEvent(id, true)
		ev.Document = "slow/" + id
		ev.Value.Name = "projects/demo-offline/databases/(default)/documents/slow/" + id
		if got := post(t, srv.URL+firestoreevent.DeliveryPath("demo-offline", "slow"), ev); got != http.StatusNoContent {
			t.Fatalf("POST = %d, want 204", got)
		}
	}
	<-started
	<-started // both running at once, both acknowledged
	if s := p.Stats(); s.Pending != 2 {
		t.Errorf("Stats().Pending = %d, want 2", s.Pending)
	}
	close(release)
	if err := p.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestCloudEventHandler(t *testing.T) {
	fl := &flaky{calls: map[string]int{}, failures: 1}
	p := offlinePipeline(t, fl)
	srv := httptest.NewServer(p.CloudEventHandler())
	defer srv.Close()
	for _, tc := range []struct {
		name, path string
		ev         *firestoreevent.Event
		want       int
		wantCalls  int
	}{
		{"failure asks for a retry", "/events/thing", thingEvent("a", true), http.StatusInternalServerError, 1},
		{"the retry succeeds", "/events/thing", thingEvent("a", true), http.StatusNoContent, 2},
		{"routed by document", "/events", thingEvent("b", true), http.StatusInternalServerError, 1},
		{"routed by document at /", "/", thingEvent("b", true), http.StatusNoContent, 2},
		{"unknown trigger", "/events/nope", thingEvent("c", true), http.StatusNotFound, 0},
		{"no trigger matches", "/events", func() *firestoreevent.Event {
			ev := thingEvent("c", true)
			ev.Document = "other/c"
			ev.Value.Name = "projects/demo-offline/databases/(default)/documents/other/c"
			return ev
		}(), http.StatusNoContent, 0},
		{"empty event", "/events/thing", thingEvent("d", false), http.StatusNoContent, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(t, srv.URL+tc.path, tc.ev); got != tc.want {
				t.Errorf("POST %s = %d, want %d", tc.path, got, tc.want)
			}
			if got := fl.count(tc.ev.Document); got != tc.wantCalls {
				t.Errorf("calls for %s = %d, want %d", tc.ev.Document, got, tc.wantCalls)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr bool
		check   func(Config) bool
	}{
		{"defaults", Config{}, false, func(c Config) bool {
			return c.Workers == DefaultWorkers && c.Retry.MaxAttempts == DefaultMaxAttempts &&
				c.PresenceSweepInterval == DefaultPresenceSweepInterval && c.InstanceID != "" &&
				c.leaseTTL(c.PresenceSweepInterval) == 2*DefaultPresenceSweepInterval
		}},
		{"kept", Config{Workers: 3, LeaseTTL: time.Minute}, false, func(c Config) bool {
			return c.Workers == 3 && c.leaseTTL(time.Second) == time.Minute
		}},
		{"negative", Config{Workers: -1}, true, nil},
		{"backoff inverted", Config{Retry: RetryPolicy{InitialBackoff: time.Minute, MaxBackoff: time.Second}}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.withDefaults()
			if (err != nil) != tc.wantErr {
				t.Fatalf("withDefaults() error = %v, want error %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(got) {
				t.Errorf("withDefaults() = %+v", got)
			}
		})
	}
}

func TestAddPanics(t *testing.T) {
	p := offlinePipeline(t, &flaky{calls: map[string]int{}})
	h := func(context.Context, *firestoreevent.Event) error { return nil }
	for _, tc := range []struct {
		name string
		t    Trigger
	}{
		{"taken name", Trigger{Name: TriggerMessageWritten, EventType: firestoreevent.TypeCreated, Document: "x/{id}", Handle: h}},
		{"no handler", Trigger{Name: "x", EventType: firestoreevent.TypeCreated, Document: "x/{id}"}},
		{"bad type", Trigger{Name: "x", EventType: "google.cloud.pubsub.topic.v1.messagePublished", Document: "x/{id}", Handle: h}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%+v) did not panic", tc.t)
				}
			}()
			p.Add(tc.t)
		})
	}
	if got := len(p.Triggers()); got != len(BuiltinTriggerNames())+1 {
		t.Errorf("len(Triggers()) = %d, want %d", got, len(BuiltinTriggerNames())+1)
	}
}

func TestBackoff(t *testing.T) {
	r := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for _, tc := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second},
	} {
		for range 20 {
			if d := backoff(r, tc.attempt); d < tc.min || d > tc.max {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}
