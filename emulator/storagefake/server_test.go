package storagefake_test

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

func TestNewRejects(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		cfg  storagefake.Config
	}{
		{name: "no bucket", cfg: storagefake.Config{}},
		{name: "bad bucket", cfg: storagefake.Config{Bucket: "a/b"}},
		{name: "signer without key", cfg: storagefake.Config{Bucket: "b", Signers: map[string]*rsa.PublicKey{"a@b": nil}}},
		{name: "storage port in use", cfg: storagefake.Config{Bucket: "b", Addr: busy.Addr().String()}},
		{name: "pubsub port in use", cfg: storagefake.Config{Bucket: "b", Addr: "127.0.0.1:0", PubSubAddr: busy.Addr().String()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = slog.New(slog.DiscardHandler)
			s, err := storagefake.New(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New(%+v) = nil error, want an error", tc.cfg)
			}
		})
	}
}

func TestRunStopsWhenContextDone(t *testing.T) {
	t.Parallel()
	s, err := storagefake.New(storagefake.Config{
		Bucket: testBucket, PubSubAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if err := s.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if s.URL() != "http://"+s.Addr() || s.PubSubAddr() == "" || s.Bucket() != testBucket {
		t.Errorf("URL, Addr, PubSubAddr, Bucket = %q, %q, %q, %q", s.URL(), s.Addr(), s.PubSubAddr(), s.Bucket())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := s.Ready(t.Context()); err == nil {
		t.Error("Ready after stop = nil, want an error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	// Both ports are free again.
	for _, addr := range []string{s.Addr(), s.PubSubAddr()} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("port %s still in use after stop: %v", addr, err)
			continue
		}
		ln.Close()
	}
}

// TestPubSubEnvRestored checks the one global side effect: fake-gcs needs
// PUBSUB_EMULATOR_HOST while it is built, and the caller's value is back
// afterwards while events still reach this server's Pub/Sub.
// Not parallel (t.Setenv), so no other test changes the variable meanwhile.
func TestPubSubEnvRestored(t *testing.T) {
	const theirs = "127.0.0.1:1" // nothing listens there
	t.Setenv("PUBSUB_EMULATOR_HOST", theirs)
	e := newEnv(t, withEvents)
	if got := os.Getenv("PUBSUB_EMULATOR_HOST"); got != theirs {
		t.Fatalf("PUBSUB_EMULATOR_HOST = %q after Start, want %q", got, theirs)
	}
	events := receive(t, e, "env", nil)
	e.writeObject(t, "media/r1/u1/env.jpg", "image/jpeg", []byte("x"))
	if ev := next(t, events); ev.Name != "media/r1/u1/env.jpg" {
		t.Errorf("event for %q, want media/r1/u1/env.jpg", ev.Name)
	}
}

func TestTrustKeyAfterStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rotated, err := storagefake.NewSigner(e.signer.AccessID()) // same account, new key
	if err != nil {
		t.Fatal(err)
	}
	const object = "media/r1/u1/rotated.jpg"
	u := sign(t, rotated, object, e.putOptions("image/jpeg", "0,10"))
	if status, _ := put(t, u, []byte("x"), uploadHeaders("image/jpeg", "0,10")); status != 403 {
		t.Fatalf("PUT with an untrusted key = %d, want 403", status)
	}
	e.srv.TrustKey(rotated.AccessID(), rotated.PublicKey())
	if status, ge := put(t, u, []byte("x"), uploadHeaders("image/jpeg", "0,10")); status != 200 {
		t.Fatalf("PUT after TrustKey = %d %s, want 200", status, ge.Code)
	}
	// The first key is still trusted too.
	u = e.signPut(t, object, "image/jpeg", "0,10")
	if status, ge := put(t, u, []byte("y"), uploadHeaders("image/jpeg", "0,10")); status != 200 {
		t.Fatalf("PUT with the original key = %d %s, want 200", status, ge.Code)
	}
}
