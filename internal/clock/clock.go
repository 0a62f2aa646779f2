// Package clock is the time source of Hearth's time-driven code (presence, typing,
// leases, schedulers): production uses System, tests a Fake they move by hand, so
// "70 seconds without a heartbeat" is a test that runs in milliseconds.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Func is a Clock that reads the time from a function (a server's own clock, say, which
// may be truncated or faked) and waits in real time.
type Func func() time.Time

// Now returns f().
func (f Func) Now() time.Time { return f() }

// After returns time.After(d).
func (Func) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Truncated returns a Clock whose Now is c's rounded down to a multiple of d (since the
// zero time) and whose After is c's. Firestore keeps microseconds, so a clock truncated
// to time.Microsecond stamps times that read back from the database unchanged.
func Truncated(c Clock, d time.Duration) Clock { return truncated{c, d} }

type truncated struct {
	Clock
	d time.Duration
}

// Now returns the wrapped clock's time truncated.
func (t truncated) Now() time.Time { return t.Clock.Now().Truncate(t.d) }

// Fake is a Clock that moves only when told to: Advance and Set move it and fire every
// After whose time has come. It is safe for concurrent use. Create it with NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	added   chan struct{} // closed (and replaced) whenever an After call registers
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a fake clock that reads t until moved.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, added: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns a channel that receives the fake time once the clock has moved d
// forward; at once when d <= 0.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), ch: ch})
	close(f.added)
	f.added = make(chan struct{})
	return ch
}

// Advance moves the clock forward by d and fires the timers that fall due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setLocked(f.now.Add(d))
}

// Set moves the clock to t (never backwards: an earlier t is ignored) and fires the
// timers that fall due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.setLocked(t)
	}
}

func (f *Fake) setLocked(t time.Time) {
	f.now = t
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	f.waiters = kept
}

// Waiters returns how many After channels have not fired yet.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// WaitForWaiters blocks until at least n After channels are pending (a loop under test
// has reached its wait), or ctx ends.
func (f *Fake) WaitForWaiters(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, added := len(f.waiters), f.added
		f.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-added:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
