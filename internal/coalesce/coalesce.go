// Package coalesce merges concurrent recomputations of the same derived document.
//
// A burst of events for one room (20 senders at once) asks for the same inbox entry to
// be recomputed many times at once. Each recomputation reads all its sources, so running
// them side by side only makes them conflict on the commit and retry. Group.Do runs one
// at a time per key: a call that arrives while one runs waits for the next run, which
// starts after the current one has finished — so it reads every source change that
// happened before the waiting call arrived — and serves every caller that arrived
// meanwhile, with their arguments merged.
//
// A windowed group (NewWindowed) also spaces the runs of one key: a run starts at least
// the window after the previous run of that key started. The first call of a burst
// runs at once; the calls that arrive within the window share one run when it ends. So
// however fast the calls come, one key costs at most one run per window, plus one.
// That bounds the writes a client can cause by repeating a cheap write (an edit, a
// rename, a presence flip) that fans out to many derived documents.
//
// A debounced group (NewDebounced) gathers instead: every call of a key waits until the
// key has been quiet for a while (or a longest wait passed) and the gathered calls share
// one run, so a burst costs one run however it starts.
//
// This is an optimisation inside one process; correctness across processes (several
// instances, Eventarc) rests on the optimistic commits underneath.
package coalesce

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hearth-chat/hearth/internal/clock"
)

// sweepMin is the number of keys a windowed group keeps before it first forgets the
// idle ones whose window has passed.
const sweepMin = 64

// Group coalesces calls per key: A is the argument of a call, R its result. The zero
// value is not usable; create it with New or NewWindowed.
type Group[A, R any] struct {
	merge   func(a, b A) A
	window  time.Duration
	clock   clock.Clock
	mu      sync.Mutex
	flights map[string]*flight[A, R]
	sweepAt int // a windowed group sweeps idle keys when it holds more than this
}

// flight is the state of one key.
type flight[A, R any] struct {
	busy    bool       // a run is running, or waiting for its window to start
	next    *run[A, R] // the run the callers that came meanwhile wait for; nil if none
	started time.Time  // when the last run started (windowed groups)
}

type run[A, R any] struct {
	arg  A
	done chan struct{}
	res  R
	err  error
}

// New returns a Group that merges the arguments of coalesced calls with merge.
func New[A, R any](merge func(a, b A) A) *Group[A, R] {
	return &Group[A, R]{merge: merge, flights: map[string]*flight[A, R]{}}
}

// NewWindowed returns a Group like New whose runs of one key start at least window
// apart, as clk measures time. It panics on a window that is not positive or a nil
// clock: programming errors.
func NewWindowed[A, R any](merge func(a, b A) A, window time.Duration, clk clock.Clock) *Group[A, R] {
	if window <= 0 || clk == nil {
		panic("coalesce: NewWindowed needs a positive window and a clock")
	}
	g := New[A, R](merge)
	g.window, g.clock, g.sweepAt = window, clk, sweepMin
	return g
}

// Do calls fn(ctx, arg) for key, or, while a call for key is running (or, in a windowed
// group, within the window of the last run), waits for the next run (whose argument
// merges those of every caller waiting for it) and returns its result. A waiting caller
// whose ctx ends returns ctx.Err(); the run goes on for the others. The next run calls
// the fn and uses the context of the call that started the run before it or queued it
// (without its cancellation: fn bounds its own work), so every caller of one key must
// pass an equivalent fn.
func (g *Group[A, R]) Do(ctx context.Context, key string, arg A, fn func(ctx context.Context, arg A) (R, error)) (R, error) {
	g.mu.Lock()
	f := g.flights[key]
	if f != nil && !f.busy && g.expired(f) {
		delete(g.flights, key) // idle and out of its window: start afresh
		f = nil
	}
	if f == nil {
		f = &flight[A, R]{busy: true}
		if g.window > 0 {
			f.started = g.clock.Now()
			g.sweepLocked()
		}
		g.flights[key] = f
		g.mu.Unlock()
		r := &run[A, R]{arg: arg, done: make(chan struct{})}
		g.exec(ctx, key, f, r, fn)
		return r.res, r.err
	}
	if f.next == nil {
		f.next = &run[A, R]{arg: arg, done: make(chan struct{})}
		if !f.busy {
			// Idle, but within the window of the last run: this call starts the next
			// run when the window ends.
			f.busy = true
			go g.startNext(context.WithoutCancel(ctx), key, f, fn)
		}
	} else {
		f.next.arg = g.merge(f.next.arg, arg)
	}
	r := f.next
	g.mu.Unlock()
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// exec runs r, then hands over to the run that queued meanwhile, if any. A panic in fn
// is r's error: the key must not stay busy (every later call would wait for a run that
// never comes), and a queued run has no caller up its goroutine to recover it.
func (g *Group[A, R]) exec(ctx context.Context, key string, f *flight[A, R], r *run[A, R], fn func(context.Context, A) (R, error)) {
	r.res, r.err = call(ctx, key, r.arg, fn)
	g.mu.Lock()
	queued := f.next != nil
	if !queued {
		f.busy = false
		if g.window <= 0 {
			delete(g.flights, key)
		}
	}
	g.mu.Unlock()
	close(r.done)
	if queued {
		go g.startNext(context.WithoutCancel(ctx), key, f, fn)
	}
}

// call is fn(ctx, arg) with a panic returned as an error.
func call[A, R any](ctx context.Context, key string, arg A, fn func(context.Context, A) (R, error)) (res R, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero R
			res, err = zero, fmt.Errorf("coalesce: run of key %q panicked: %v", key, p)
		}
	}()
	return fn(ctx, arg)
}

// startNext waits until the window of f's last run has passed (at once in a group
// without a window), then runs the queued run: every call that queued until then is in
// it.
func (g *Group[A, R]) startNext(ctx context.Context, key string, f *flight[A, R], fn func(context.Context, A) (R, error)) {
	if g.window > 0 {
		g.mu.Lock()
		end := f.started.Add(g.window)
		g.mu.Unlock()
		if d := end.Sub(g.clock.Now()); d > 0 {
			<-g.clock.After(d)
		}
	}
	g.mu.Lock()
	r := f.next
	f.next = nil
	if g.window > 0 {
		f.started = g.clock.Now()
	}
	g.mu.Unlock()
	g.exec(ctx, key, f, r, fn)
}

// expired reports whether an idle flight no longer holds back a new run: always in a
// group without a window, else once its window has passed.
func (g *Group[A, R]) expired(f *flight[A, R]) bool {
	return g.window <= 0 || g.clock.Now().Sub(f.started) >= g.window
}

// sweepLocked forgets the idle keys whose window has passed once the group holds
// sweepAt keys, and sets the next threshold to twice what is left: a windowed group
// holds at most about twice the keys used within one window, and each sweep is paid for
// by the new keys added since the last one.
func (g *Group[A, R]) sweepLocked() {
	if len(g.flights) < g.sweepAt {
		return
	}
	for k, f := range g.flights {
		if !f.busy && g.expired(f) {
			delete(g.flights, k)
		}
	}
	g.sweepAt = max(sweepMin, 2*len(g.flights))
}
