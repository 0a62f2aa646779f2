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
// This is an optimisation inside one process; correctness across processes (several
// instances, Eventarc) rests on the optimistic commits underneath.
package coalesce

import (
	"context"
	"sync"
)

// Group coalesces calls per key: A is the argument of a call, R its result. The zero
// value is not usable; create it with New.
type Group[A, R any] struct {
	merge   func(a, b A) A
	mu      sync.Mutex
	flights map[string]*flight[A, R]
}

type flight[A, R any] struct {
	next *run[A, R] // waiting for the current run to end; nil if none
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

// Do calls fn(ctx, arg) for key, or, while a call for key is running, waits for the next
// run (whose argument merges those of every caller waiting for it) and returns its
// result. A waiting caller whose ctx ends returns ctx.Err(); the run goes on for the
// others. The next run calls the fn and uses the context of the run before it (without
// its cancellation: fn bounds its own work), so every caller of one key must pass an
// equivalent fn.
func (g *Group[A, R]) Do(ctx context.Context, key string, arg A, fn func(ctx context.Context, arg A) (R, error)) (R, error) {
	g.mu.Lock()
	f, running := g.flights[key]
	if !running {
		f = &flight[A, R]{}
		g.flights[key] = f
		g.mu.Unlock()
		r := &run[A, R]{arg: arg, done: make(chan struct{})}
		g.exec(ctx, key, f, r, fn)
		return r.res, r.err
	}
	if f.next == nil {
		f.next = &run[A, R]{arg: arg, done: make(chan struct{})}
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

// exec runs r, then hands over to the run that queued meanwhile, if any.
func (g *Group[A, R]) exec(ctx context.Context, key string, f *flight[A, R], r *run[A, R], fn func(context.Context, A) (R, error)) {
	r.res, r.err = fn(ctx, r.arg)
	g.mu.Lock()
	next := f.next
	f.next = nil
	if next == nil {
		delete(g.flights, key)
	}
	g.mu.Unlock()
	close(r.done)
	if next != nil {
		go g.exec(context.WithoutCancel(ctx), key, f, next, fn)
	}
}
