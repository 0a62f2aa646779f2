package fcmfake

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Unregister makes every later send to token fail with 404 NOT_FOUND / UNREGISTERED, as FCM
// answers for an app that was uninstalled (messaging.IsUnregistered).
func (s *Server) Unregister(token string) { s.setToken(token, http.StatusNotFound) }

// Invalidate makes every later send to token fail with 400 INVALID_ARGUMENT naming
// message.token, as FCM answers for a malformed token (messaging.IsInvalidArgument).
func (s *Server) Invalidate(token string) { s.setToken(token, http.StatusBadRequest) }

// MismatchSender makes every later send to token fail with 403 PERMISSION_DENIED /
// SENDER_ID_MISMATCH, as for a token of another Firebase project
// (messaging.IsSenderIDMismatch).
func (s *Server) MismatchSender(token string) { s.setToken(token, http.StatusForbidden) }

// Restore undoes Unregister, Invalidate and MismatchSender for token.
func (s *Server) Restore(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
	s.log.Debug("token restored", "token", token)
}

func (s *Server) setToken(token string, status int) {
	e := s.canned[status]
	s.mu.Lock()
	s.tokens[token] = e
	s.mu.Unlock()
	s.log.Debug("token state", "token", token, "status", status, "errorCode", e.errorCode)
}

// FailNext makes the next n Send requests (dry runs included), to any target, fail with the HTTP status: 429
// (QUOTA_EXCEEDED), 500 (INTERNAL), 503 (UNAVAILABLE, which the Admin SDK retries), or
// 400/401/403/404 with FCM's bodies for those; any other 4xx or 5xx gets a bare body.
// A positive retryAfter adds a Retry-After header, in whole seconds rounded up. Failures
// are consumed in the order they were added, before token states are looked at. It panics
// if n is negative or status is not an error status, which is a bug in the test.
func (s *Server) FailNext(n int, status int, retryAfter time.Duration) {
	s.FailNextFor("", n, status, retryAfter)
}

// FailNextFor is FailNext for the sends to one token only; "" means any target.
func (s *Server) FailNextFor(token string, n int, status int, retryAfter time.Duration) {
	if err := checkFailure(n, status); err != nil {
		panic("fcmfake: FailNext: " + err.Error())
	}
	if n == 0 {
		return
	}
	e, ok := s.canned[status]
	if !ok {
		e = newCannedError(status)
	}
	s.mu.Lock()
	s.failures = append(s.failures, failure{token: token, remaining: n, err: e, retryAfter: retryAfter})
	s.mu.Unlock()
	s.log.Info("failures injected", "token", token, "count", n, "status", status, "retryAfter", retryAfter)
}

func checkFailure(n, status int) error {
	if n < 0 {
		return fmt.Errorf("count %d is negative", n)
	}
	if status < 400 || status > 599 {
		return fmt.Errorf("status %d is not an HTTP error status", status)
	}
	return nil
}

// Sent returns every accepted send since the last reset, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// SentTo returns the accepted sends to one token, in order.
func (s *Server) SentTo(token string) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.Token == token {
			out = append(out, m)
		}
	}
	return out
}

// Attempts returns every Send request since the last reset, successful or not, in order.
func (s *Server) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// WaitSent blocks until at least n sends have been accepted and returns them all, or
// returns what there is with ctx's error. It is woken by each request, never polls.
func (s *Server) WaitSent(ctx context.Context, n int) ([]Sent, error) {
	return waitLog(ctx, s, n, "sends", func() []Sent { return s.sent })
}

// WaitAttempts blocks until at least n Send requests have been answered (counting failures
// and retries) and returns them all, or returns what there is with ctx's error.
func (s *Server) WaitAttempts(ctx context.Context, n int) ([]Attempt, error) {
	return waitLog(ctx, s, n, "attempts", func() []Attempt { return s.attempts })
}

// waitLog waits until the log returned by get (called with s.mu held) has n entries.
func waitLog[T any](ctx context.Context, s *Server, n int, what string, get func() []T) ([]T, error) {
	for {
		s.mu.Lock()
		list := get()
		if len(list) >= n {
			out := slices.Clone(list)
			s.mu.Unlock()
			return out, nil
		}
		if s.notify == nil {
			s.notify = make(chan struct{})
		}
		ch := s.notify
		s.mu.Unlock()

		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			out := slices.Clone(get())
			s.mu.Unlock()
			return out, fmt.Errorf("fcmfake: wait for %d %s, have %d: %w", n, what, len(out), context.Cause(ctx))
		}
	}
}

// ClearSent empties the sent and attempt logs and restarts message numbering; token states
// and pending failures stay.
func (s *Server) ClearSent() {
	s.mu.Lock()
	s.clearLogsLocked()
	s.mu.Unlock()
}

// clearLogsLocked empties the logs but keeps their arrays: a benchmark that clears between
// rounds then does not regrow them. Sent and Attempts hand out copies, so reuse is safe.
func (s *Server) clearLogsLocked() {
	clear(s.sent) // drop references to the old messages
	s.sent = s.sent[:0]
	s.attempts = s.attempts[:0]
	s.abandoned = 0
}

// Reset returns the fake to its state after New: no sends, attempts, token states or
// pending failures.
func (s *Server) Reset() {
	s.mu.Lock()
	s.clearLogsLocked()
	s.failures = nil
	s.slowdowns = nil
	clear(s.tokens)
	s.mu.Unlock()
	s.log.Info("reset")
}

// tokenHandler serves POST /fake/tokens/{token}/{state}.
func (s *Server) tokenHandler(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.setToken(r.PathValue("token"), status)
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleRestore serves DELETE /fake/tokens/{token}.
func (s *Server) handleRestore(w http.ResponseWriter, r *http.Request) {
	s.Restore(r.PathValue("token"))
	w.WriteHeader(http.StatusNoContent)
}

// failRequest is the body of POST /fake/fail. Count defaults to 1. RetryAfter is seconds,
// as a JSON number or string ("1"), or a Go duration string ("1500ms").
type failRequest struct {
	Status     int             `json:"status"`
	Count      *int            `json:"count"`
	RetryAfter json.RawMessage `json:"retryAfter"`
	Token      string          `json:"token"`
}

// handleFail serves POST /fake/fail.
func (s *Server) handleFail(w http.ResponseWriter, r *http.Request) {
	var req failRequest
	body, err := readBody(r)
	if err == nil {
		err = decodeStrict(body, &req)
	}
	n := 1
	if req.Count != nil {
		n = *req.Count
	}
	var retryAfter time.Duration
	if err == nil {
		retryAfter, err = parseRetryAfter(req.RetryAfter)
	}
	if err == nil {
		err = checkFailure(n, req.Status)
	}
	if err != nil {
		controlError(w, "fail: "+err.Error())
		return
	}
	s.FailNextFor(req.Token, n, req.Status, retryAfter)
	w.WriteHeader(http.StatusNoContent)
}

// parseRetryAfter reads failRequest.RetryAfter.
func parseRetryAfter(raw json.RawMessage) (time.Duration, error) {
	if isNull(raw) {
		return 0, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		return fromSeconds(secs)
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return 0, fmt.Errorf("retryAfter %s is neither a number nor a string", raw)
	}
	if secs, err := strconv.ParseFloat(str, 64); err == nil {
		return fromSeconds(secs)
	}
	d, err := time.ParseDuration(str)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("retryAfter %q is not seconds or a duration", str)
	}
	return d, nil
}

func fromSeconds(secs float64) (time.Duration, error) {
	if secs < 0 || math.IsNaN(secs) || secs > math.MaxInt64/float64(time.Second) {
		return 0, fmt.Errorf("retryAfter %v out of range", secs)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// handleReset serves POST /fake/reset.
func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// State is the fake's configuration as GET /fake/state reports it.
type State struct {
	// Tokens maps each token with a state to the FcmError code its sends get.
	Tokens map[string]string `json:"tokens"`
	// Failures lists the pending injected failures, next first.
	Failures []PendingFailure `json:"failures"`
	// Slowdowns lists the pending injected delays, next first; absent when none.
	Slowdowns []PendingSlowdown `json:"slowdowns,omitempty"`
}

// PendingSlowdown is one SlowNext or SlowNextFor call with sends left to delay.
type PendingSlowdown struct {
	// Token limits the delay to one token; "" matches any send.
	Token string `json:"token,omitempty"`
	// Remaining is how many more sends will be delayed.
	Remaining int `json:"remaining"`
	// Delay is the delay as a Go duration ("10s").
	Delay string `json:"delay"`
}

// PendingFailure is one FailNext or FailNextFor call with sends left to fail.
type PendingFailure struct {
	// Token limits the failure to one token; "" matches any send.
	Token string `json:"token,omitempty"`
	// Remaining is how many more sends will fail.
	Remaining int `json:"remaining"`
	// Status is the HTTP status they get.
	Status int `json:"status"`
	// RetryAfter is the Retry-After delay as a Go duration ("2s"), "" for none.
	RetryAfter string `json:"retryAfter,omitempty"`
}

// State returns the token states and pending failures.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Tokens: make(map[string]string, len(s.tokens)), Failures: []PendingFailure{}}
	for t, e := range s.tokens {
		st.Tokens[t] = e.errorCode
	}
	for _, f := range s.failures {
		pf := PendingFailure{Token: f.token, Remaining: f.remaining, Status: f.err.status}
		if f.retryAfter > 0 {
			pf.RetryAfter = f.retryAfter.String()
		}
		st.Failures = append(st.Failures, pf)
	}
	for _, sd := range s.slowdowns {
		st.Slowdowns = append(st.Slowdowns, PendingSlowdown{Token: sd.token, Remaining: sd.remaining, Delay: sd.delay.String()})
	}
	return st
}

// handleState serves GET /fake/state.
func (s *Server) handleState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, mustMarshal(s.State()))
}

// controlError answers a malformed control request in Google's error shape.
func controlError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, encodeStatus(http.StatusBadRequest, fcmStatus{message: msg, status: "INVALID_ARGUMENT"}))
}
