package coalesce

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/clock"
)

func TestDoRunsAlone(t *testing.T) {
	g := New[int, int](func(a, b int) int { return a + b })
	got, err := g.Do(t.Context(), "k", 3, func(ctx context.Context, n int) (int, error) { return n * 2, nil })
	if got != 6 || err != nil {
		t.Errorf("Do() = %d, %v, want 6, nil", got, err)
	}
}

// TestDoCoalesces: calls arriving while one runs share a single next run that sees all
// their arguments and starts after the first run ended.
func TestDoCoalesces(t *testing.T) {
	g := New[int, int](func(a, b int) int { return a + b })
	release := make(chan struct{})
	started := make(chan int, 10)
	var running, maxRunning atomic.Int32
	fn := func(ctx context.Context, n int) (int, error) {
		if r := running.Add(1); r > maxRunning.Load() {
			maxRunning.Store(r)
		}
		defer running.Add(-1)
		started <- n
		<-release
		return n, nil
	}
	first := make(chan int)
	go func() {
		n, _ := g.Do(t.Context(), "k", 1, fn)
		first <- n
	}()
	if n := <-started; n != 1 {
		t.Fatalf("first run got %d, want 1", n)
	}
	var wg sync.WaitGroup
	results := make([]int, 4)
	for i := range 4 {
		wg.Go(func() { results[i], _ = g.Do(t.Context(), "k", 10, fn) })
	}
	// Wait until all four are queued behind the first run.
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		queued := g.flights["k"].next != nil && g.flights["k"].next.arg == 40
		g.mu.Unlock()
		if queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the four calls did not queue behind the first run")
		}
		runtime.Gosched()
	}
	close(release)
	if n := <-first; n != 1 {
		t.Errorf("first Do() = %d, want 1", n)
	}
	wg.Wait()
	for i, r := range results {
		if r != 40 {
			t.Errorf("queued Do() #%d = %d, want 40 (one merged run)", i, r)
		}
	}
	if n := len(started); n != 1 {
		t.Errorf("runs after the first = %d, want 1", n)
	}
	if m := maxRunning.Load(); m != 1 {
		t.Errorf("runs at once = %d, want 1", m)
	}
	if len(g.flights) != 0 {
		t.Errorf("flights left = %d, want 0", len(g.flights))
	}
}

func TestDoWaiterContext(t *testing.T) {
	g := New[int, int](func(a, b int) int { return a + b })
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	fn := func(ctx context.Context, n int) (int, error) {
		started <- struct{}{}
		<-release
		return 0, nil
	}
	go g.Do(t.Context(), "k", 1, fn)
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := g.Do(ctx, "k", 1, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Do(cancelled) = %v, want context.Canceled", err)
	}
	close(release)
	<-started // the queued run still runs
}

// waitQueued waits until key's next run has the argument want (every caller that should
// be in it has queued).
func waitQueued[A comparable, R any](t *testing.T, g *Group[A, R], key string, want A) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		f := g.flights[key]
		queued := f != nil && f.next != nil && f.next.arg == want
		g.mu.Unlock()
		if queued {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls for %s did not queue with argument %v", key, want)
		}
		runtime.Gosched()
	}
}

// TestWindowedSpacesRuns: in a windowed group the first call runs at once, calls within
// the window of the last run wait for its end and share one run, a call after the
// window runs at once again, and keys do not hold each other back. The fake clock moves
// only when the test says so, so nothing here depends on timing.
func TestWindowedSpacesRuns(t *testing.T) {
	const window = 10 * time.Second
	fake := clock.NewFake(time.Now())
	g := NewWindowed[int, int](func(a, b int) int { return a + b }, window, fake)
	var runs atomic.Int32
	fn := func(ctx context.Context, n int) (int, error) {
		runs.Add(1)
		return n, nil
	}
	if got, err := g.Do(t.Context(), "k", 1, fn); got != 1 || err != nil || runs.Load() != 1 {
		t.Fatalf("first Do() = %d, %v after %d runs, want 1, nil after 1 (at once)", got, err, runs.Load())
	}

	var wg sync.WaitGroup
	results := make([]int, 3)
	for i := range results {
		wg.Go(func() { results[i], _ = g.Do(t.Context(), "k", 10, fn) })
	}
	waitQueued(t, g, "k", 30)
	if err := fake.WaitForWaiters(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if got, err := g.Do(t.Context(), "other", 2, fn); got != 2 || err != nil {
		t.Errorf("Do(other key) = %d, %v, want 2, nil at once", got, err)
	}
	fake.Advance(window - time.Nanosecond)
	if n := runs.Load(); n != 2 {
		t.Fatalf("runs before the window ended = %d, want 2 (k once, other once)", n)
	}
	fake.Advance(time.Nanosecond)
	wg.Wait()
	for i, r := range results {
		if r != 30 {
			t.Errorf("queued Do() #%d = %d, want 30 (one merged run)", i, r)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("runs after the window = %d, want 3", n)
	}

	// Right after a run, a lone call waits for the window too.
	done := make(chan int)
	go func() {
		n, _ := g.Do(t.Context(), "k", 5, fn)
		done <- n
	}()
	waitQueued(t, g, "k", 5)
	if err := fake.WaitForWaiters(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(window)
	if n := <-done; n != 5 {
		t.Errorf("Do() after a run = %d, want 5", n)
	}

	// Once the window has passed, a call runs at once.
	fake.Advance(window)
	if got, _ := g.Do(t.Context(), "k", 7, fn); got != 7 || fake.Waiters() != 0 {
		t.Errorf("Do() after the window = %d with %d waiters, want 7 at once", got, fake.Waiters())
	}
	if n := runs.Load(); n != 5 {
		t.Errorf("runs = %d, want 5", n)
	}
}

// TestWindowedWaiterContext: a caller waiting for the window returns when its context
// ends; the run still happens for the others.
func TestWindowedWaiterContext(t *testing.T) {
	fake := clock.NewFake(time.Now())
	g := NewWindowed[int, int](func(a, b int) int { return a + b }, time.Second, fake)
	ran := make(chan int, 2)
	fn := func(ctx context.Context, n int) (int, error) {
		ran <- n
		return n, nil
	}
	g.Do(t.Context(), "k", 1, fn)
	<-ran
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error)
	go func() {
		_, err := g.Do(ctx, "k", 2, fn)
		errc <- err
	}()
	waitQueued(t, g, "k", 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Do(cancelled while waiting) = %v, want context.Canceled", err)
	}
	if err := fake.WaitForWaiters(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Second)
	if n := <-ran; n != 2 {
		t.Errorf("queued run got %d, want 2", n)
	}
}

// TestWindowedForgetsIdleKeys: keys whose window has passed are dropped, so a group used
// with ever new keys stays bounded by the keys of about one window.
func TestWindowedForgetsIdleKeys(t *testing.T) {
	fake := clock.NewFake(time.Now())
	g := NewWindowed[int, int](func(a, b int) int { return a + b }, time.Second, fake)
	fn := func(ctx context.Context, n int) (int, error) { return n, nil }
	most := 0
	for round := range 10 {
		for i := range 100 {
			g.Do(t.Context(), fmt.Sprintf("%d/%d", round, i), 1, fn)
			g.mu.Lock()
			most = max(most, len(g.flights))
			g.mu.Unlock()
		}
		fake.Advance(time.Second)
	}
	if most > 2*100+sweepMin {
		t.Errorf("keys held at most = %d after 1000 keys in windows of 100, want <= %d", most, 2*100+sweepMin)
	}
}

func TestNewWindowedRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		clk    clock.Clock
	}{{0, clock.System{}}, {-time.Second, clock.System{}}, {time.Second, nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewWindowed(%v, %v) did not panic", tc.window, tc.clk)
				}
			}()
			NewWindowed[int, int](func(a, b int) int { return a }, tc.window, tc.clk)
		}()
	}
}

// TestPanicDoesNotWedgeKey: a run that panics ends as an error for its callers, and the
// key runs again for the next call (a panic must not leave the key busy for good, with
// every later call of the key waiting for a run that never comes).
func TestPanicDoesNotWedgeKey(t *testing.T) {
	g := New[int, int](func(a, b int) int { return a + b })
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("Do panicked: %v", r)
			}
		}()
		_, err = g.Do(t.Context(), "k", 1, func(context.Context, int) (int, error) { panic("boom") })
	}()
	if err == nil {
		t.Error("Do(panicking fn) = nil error")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	got, err := g.Do(ctx, "k", 2, func(_ context.Context, n int) (int, error) { return n, nil })
	if got != 2 || err != nil {
		t.Errorf("Do() after a panicked run = %d, %v; want 2, nil", got, err)
	}
}

// TestQueuedRunPanicIsAnError: a queued run runs in a goroutine of its own; a panic
// there reaches its callers as an error instead of ending the process.
func TestQueuedRunPanicIsAnError(t *testing.T) {
	g := New[int, int](func(a, b int) int { return a + b })
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int32
	fn := func(context.Context, int) (int, error) {
		if calls.Add(1) == 1 {
			close(started)
			<-release
			return 1, nil
		}
		panic("boom")
	}
	first := make(chan error, 1)
	go func() { _, err := g.Do(t.Context(), "k", 1, fn); first <- err }()
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	second := make(chan error, 1)
	go func() { _, err := g.Do(ctx, "k", 2, fn); second <- err }()
	// The second call is queued once the key has a next run.
	for queued := false; !queued; {
		g.mu.Lock()
		queued = g.flights["k"] != nil && g.flights["k"].next != nil
		g.mu.Unlock()
		if !queued {
			select {
			case <-ctx.Done():
				t.Fatal("the second call never queued")
			case <-time.After(time.Millisecond):
			}
		}
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first Do() = %v", err)
	}
	err := <-second
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued Do() whose run panicked = %v; want the panic as an error", err)
	}
}
