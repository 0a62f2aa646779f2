package coalesce

import (
	"context"
	"sync"
	"time"

	"github.com/hearth-chat/hearth/internal/clock"
)

// Debounced gathers the calls of one key into one run that starts once the key has been
// quiet — no further call — for the quiet time, but no later than maxWait after the
// gathering's first call. Unlike a windowed Group, whose first call runs at once, every
// call waits: a burst costs one run however it starts (trailing edge), at the price of at
// least quiet in latency. A call that arrives while a run is running starts the next
// gathering. Create it with NewDebounced.
type Debounced[A, R any] struct {
	merge          func(a, b A) A
	quiet, maxWait time.Duration
	clock          clock.Clock
	mu             sync.Mutex
	gathering      map[string]*gathering[A, R]
}

type gathering[A, R any] struct {
	run[A, R]
	due      time.Time // the run starts then: quiet after the latest call ...
	deadline time.Time // ... but no later than this
}

// NewDebounced returns a Debounced that merges the arguments of gathered calls with merge
// and measures time with clk. It panics on a quiet time that is not positive, a maxWait
// shorter than it, or a nil clock: programming errors.
func NewDebounced[A, R any](merge func(a, b A) A, quiet, maxWait time.Duration, clk clock.Clock) *Debounced[A, R] {
	if quiet <= 0 || maxWait < quiet || clk == nil {
		panic("coalesce: NewDebounced needs a positive quiet time, a maxWait at least as long and a clock")
	}
	return &Debounced[A, R]{merge: merge, quiet: quiet, maxWait: maxWait, clock: clk, gathering: map[string]*gathering[A, R]{}}
}

// Do adds arg to key's gathering (starting one if none is gathering) and waits for its
// run: fn(ctx, merged args) with the context of the call that started the gathering,
// without its cancellation (fn bounds its own work). A caller whose ctx ends returns
// ctx.Err(); the run goes on for the others.
func (d *Debounced[A, R]) Do(ctx context.Context, key string, arg A, fn func(ctx context.Context, arg A) (R, error)) (R, error) {
	now := d.clock.Now()
	d.mu.Lock()
	g := d.gathering[key]
	if g != nil {
		g.arg = d.merge(g.arg, arg)
		g.due = now.Add(d.quiet)
		if g.due.After(g.deadline) {
			g.due = g.deadline
		}
	} else {
		g = &gathering[A, R]{run: run[A, R]{arg: arg, done: make(chan struct{})}, due: now.Add(d.quiet), deadline: now.Add(d.maxWait)}
		d.gathering[key] = g
		go d.start(context.WithoutCancel(ctx), key, g, fn)
	}
	d.mu.Unlock()
	select {
	case <-g.done:
		return g.res, g.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// start waits until g is due (each call that joined moved that), closes the gathering
// and runs it.
func (d *Debounced[A, R]) start(ctx context.Context, key string, g *gathering[A, R], fn func(context.Context, A) (R, error)) {
	for {
		d.mu.Lock()
		wait := g.due.Sub(d.clock.Now())
		if wait <= 0 {
			delete(d.gathering, key) // from here on calls start the next gathering
			d.mu.Unlock()
			break
		}
		d.mu.Unlock()
		<-d.clock.After(wait)
	}
	g.res, g.err = call(ctx, key, g.arg, fn)
	close(g.done)
}
