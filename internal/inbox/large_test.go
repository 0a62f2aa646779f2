package inbox

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// runs records the runs of a delayed fan-out: the messages of each.
type runs struct {
	mu   sync.Mutex
	msgs [][]string
}

func (r *runs) run(_ context.Context, b fanOutBatch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, slices.Sorted(maps.Keys(b.msgs)))
	return nil
}

// TestLargeRoomQuietWindow: fan-outs that keep arriving within a window of each other
// join one run, even when the burst lasts longer than a window (a fixed window from the
// first message would run twice here).
func TestLargeRoomQuietWindow(t *testing.T) {
	const window = 500 * time.Millisecond
	d := &delayed{members: 1, window: window, pending: map[string]*pendingFanOut{}}
	var r runs
	var wg sync.WaitGroup
	for i, id := range []string{"m1", "m2", "m3"} {
		if i > 0 {
			time.Sleep(3 * window / 5) // 0, 300 ms, 600 ms: each within a window of the last
		}
		wg.Go(func() {
			if err := d.do(t.Context(), "big", fanOutBatch{msgs: map[string]string{id: "alice"}}, r.run); err != nil {
				t.Errorf("do(%s) = %v", id, err)
			}
		})
	}
	wg.Wait()
	if want := [][]string{{"m1", "m2", "m3"}}; !slices.EqualFunc(r.msgs, want, slices.Equal) {
		t.Errorf("runs = %v, want %v (one run for the burst)", r.msgs, want)
	}
}

// TestLargeRoomWaitCap: a room that never goes quiet still runs its fan-out within
// largeRoomMaxWaits windows of the first message.
func TestLargeRoomWaitCap(t *testing.T) {
	const window = 100 * time.Millisecond
	d := &delayed{members: 1, window: window, pending: map[string]*pendingFanOut{}}
	var r runs
	start := time.Now()
	first := make(chan time.Duration, 1)
	go func() {
		if err := d.do(t.Context(), "big", fanOutBatch{msgs: map[string]string{"m00": "alice"}}, r.run); err != nil {
			t.Errorf("do(m00) = %v", err)
		}
		first <- time.Since(start)
	}()
	var wg sync.WaitGroup
	// A message every fifth of a window for 2*largeRoomMaxWaits windows.
	for i := 1; i <= 10*largeRoomMaxWaits; i++ {
		time.Sleep(window / 5)
		id := fmt.Sprintf("m%02d", i)
		wg.Go(func() {
			if err := d.do(t.Context(), "big", fanOutBatch{msgs: map[string]string{id: "alice"}}, r.run); err != nil {
				t.Errorf("do(%s) = %v", id, err)
			}
		})
	}
	wg.Wait()
	took := <-first
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) < 2 {
		t.Errorf("runs = %d, want at least 2: the gathering must stop at its cap", len(r.msgs))
	}
	if took >= 2*largeRoomMaxWaits*window {
		t.Errorf("the first message's run ended %v after it, want well within %v (cap %v)", took, 2*largeRoomMaxWaits*window, largeRoomMaxWaits*window)
	}
}
