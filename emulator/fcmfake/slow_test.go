package fcmfake

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"
)

// TestSlowNext: a delayed send is handled after its delay, through the Admin SDK; a send
// whose client gives up during the delay is never handled (nothing sent, no attempt), and
// the slowdowns are used up in order.
func TestSlowNext(t *testing.T) {
	s, client := startFake(t)
	msg := &messaging.Message{Token: "slow", Data: map[string]string{"k": "v"}}
	s.SlowNextFor("slow", 1, 20*time.Millisecond)
	if _, err := client.Send(t.Context(), msg); err != nil {
		t.Fatalf("delayed Send() = %v, want success", err)
	}
	if got := s.SentTo("slow"); len(got) != 1 {
		t.Fatalf("SentTo(slow) after the delayed send = %d sends, want 1", len(got))
	}

	s.SlowNextFor("slow", 1, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := client.Send(ctx, msg)
		errc <- err
	}()
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	if err := s.WaitHeld(wctx, 1); err != nil {
		t.Fatal(err)
	}
	if st := s.State(); len(st.Slowdowns) != 0 {
		t.Errorf("State().Slowdowns while the only one is in use = %+v, want none", st.Slowdowns)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("Send() given up during the delay = nil, want its context's error")
	}
	if err := s.waitFor(wctx, func() bool { return s.abandoned == 1 && s.held == 0 }); err != nil {
		t.Fatalf("abandoned = %d, held = %d; want 1, 0: %v", s.Abandoned(), s.Held(), err)
	}
	if got, att := s.SentTo("slow"), s.Attempts(); len(got) != 1 || len(att) != 1 {
		t.Errorf("after an abandoned send: %d sends, %d attempts; want 1, 1 (the abandoned one never handled)", len(got), len(att))
	}
	// Used up: the next send is answered at once (an hour's delay would outlast the test).
	if _, err := client.Send(wctx, msg); err != nil {
		t.Errorf("Send() after the slowdowns = %v", err)
	}
	// Another token is not delayed by a token's slowdown.
	s.SlowNextFor("slow", 1, time.Hour)
	if _, err := client.Send(wctx, &messaging.Message{Token: "fast"}); err != nil {
		t.Errorf("Send() to another token = %v", err)
	}
	if st := s.State(); len(st.Slowdowns) != 1 || st.Slowdowns[0] != (PendingSlowdown{Token: "slow", Remaining: 1, Delay: "1h0m0s"}) {
		t.Errorf("State().Slowdowns = %+v, want the pending one for slow", st.Slowdowns)
	}
	s.Reset()
	if st := s.State(); len(st.Slowdowns) != 0 || s.Abandoned() != 0 {
		t.Errorf("after Reset: slowdowns %+v, abandoned %d; want none", st.Slowdowns, s.Abandoned())
	}
}

// TestSlowOverHTTP: POST /fake/slow injects delays and refuses bad input.
func TestSlowOverHTTP(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	for _, bad := range []string{`{}`, `{"delay":"-1s"}`, `{"delay":0}`, `{"delay":"soon"}`, `{"delay":"1s","count":-1}`, `{"delay":"1s","times":2}`, `[`} {
		if resp, b := do(t, ts, http.MethodPost, "/fake/slow", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /fake/slow %s = %d %s, want 400", bad, resp.StatusCode, b)
		}
	}
	if st := s.State(); len(st.Slowdowns) != 0 {
		t.Fatalf("State().Slowdowns after refused calls = %+v, want none", st.Slowdowns)
	}
	if resp, b := do(t, ts, http.MethodPost, "/fake/slow", `{"delay":"10ms","count":2,"token":"t"}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /fake/slow = %d %s, want 204", resp.StatusCode, b)
	}
	if resp, b := do(t, ts, http.MethodGet, "/fake/state", ""); resp.StatusCode != 200 || string(b) != `{"tokens":{},"failures":[],"slowdowns":[{"token":"t","remaining":2,"delay":"10ms"}]}` {
		t.Errorf("GET /fake/state = %d %s", resp.StatusCode, b)
	}
	for range 2 {
		if resp, b := do(t, ts, http.MethodPost, sendPath, `{"message":{"token":"t"}}`); resp.StatusCode != 200 {
			t.Errorf("delayed send = %d %s, want 200", resp.StatusCode, b)
		}
	}
	if st := s.State(); len(st.Slowdowns) != 0 || len(s.SentTo("t")) != 2 {
		t.Errorf("after two delayed sends: slowdowns %+v, sent %d; want none, 2", st.Slowdowns, len(s.SentTo("t")))
	}
}

// TestRunStopsWithDelayedRequest: stopping the fake ends the delays of requests in flight:
// each is dropped unhandled (no answer, nothing sent) and Run returns at once, not after
// the delay or its shutdown timeout.
func TestRunStopsWithDelayedRequest(t *testing.T) {
	lines := make(chan slog.Record, 16)
	s := New(Config{Logger: slog.New(chanHandler(lines))})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, "127.0.0.1:0") }() // a graceful stop: waits for handlers
	for r := range lines {
		if r.Message == "listening" {
			break
		}
	}
	s.SlowNext(1, time.Hour)
	posted := make(chan error, 1)
	go func() {
		resp, err := http.Post(s.URL()+sendPath, "application/json", strings.NewReader(`{"message":{"token":"t"}}`))
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %s", resp.Status)
		}
		posted <- err
	}()
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	if err := s.WaitHeld(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run() stopped with a delayed request = %v, want nil", err)
		}
	case <-wctx.Done():
		t.Fatal("the fake did not stop within 30 s with a delayed request in flight")
	}
	select {
	case err := <-posted:
		if err == nil || strings.Contains(err.Error(), "answered") {
			t.Errorf("the delayed request at stop = %v, want a dropped connection", err)
		}
	case <-wctx.Done():
		t.Fatal("the delayed request is still held 30 s after the fake stopped")
	}
	if len(s.Sent()) != 0 || s.Abandoned() != 1 {
		t.Errorf("after the stop: %d sent, %d abandoned; want 0, 1", len(s.Sent()), s.Abandoned())
	}
}
