package coalesce

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/clock"
)

// waitGathered waits until key's gathering has the argument want (every call that should
// be in it has joined).
func waitGathered[A comparable, R any](t *testing.T, d *Debounced[A, R], key string, want A) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.mu.Lock()
		g := d.gathering[key]
		joined := g != nil && g.arg == want
		d.mu.Unlock()
		if joined {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls for %s did not gather to argument %v", key, want)
		}
		runtime.Gosched()
	}
}

// debounceFixture is a debounced sum with a quiet time of 500 ms and a longest wait of
// 2 s on a fake clock, counting its runs.
type debounceFixture struct {
	fake *clock.Fake
	d    *Debounced[int, int]
	runs atomic.Int32
	wg   sync.WaitGroup
}

const (
	quiet   = 500 * time.Millisecond
	maxWait = 4 * quiet
)

func newDebounceFixture() *debounceFixture {
	f := &debounceFixture{fake: clock.NewFake(time.Now())}
	f.d = NewDebounced[int, int](func(a, b int) int { return a + b }, quiet, maxWait, f.fake)
	return f
}

func (f *debounceFixture) fn(_ context.Context, n int) (int, error) {
	f.runs.Add(1)
	return n, nil
}

// call starts Do(key, n) and records its result in *got once it returns.
func (f *debounceFixture) call(t *testing.T, key string, n int, got *int) {
	f.wg.Go(func() {
		r, err := f.d.Do(t.Context(), key, n, f.fn)
		if err != nil {
			t.Errorf("Do(%s, %d) = %v", key, n, err)
		}
		*got = r
	})
}

// lone makes one call for key with n, when nothing else is gathering for key, lets it
// run once key has been quiet and returns its result.
func (f *debounceFixture) lone(t *testing.T, key string, n int) int {
	t.Helper()
	var got int
	f.call(t, key, n, &got)
	waitGathered(t, f.d, key, n)
	f.waitTimer(t)
	f.fake.Advance(quiet)
	f.wg.Wait()
	return got
}

// waitTimer waits until the gathering's goroutine waits on the fake clock.
func (f *debounceFixture) waitTimer(t *testing.T) {
	t.Helper()
	if err := f.fake.WaitForWaiters(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
}

// TestDebouncedGathersUntilQuiet: calls that keep arriving within the quiet time of each
// other join one run, even when the burst lasts longer than the quiet time, and it starts
// only once the key has been quiet that long. The fake clock moves only when the test
// says so.
func TestDebouncedGathersUntilQuiet(t *testing.T) {
	f := newDebounceFixture()
	got := make([]int, 3)
	f.call(t, "k", 1, &got[0]) // t = 0: due at 500 ms
	waitGathered(t, f.d, "k", 1)
	f.waitTimer(t)
	f.fake.Advance(300 * time.Millisecond)
	f.call(t, "k", 10, &got[1]) // t = 300 ms: due at 800 ms
	waitGathered(t, f.d, "k", 11)
	f.fake.Advance(300 * time.Millisecond) // t = 600 ms: the first timer fires, due moved
	f.waitTimer(t)
	f.call(t, "k", 100, &got[2]) // t = 600 ms: due at 1100 ms
	waitGathered(t, f.d, "k", 111)
	f.fake.Advance(200 * time.Millisecond) // t = 800 ms
	f.waitTimer(t)
	f.fake.Advance(300*time.Millisecond - time.Nanosecond) // just before 1100 ms
	f.waitTimer(t)
	if n := f.runs.Load(); n != 0 {
		t.Fatalf("runs before the key was quiet for %v = %d, want 0", quiet, n)
	}
	f.fake.Advance(time.Nanosecond)
	f.wg.Wait()
	for i, r := range got {
		if r != 111 {
			t.Errorf("Do() #%d = %d, want 111 (one merged run)", i, r)
		}
	}
	if n := f.runs.Load(); n != 1 {
		t.Errorf("runs = %d, want 1", n)
	}
	// A lone call after the run waits for the quiet time too.
	if lone := f.lone(t, "k", 5); lone != 5 || f.runs.Load() != 2 {
		t.Errorf("lone Do() = %d after %d runs, want 5 after 2", lone, f.runs.Load())
	}
}

// TestDebouncedLongestWait: a key that never goes quiet still runs maxWait after its
// gathering's first call; the calls after that start the next gathering.
func TestDebouncedLongestWait(t *testing.T) {
	f := newDebounceFixture()
	const step = quiet / 5
	first := make([]int, int(maxWait/step))
	for i := range first { // a call every 100 ms from 0 to just before maxWait: never quiet
		if i > 0 {
			f.fake.Advance(step)
		}
		f.call(t, "k", 1, &first[i])
		waitGathered(t, f.d, "k", i+1)
		f.waitTimer(t)
	}
	if n := f.runs.Load(); n != 0 {
		t.Fatalf("runs before maxWait = %d, want 0", n)
	}
	f.fake.Advance(step) // maxWait after the first call: the run starts, quiet or not
	f.wg.Wait()
	for i, r := range first {
		if r != len(first) {
			t.Errorf("Do() #%d = %d, want %d (every call up to maxWait in the first run)", i, r, len(first))
		}
	}
	if next := f.lone(t, "k", 7); next != 7 || f.runs.Load() != 2 {
		t.Errorf("Do() after the first run = %d after %d runs, want 7 after 2", next, f.runs.Load())
	}
}

// TestDebouncedWaiterContext: a caller whose context ends returns at once; the run still
// happens, with its argument, for the others.
func TestDebouncedWaiterContext(t *testing.T) {
	f := newDebounceFixture()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := f.d.Do(ctx, "k", 1, f.fn)
		errc <- err
	}()
	waitGathered(t, f.d, "k", 1)
	var other int
	f.call(t, "k", 10, &other)
	waitGathered(t, f.d, "k", 11)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Do(cancelled) = %v, want context.Canceled", err)
	}
	f.waitTimer(t)
	f.fake.Advance(quiet)
	f.wg.Wait()
	if other != 11 {
		t.Errorf("Do() of the caller that stayed = %d, want 11", other)
	}
}

func TestNewDebouncedRejectsBadConfig(t *testing.T) {
	fake := clock.NewFake(time.Now())
	sum := func(a, b int) int { return a + b }
	for name, build := range map[string]func(){
		"zero quiet":          func() { NewDebounced[int, int](sum, 0, time.Second, fake) },
		"maxWait below quiet": func() { NewDebounced[int, int](sum, time.Second, time.Millisecond, fake) },
		"nil clock":           func() { NewDebounced[int, int](sum, time.Second, time.Second, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewDebounced did not panic", name)
				}
			}()
			build()
		}()
	}
}
