package fcmfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// slowdown is an injected latency for the next sends (to one token, or to any target).
type slowdown struct {
	token     string // "" matches every send
	remaining int
	delay     time.Duration
}

// SlowNext makes the next n Send requests (to any target) wait delay before FCM handles
// them, as a congested FCM front end does: the request is read at once, then nothing
// happens for delay, then it is handled as usual (an injected failure or token state
// still applies, and a success is recorded in Sent). A client that gives up during the
// wait (its context ended, the connection closed), or whose wait the fake's stop ends, was
// never handled: nothing is sent and no attempt is recorded; Abandoned counts it. It panics if n is negative or delay is not
// positive, which is a bug in the test.
func (s *Server) SlowNext(n int, delay time.Duration) { s.SlowNextFor("", n, delay) }

// SlowNextFor is SlowNext for the sends to one token only; "" means any target.
func (s *Server) SlowNextFor(token string, n int, delay time.Duration) {
	if err := checkSlowdown(n, delay); err != nil {
		panic("fcmfake: SlowNext: " + err.Error())
	}
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.slowdowns = append(s.slowdowns, slowdown{token: token, remaining: n, delay: delay})
	s.mu.Unlock()
	s.log.Info("slowdown injected", "token", token, "count", n, "delay", delay)
}

func checkSlowdown(n int, delay time.Duration) error {
	if n < 0 {
		return fmt.Errorf("count %d is negative", n)
	}
	if delay <= 0 {
		return fmt.Errorf("delay %s is not positive", delay)
	}
	return nil
}

// Held returns how many Send requests are waiting out an injected delay now.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Abandoned returns how many delayed Send requests were given up by their client before
// the fake handled them, since the last reset.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// WaitHeld blocks until at least n Send requests are waiting out an injected delay at
// once, or returns ctx's error saying how many are.
func (s *Server) WaitHeld(ctx context.Context, n int) error {
	if err := s.waitFor(ctx, func() bool { return s.held >= n }); err != nil {
		return fmt.Errorf("fcmfake: wait for %d held requests, have %d: %w", n, s.Held(), err)
	}
	return nil
}

// waitFor blocks until cond (called with s.mu held) is true, or returns ctx's cause. It is
// woken by every request, never polls.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		if s.notify == nil {
			s.notify = make(chan struct{})
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// takeSlowdownLocked consumes one injected slowdown that applies to token, oldest first,
// and returns its delay; 0 when none applies.
func (s *Server) takeSlowdownLocked(token string) time.Duration {
	for i := range s.slowdowns {
		sd := &s.slowdowns[i]
		if sd.token != "" && sd.token != token {
			continue
		}
		d := sd.delay
		sd.remaining--
		if sd.remaining == 0 {
			s.slowdowns = append(s.slowdowns[:i], s.slowdowns[i+1:]...)
		}
		return d
	}
	return 0
}

// hold waits out an injected delay for a request to token. It reports false when the
// client gave up first (the request must then not be handled).
func (s *Server) hold(r *http.Request, token string) bool {
	s.mu.Lock()
	d := s.takeSlowdownLocked(token)
	if d == 0 {
		s.mu.Unlock()
		return true
	}
	s.held++
	s.wakeLocked()
	s.mu.Unlock()

	t := time.NewTimer(d)
	defer t.Stop()
	ok := true
	select {
	case <-t.C:
	case <-r.Context().Done():
		ok = false
	case <-s.closing: // the fake stops: the request is dropped unhandled
		ok = false
	}
	s.mu.Lock()
	s.held--
	if !ok {
		s.abandoned++
	}
	s.wakeLocked()
	s.mu.Unlock()
	if !ok {
		s.log.Debug("delayed request abandoned by its client", "token", token, "delay", d)
	}
	return ok
}

// slowRequest is the body of POST /fake/slow. Count defaults to 1; Delay is a Go
// duration ("10s") or seconds as a number.
type slowRequest struct {
	Delay json.RawMessage `json:"delay"`
	Count *int            `json:"count"`
	Token string          `json:"token"`
}

// handleSlow serves POST /fake/slow.
func (s *Server) handleSlow(w http.ResponseWriter, r *http.Request) {
	var req slowRequest
	body, err := readBody(r)
	if err == nil {
		err = decodeStrict(body, &req)
	}
	n := 1
	if req.Count != nil {
		n = *req.Count
	}
	var delay time.Duration
	if err == nil {
		delay, err = parseRetryAfter(req.Delay)
	}
	if err == nil {
		err = checkSlowdown(n, delay)
	}
	if err != nil {
		controlError(w, "slow: "+err.Error())
		return
	}
	s.SlowNextFor(req.Token, n, delay)
	w.WriteHeader(http.StatusNoContent)
}
