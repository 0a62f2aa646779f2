package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the polling test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "Usage: hearth"},
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"emulators", "exec"}, 2, "no command given"},
	}
	for _, tt := range tests {
		var out syncBuffer
		if code := run(t.Context(), tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("run(%q) = %d, %q; want %d and output containing %q", tt.args, code, out.String(), tt.code, tt.out)
		}
	}
}

// TestDevStartsAndStops runs `hearth dev` (on free ports), waits for its table, checks that
// the endpoints it prints answer, then stops it as Ctrl-C would and checks the ports are free.
func TestDevStartsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"dev", "--free-ports"}, &out, &errOut) }()

	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		select {
		case code := <-done:
			t.Fatalf("hearth dev exited with %d before it was ready:\n%s\n%s", code, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("hearth dev not ready after 3 minutes:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	table := out.String()
	for _, want := range []string{"alice@example.com", "Demo rooms", "export FIRESTORE_EMULATOR_HOST="} {
		if !strings.Contains(table, want) {
			t.Errorf("dev output lacks %q:\n%s", want, table)
		}
	}
	urls := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindAllString(table, -1)
	if len(urls) < 5 {
		t.Fatalf("dev output has %d endpoint URLs, want at least 5:\n%s", len(urls), table)
	}
	var hosts []string
	for _, u := range urls {
		resp, err := http.Get(u + "/")
		if err != nil {
			t.Errorf("GET %s/ = %v, want an answer", u, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		hosts = append(hosts, strings.TrimPrefix(u, "http://"))
	}
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("hearth dev exit code after Ctrl-C = %d, want 0\n%s", code, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("hearth dev did not stop within a minute of Ctrl-C")
	}
	for _, h := range hosts {
		ln, err := net.Listen("tcp", h)
		if err != nil {
			t.Errorf("%s still taken after hearth dev stopped: %v", h, err)
			continue
		}
		ln.Close()
	}
}
