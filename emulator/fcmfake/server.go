// Package fcmfake is a fake of the FCM HTTP v1 API for tests and local development. No FCM
// emulator exists, so Hearth ships this one: it speaks the wire format the Firebase Admin SDK
// sends, answers with the error bodies that drive messaging.IsUnregistered and friends, and
// records every message so that tests can assert on what a device would have received.
//
// Endpoints (all JSON):
//
//	POST   /v1/projects/{project}/messages:send     FCM's Send
//	GET    /v1/sent[?token=&topic=&project=]        accepted sends, in order
//	DELETE /v1/sent                                 clear the sent and attempt logs
//	GET    /v1/attempts[?token=&status=]            every Send request and its status
//	POST   /fake/tokens/{token}/unregistered        sends to token answer 404 UNREGISTERED
//	POST   /fake/tokens/{token}/invalid             ... 400 INVALID_ARGUMENT (bad token)
//	POST   /fake/tokens/{token}/sender-id-mismatch  ... 403 SENDER_ID_MISMATCH
//	DELETE /fake/tokens/{token}                     the token works again
//	POST   /fake/fail  {"status":429,"count":2,"retryAfter":"1","token":"t"}
//	POST   /fake/slow  {"delay":"10s","count":1,"token":"t"}  answer the next sends late
//	POST   /fake/reset                              forget everything
//	GET    /fake/state                              token states and pending failures
//
// Point the Admin SDK at it with NewMessagingClient in tests, or with MessagingOptions when
// HEARTH_FCM_EMULATOR_HOST is set. Topic management (SubscribeToTopic) and the retired
// /batch endpoint are not faked.
package fcmfake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Config configures a Server. The zero value is ready to use.
type Config struct {
	// Logger receives the fake's own lines: control calls, injected failures and server
	// errors. Nil discards them. Sends themselves are not logged; read them with Sent.
	Logger *slog.Logger
	// Now is the clock for the times in Sent and Attempt records; nil means time.Now.
	Now func() time.Time
	// MaxPayloadBytes caps the size FCM limits (data keys and values plus notification title
	// and body). 0 means FCM's 4096 bytes; a negative value turns the check off.
	MaxPayloadBytes int
}

// Server is a fake FCM HTTP v1 server. Its methods are safe for concurrent use; the HTTP
// side serves the Admin SDK's 50 concurrent senders without holding a lock while it decodes
// or encodes JSON.
type Server struct {
	log     *slog.Logger
	now     func() time.Time
	limit   int
	handler http.Handler
	canned  map[int]cannedError // read-only after New

	mu        sync.Mutex
	sent      []Sent
	attempts  []Attempt
	tokens    map[string]cannedError // token -> the error every send to it gets
	failures  []failure              // injected failures, consumed in order
	slowdowns []slowdown             // injected delays, consumed in order
	held      int                    // requests waiting out a delay now
	abandoned int                    // delayed requests their client gave up
	notify    chan struct{}          // closed on the next attempt; nil when nobody waits

	closing     chan struct{} // closed when the server stops: delayed requests give up
	closingOnce sync.Once

	life sync.Mutex
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve returns
}

// New returns a Server that is not yet listening: call Start, or mount Handler elsewhere.
func New(cfg Config) *Server {
	s := &Server{
		log:     cfg.Logger,
		now:     cfg.Now,
		limit:   cfg.MaxPayloadBytes,
		canned:  make(map[int]cannedError),
		tokens:  make(map[string]cannedError),
		closing: make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "fcmfake")
	if s.now == nil {
		s.now = time.Now
	}
	if s.limit == 0 {
		s.limit = maxPayloadBytes
	}
	for code := range fcmStatuses() {
		s.canned[code] = newCannedError(code)
	}
	s.handler = s.routes()
	return s
}

// routes is the fake's one route table.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", s.handleSend)
	mux.HandleFunc("GET /v1/sent", s.handleListSent)
	mux.HandleFunc("DELETE /v1/sent", s.handleClearSent)
	mux.HandleFunc("GET /v1/attempts", s.handleListAttempts)
	mux.HandleFunc("POST /fake/tokens/{token}/unregistered", s.tokenHandler(http.StatusNotFound))
	mux.HandleFunc("POST /fake/tokens/{token}/invalid", s.tokenHandler(http.StatusBadRequest))
	mux.HandleFunc("POST /fake/tokens/{token}/sender-id-mismatch", s.tokenHandler(http.StatusForbidden))
	mux.HandleFunc("DELETE /fake/tokens/{token}", s.handleRestore)
	mux.HandleFunc("POST /fake/fail", s.handleFail)
	mux.HandleFunc("POST /fake/slow", s.handleSlow)
	mux.HandleFunc("POST /fake/reset", s.handleReset)
	mux.HandleFunc("GET /fake/state", s.handleState)
	return mux
}

// Handler returns the fake's HTTP handler, for mounting in another server or httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the background
// until Close. ctx bounds only the listen. A Server can be started once.
func (s *Server) Start(ctx context.Context, addr string) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.srv != nil {
		return errors.New("fcmfake: start: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("fcmfake: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.srv, s.ln, s.done = srv, ln, done
	s.log.Info("listening", "addr", ln.Addr().String())
	return nil
}

// Run starts the fake on addr and serves until ctx is done, then shuts down gracefully. It
// is the form cmd/hearth runs under its errgroup.
func (s *Server) Run(ctx context.Context, addr string) error {
	if err := s.Start(ctx, addr); err != nil {
		return err
	}
	<-ctx.Done()
	s.life.Lock()
	srv, done := s.srv, s.done
	s.life.Unlock()
	s.closingOnce.Do(func() { close(s.closing) })
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	if err != nil {
		return fmt.Errorf("fcmfake: shutdown: %w", err)
	}
	return nil
}

// Addr returns the host:port the fake listens on, or "" before Start.
func (s *Server) Addr() string {
	s.life.Lock()
	defer s.life.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the fake's base URL, "http://host:port", or "" before Start.
func (s *Server) URL() string {
	if a := s.Addr(); a != "" {
		return "http://" + a
	}
	return ""
}

// Close stops the server at once, dropping open connections, and waits for it to exit.
// The recorded sends stay readable. Close before Start does nothing.
func (s *Server) Close() error {
	s.life.Lock()
	srv, done := s.srv, s.done
	s.life.Unlock()
	if srv == nil {
		return nil
	}
	s.closingOnce.Do(func() { close(s.closing) })
	err := srv.Close()
	<-done
	if err != nil {
		return fmt.Errorf("fcmfake: close: %w", err)
	}
	return nil
}
