package fcmfake

import (
	"context"
	"net/http"
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
