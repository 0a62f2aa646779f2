package coalesce

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
