// Package revocation keeps Hearth's per-user revocation markers:
// revocations/{uid} with revokedAt (the server's time), written whenever
// Hearth disables, erases, revokes the tokens of, or changes the claims of
// a user.
//
// Firebase ID tokens live an hour and nothing in Firebase Auth reaches a
// token already issued: Firestore and Storage rules only see the token. The
// marker is what they can see. The rules refuse every request whose token
// belongs to a session that began (auth_time) no later than the marker, and
// the API does the same from memory: Markers holds every marker of the
// project and re-reads the changed ones every PollInterval, so a request
// needs no Firebase Auth round trip to honour a revocation.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

// Path is the marker document of uid. The markers live in model.RevocationsCollection,
// one document per user id. Only Hearth writes it (Admin SDK); the rules let no client
// read or write it.
func Path(uid string) string { return model.RevocationsCollection + "/" + uid }

// Reason says which action wrote a marker (for people reading it; the
// check does not depend on it).
type Reason string

// The actions that write a marker.
const (
	ReasonDisable Reason = "disable"
	ReasonRevoke  Reason = "revoke"
	ReasonErase   Reason = "erase"
	ReasonClaims  Reason = "claims"
)

// Marker is the document revocations/{uid}.
type Marker struct {
	// RevokedAt is when the user's sessions ended: every ID token whose
	// auth_time is not after it is refused. Written as the server's time.
	RevokedAt time.Time `firestore:"revokedAt,serverTimestamp"`
	Reason    Reason    `firestore:"reason"`
}

// Revoked reports whether a token of a session that began at authTime (the
// ID token's auth_time claim, Unix seconds) is revoked by a marker at
// revokedAt. auth_time has whole seconds, so a session that began in the
// marker's own second may have begun before it: such a token is revoked too
// (the user signs in again a second later). The rules compare the same way:
// auth_time * 1000 > revokedAt.toMillis() passes; for whole seconds that is
// auth_time > revokedAt's second, which is what this computes (no
// multiplication, so no overflow for an absurd auth_time).
func Revoked(authTime int64, revokedAt time.Time) bool {
	return authTime <= revokedAt.Unix()
}

// Defaults of Config.
const (
	// DefaultPollInterval is how often an instance asks Firestore for
	// markers written since its last poll.
	DefaultPollInterval = time.Second
	// DefaultStaleAfter is how old the last successful poll may be before
	// the markers in memory no longer count as current.
	DefaultStaleAfter = 5 * time.Second
	// pollOverlap re-reads markers this much older than the newest one seen,
	// so a marker whose commit became visible late is not skipped.
	pollOverlap = 10 * time.Second
)

// Config tunes Markers. Zero fields take the defaults.
type Config struct {
	// PollInterval is the time between two polls (default 1 s).
	PollInterval time.Duration
	// StaleAfter bounds how old the last successful poll may be for Fresh
	// to say the markers are current (default 5 s). It must exceed
	// PollInterval.
	StaleAfter time.Duration
}

// Markers writes revocation markers and holds every marker of the project
// in memory. Run keeps the memory current; Revoke records its own marker
// at once. It is safe for concurrent use.
type Markers struct {
	fs    *firestore.Client
	cfg   Config
	clock clock.Clock
	log   *slog.Logger
	// overlap is pollOverlap (tests shorten it).
	overlap time.Duration

	mu       sync.RWMutex
	at       map[string]time.Time
	newest   time.Time // newest revokedAt a poll returned (not one written here)
	polled   bool
	lastPoll time.Time // start of the last successful poll
	failing  bool
	onRevoke []func(uid string)
}

// New returns Markers on fs. clk is the clock Fresh measures with (nil:
// clock.System); log may be nil.
func New(cfg Config, fs *firestore.Client, clk clock.Clock, log *slog.Logger) (*Markers, error) {
	if fs == nil {
		return nil, errors.New("revocation: Firestore client required")
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.PollInterval < 0 || cfg.StaleAfter <= cfg.PollInterval {
		return nil, fmt.Errorf("revocation: poll interval %s and stale after %s: want 0 < poll interval < stale after",
			cfg.PollInterval, cfg.StaleAfter)
	}
	if clk == nil {
		clk = clock.System{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Markers{fs: fs, cfg: cfg, clock: clk, log: log.With("component", "revocation"), overlap: pollOverlap,
		at: map[string]time.Time{}}, nil
}

// Config returns the configuration in force (defaults applied).
func (m *Markers) Config() Config { return m.cfg }

// OnRevoke registers f to be called with the uid of every marker that is
// new or newer than before (written here or seen by a poll). f must be
// quick and must not call back into m.
func (m *Markers) OnRevoke(f func(uid string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onRevoke = append(m.onRevoke, f)
}

// validUID refuses ids that are not one document id.
func validUID(uid string) error {
	if uid == "" || strings.Contains(uid, "/") || uid == "." || uid == ".." ||
		(strings.HasPrefix(uid, "__") && strings.HasSuffix(uid, "__")) || len(uid) > 128 {
		return fmt.Errorf("revocation: invalid uid %q", uid)
	}
	return nil
}

// Revoke writes the marker of uid with the server's time and records it in
// memory at once, so this instance refuses the user's older tokens from the
// moment Revoke returns. Call it after the change in Firebase Auth that it
// accompanies: a session that begins after the marker then sees the change
// (is refused sign-in, carries the new claims).
//
// It returns only once the marker's second is over (at most a second
// later, by the wall clock): auth_time has whole seconds, so a sign-in in
// that second is refused too (see Revoked), and one that starts after
// Revoke returns never is.
func (m *Markers) Revoke(ctx context.Context, uid string, reason Reason) (time.Time, error) {
	if err := validUID(uid); err != nil {
		return time.Time{}, err
	}
	ref := m.fs.Doc(Path(uid))
	if _, err := ref.Set(ctx, Marker{Reason: reason}); err != nil {
		return time.Time{}, fmt.Errorf("write revocation marker of %s: %w", uid, err)
	}
	// Read back the time the server wrote (one read per admin action).
	snap, err := ref.Get(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read revocation marker of %s: %w", uid, err)
	}
	var mk Marker
	if err := snap.DataTo(&mk); err != nil {
		return time.Time{}, fmt.Errorf("decode revocation marker of %s: %w", uid, err)
	}
	m.record(uid, mk.RevokedAt)
	if err := waitPastSecond(ctx, mk.RevokedAt); err != nil {
		return mk.RevokedAt, err
	}
	return mk.RevokedAt, nil
}

// waitPastSecond waits until the wall clock has left t's second.
func waitPastSecond(ctx context.Context, t time.Time) error {
	d := time.Until(t.Truncate(time.Second).Add(time.Second))
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RevokedAt returns the newest marker of uid known here.
func (m *Markers) RevokedAt(uid string) (time.Time, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.at[uid]
	return t, ok
}

// Fresh reports whether the markers in memory are current: a poll that
// started at most StaleAfter ago succeeded. Every marker committed before
// that poll started is in memory.
func (m *Markers) Fresh() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.polled && m.clock.Now().Sub(m.lastPoll) <= m.cfg.StaleAfter
}

// Loaded reports whether a poll has ever succeeded: until then the memory
// holds only the markers written here, and knows nothing of the others.
func (m *Markers) Loaded() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.polled
}

// Len is the number of markers in memory.
func (m *Markers) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.at)
}

// record keeps t as uid's marker if it is newer than the one known, and
// tells the OnRevoke functions.
func (m *Markers) record(uid string, t time.Time) {
	if t.IsZero() {
		return
	}
	m.mu.Lock()
	old, ok := m.at[uid]
	changed := !ok || t.After(old)
	if changed {
		m.at[uid] = t
	}
	fs := m.onRevoke
	m.mu.Unlock()
	if changed {
		for _, f := range fs {
			f(uid)
		}
	}
}

// Poll reads the markers written since the last poll (all of them the first
// time) into memory. Firestore reads are strongly consistent, so a marker a
// poll does not return was committed after the poll's read time, later than
// every marker it did return: the next poll, from the newest one a poll
// returned (less an overlap), finds it. A marker written here (Revoke) does
// not move that point: it may be newer than markers of other instances that
// no poll has read yet (polls failing meanwhile).
func (m *Markers) Poll(ctx context.Context) error {
	start := m.clock.Now()
	m.mu.RLock()
	since := time.Time{}
	if !m.newest.IsZero() {
		since = m.newest.Add(-m.overlap)
	}
	m.mu.RUnlock()
	q := m.fs.Collection(model.RevocationsCollection).Where("revokedAt", ">=", since)
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("poll revocation markers: %w", err)
	}
	var newest time.Time
	for _, d := range docs {
		var mk Marker
		if err := d.DataTo(&mk); err != nil {
			m.log.WarnContext(ctx, "unreadable revocation marker", "doc", d.Ref.ID, "error", err)
			continue
		}
		m.record(d.Ref.ID, mk.RevokedAt)
		if mk.RevokedAt.After(newest) {
			newest = mk.RevokedAt
		}
	}
	m.mu.Lock()
	if newest.After(m.newest) {
		m.newest = newest
	}
	if !m.polled || start.After(m.lastPoll) {
		m.lastPoll = start
	}
	m.polled = true
	m.mu.Unlock()
	return nil
}

// Run polls at once and then every PollInterval until ctx ends. A failed
// poll is logged (once until polls succeed again) and retried at the next
// tick; meanwhile Fresh turns false after StaleAfter.
func (m *Markers) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.PollInterval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, m.cfg.StaleAfter)
		err := m.Poll(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !m.failing:
			m.failing = true
			m.log.WarnContext(ctx, "revocation markers not current; write routes ask Firebase Auth until a poll succeeds", "error", err)
		case err == nil && m.failing:
			m.failing = false
			m.log.InfoContext(ctx, "revocation markers current again")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
