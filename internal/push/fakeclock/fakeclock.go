// Package fakeclock is a manual clock for tests of time-driven code (digest windows,
// leases, retry backoff). It satisfies push.Clock: Now and After.
//
// Time moves only when the test says so: Advance and Set move it and fire every timer that
// falls due. In auto mode (SetAuto) each After call instead moves the clock forward by its
// duration and fires at once, so code that backs off (retries honouring Retry-After) runs
// without waiting while the test can still read how long it asked to wait (Waits).
package fakeclock

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Clock is a fake clock. The zero value is not usable; call New. It is safe for
// concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	timers  []timer
	waits   []time.Duration
	changed chan struct{} // closed when a timer is added; nil when nobody waits
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock that reads t until moved.
func New(t time.Time) *Clock {
	return &Clock{now: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once it has moved d forward. In
// auto mode the clock moves by d at once (only forward: d <= 0 does not move it) and the
// channel is ready immediately. Every call's d is recorded for Waits.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if c.auto && d > 0 {
		c.setLocked(at)
	}
	if !at.After(c.now) {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, timer{at: at, ch: ch})
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	return ch
}

// Advance moves the clock forward by d and fires the timers that fall due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t (also backwards, which fires nothing) and fires the timers
// that fall due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- t
	}
	clear(c.timers[len(kept):])
	c.timers = kept
}

// SetAuto switches auto mode on or off (see After).
func (c *Clock) SetAuto(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auto = on
}

// Waits returns the durations passed to After so far, in call order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// Pending returns how many timers are waiting for the clock to move.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitPending blocks until at least n timers are waiting, so a test can move the clock
// only once the code under test is asleep. It returns ctx's error if ctx ends first.
func (c *Clock) WaitPending(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.timers) >= n {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fakeclock: wait for %d timers: %w", n, context.Cause(ctx))
		}
	}
}
