package emulator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// received is one request the stand-in events service got.
type received struct {
	path, auth, contentType, source, id string
	body                                []byte
	ev                                  *firestoreevent.Event
	err                                 error
}

// eventsStub records requests and answers with the statuses of answers, in turn (the
// last one after that).
type eventsStub struct {
	mu      sync.Mutex
	got     []received
	answers []int
}

func (s *eventsStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rr := received{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"),
		source: r.Header.Get("Ce-Source"), id: r.Header.Get("Ce-Id"), body: body}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	rr.ev, rr.err = firestoreevent.FromHTTP(r)
	s.mu.Lock()
	s.got = append(s.got, rr)
	code := s.answers[min(len(s.got), len(s.answers))-1]
	s.mu.Unlock()
	w.WriteHeader(code)
}

func (s *eventsStub) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// emulatorDelivery is the Firestore emulator's delivery of a created message.
func emulatorDelivery(t *testing.T, url string) *http.Request {
	t.Helper()
	name := "projects/demo-fwd/databases/(default)/documents/rooms/r1/messages/m1"
	ev := &firestoreevent.Event{Meta: firestoreevent.Meta{ID: "ev-1", Type: firestoreevent.TypeWritten,
		Source: "//firestore.googleapis.com/projects/projects/demo-fwd/databases/(default)"},
		Value: &firestorepb.Document{Name: name, Fields: map[string]*firestorepb.Value{
			"text": {ValueType: &firestorepb.Value_StringValue{StringValue: "hi"}}}}}
	req, err := firestoreevent.NewRequest(t.Context(), url+firestoreevent.DeliveryPath("demo-fwd", "onMessageWritten"), ev)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestEventarcForwarder: a delivery of the emulator reaches the events service as
// Eventarc sends it (POST /events/{trigger}, raw protobuf, production source, the same
// event id, a bearer token for the audience); 503 is retried until it succeeds, 403 is
// passed back without a retry, and the token source's error is reported.
func TestEventarcForwarder(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		answers []int
		want    int // the status the emulator gets
		tries   int
	}{
		{"accepted", []int{204}, 204, 1},
		{"retried after 503", []int{503, 500, 200}, 204, 3},
		{"forbidden, not retried", []int{403}, 403, 1},
		{"unauthenticated, not retried", []int{401}, 401, 1},
		{"still failing after the attempts", []int{503}, 503, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stub := &eventsStub{answers: tt.answers}
			srv := httptest.NewServer(stub)
			t.Cleanup(srv.Close)
			var audiences []string
			var mu sync.Mutex
			fwd, err := emulator.NewEventarcForwarder(emulator.EventarcConfig{
				Target: srv.URL, Attempts: 4, Backoff: time.Millisecond,
				Token: func(_ context.Context, aud string) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					audiences = append(audiences, aud)
					return "tok-for-" + aud, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			emu := httptest.NewServer(fwd)
			t.Cleanup(emu.Close)
			resp, err := http.DefaultClient.Do(emulatorDelivery(t, emu.URL))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("the emulator got %s, want %d", resp.Status, tt.want)
			}
			got := stub.requests()
			if len(got) != tt.tries {
				t.Fatalf("the events service got %d requests, want %d", len(got), tt.tries)
			}
			for _, r := range got {
				if r.path != "/events/onMessageWritten" || r.auth != "Bearer tok-for-"+srv.URL || r.contentType != "application/protobuf" {
					t.Errorf("request: path %q, auth %q, content type %q; want /events/onMessageWritten, a token for %s, application/protobuf",
						r.path, r.auth, r.contentType, srv.URL)
				}
				if r.source != "//firestore.googleapis.com/projects/demo-fwd/databases/(default)" || r.id != "ev-1" {
					t.Errorf("ce-source %q, ce-id %q: want the production source and the emulator's id", r.source, r.id)
				}
				if r.err != nil || r.ev.Document != "rooms/r1/messages/m1" || r.ev.After()["text"] != "hi" {
					t.Errorf("event as decoded by the service: %+v, %v", r.ev, r.err)
				}
				if strings.HasPrefix(string(r.body), "Cg") { // base64 of the protobuf's first field tag
					t.Errorf("body is the emulator's base64 text, want the raw protobuf: %q", r.body)
				}
			}
			if len(audiences) != tt.tries {
				t.Errorf("tokens minted: %d, want one per attempt (%d)", len(audiences), tt.tries)
			}
		})
	}
	t.Run("token source fails", func(t *testing.T) {
		t.Parallel()
		stub := &eventsStub{answers: []int{204}}
		srv := httptest.NewServer(stub)
		t.Cleanup(srv.Close)
		fwd, err := emulator.NewEventarcForwarder(emulator.EventarcConfig{Target: srv.URL, Attempts: 2, Backoff: time.Millisecond,
			Token: func(context.Context, string) (string, error) { return "", errors.New("no key") }})
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		fwd.ServeHTTP(w, emulatorDelivery(t, "http://emulator"))
		if w.Code/100 == 2 || !strings.Contains(w.Body.String(), "no key") || len(stub.requests()) != 0 {
			t.Errorf("with a failing token source: %d %q, %d requests sent; want an error naming it and nothing sent",
				w.Code, w.Body.String(), len(stub.requests()))
		}
	})
}

// TestNewEventarcForwarderValidates: a target that is not a base URL, or no token
// source, is refused.
func TestNewEventarcForwarderValidates(t *testing.T) {
	t.Parallel()
	tok := func(context.Context, string) (string, error) { return "t", nil }
	for _, target := range []string{"", "127.0.0.1:8080", "ftp://x", "http://", "http://127.0.0.1:1/events"} {
		if _, err := emulator.NewEventarcForwarder(emulator.EventarcConfig{Target: target, Token: tok}); err == nil {
			t.Errorf("NewEventarcForwarder(target %q) = nil error", target)
		}
	}
	if _, err := emulator.NewEventarcForwarder(emulator.EventarcConfig{Target: "http://127.0.0.1:1"}); err == nil {
		t.Error("NewEventarcForwarder(no token source) = nil error")
	}
}
