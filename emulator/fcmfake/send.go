package fcmfake

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxBodyBytes bounds a Send request body; FCM messages are a few KiB at most.
const maxBodyBytes = 1 << 20

// dryRunID is the message id FCM returns for a validate_only request.
const dryRunID = "fake_message_id"

// failure is an injected error for the next sends (to one token, or to any target).
type failure struct {
	token      string // "" matches every send
	remaining  int
	err        cannedError
	retryAfter time.Duration
}

// handleSend serves POST /v1/projects/{project}/messages:send. The body is read and decoded
// before the lock is taken; under the lock the fake only decides the outcome and appends
// to its logs.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	project := r.PathValue("project")
	body, err := readBody(r)
	if err != nil {
		s.reject(w, project, invalidJSON("", "Could not read the request body: "+err.Error()))
		return
	}
	validateOnly, rec, perr := parseSend(body, s.limit)
	if perr != nil {
		s.reject(w, project, perr)
		return
	}
	if !s.hold(r, rec.Token) {
		// The client gave up, or the fake stops, while the request was delayed: it is
		// never handled, and the connection is dropped without an answer.
		panic(http.ErrAbortHandler)
	}
	now := s.now()
	prefix := "projects/" + project + "/messages/"

	var (
		fail       cannedError
		failed     bool
		injected   bool
		retryAfter time.Duration
	)
	s.mu.Lock()
	if f := s.takeFailureLocked(rec.Token); f != nil {
		fail, failed, injected, retryAfter = f.err, true, true, f.retryAfter
	} else if rec.Token != "" {
		fail, failed = s.tokens[rec.Token]
	}
	att := Attempt{
		Index:        len(s.attempts),
		Time:         now,
		Project:      project,
		Token:        rec.Token,
		Topic:        rec.Topic,
		Condition:    rec.Condition,
		ValidateOnly: validateOnly,
		Status:       http.StatusOK,
	}
	switch {
	case failed:
		att.Status, att.ErrorCode = fail.status, fail.errorCode
	case validateOnly:
		att.Name = prefix + dryRunID
	default:
		rec.Index = len(s.sent)
		rec.Name = prefix + strconv.Itoa(rec.Index+1)
		rec.Time = now
		rec.Project = project
		s.sent = append(s.sent, rec)
		att.Name = rec.Name
	}
	s.attempts = append(s.attempts, att)
	s.wakeLocked()
	s.mu.Unlock()

	if injected {
		s.log.Debug("injected failure", "project", project, "token", rec.Token, "status", fail.status)
	}
	if failed {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
		}
		writeJSON(w, fail.status, fail.body)
		return
	}
	writeJSON(w, http.StatusOK, nameBody(att.Name))
}

// reject answers a request whose body FCM would refuse, and records the attempt.
func (s *Server) reject(w http.ResponseWriter, project string, perr *payloadError) {
	att := Attempt{Time: s.now(), Project: project, Status: http.StatusBadRequest}
	if perr.fcm {
		att.ErrorCode = "INVALID_ARGUMENT"
	}
	s.mu.Lock()
	att.Index = len(s.attempts)
	s.attempts = append(s.attempts, att)
	s.wakeLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusBadRequest, perr.body())
}

// takeFailureLocked consumes one injected failure that applies to token, oldest first.
func (s *Server) takeFailureLocked(token string) *failure {
	for i := range s.failures {
		f := &s.failures[i]
		if f.token != "" && f.token != token {
			continue
		}
		taken := *f
		f.remaining--
		if f.remaining == 0 {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
		}
		return &taken
	}
	return nil
}

// wakeLocked releases every WaitSent and WaitAttempts caller to recheck its condition.
func (s *Server) wakeLocked() {
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
}

// readBody reads the request body in one allocation when its length is known.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= maxBodyBytes {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(buf) > maxBodyBytes {
		return nil, errors.New("body larger than 1 MiB")
	}
	return buf, nil
}

// nameBody renders {"name":"..."} without the reflection of encoding/json; names that
// would need escaping (an odd project id in the path) take the slow path.
func nameBody(name string) []byte {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return mustMarshal(struct {
				Name string `json:"name"`
			}{name})
		}
	}
	b := make([]byte, 0, len(name)+11)
	b = append(b, `{"name":"`...)
	b = append(b, name...)
	return append(b, `"}`...)
}
