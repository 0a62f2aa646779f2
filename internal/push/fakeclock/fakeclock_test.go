package fakeclock

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestAdvanceFiresDueTimers(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(t0)
	a, b := c.After(time.Second), c.After(3*time.Second)
	if err := c.WaitPending(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Second)
	select {
	case got := <-a:
		if !got.Equal(t0.Add(2 * time.Second)) {
			t.Errorf("After(1s) fired with %v, want %v", got, t0.Add(2*time.Second))
		}
	default:
		t.Errorf("After(1s) did not fire after Advance(2s)")
	}
	select {
	case <-b:
		t.Errorf("After(3s) fired after Advance(2s)")
	default:
	}
	if c.Pending() != 1 {
		t.Errorf("Pending() = %d, want 1", c.Pending())
	}
	c.Set(t0.Add(time.Hour))
	<-b
	if now := c.Now(); !now.Equal(t0.Add(time.Hour)) {
		t.Errorf("Now() = %v, want %v", now, t0.Add(time.Hour))
	}
}

func TestAuto(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(t0)
	c.SetAuto(true)
	<-c.After(2 * time.Second)
	<-c.After(0)
	<-c.After(500 * time.Millisecond)
	if now := c.Now(); !now.Equal(t0.Add(2500 * time.Millisecond)) {
		t.Errorf("Now() after auto waits = %v, want t0+2.5s", now)
	}
	if got, want := c.Waits(), []time.Duration{2 * time.Second, 0, 500 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("Waits() = %v, want %v", got, want)
	}
}

func TestWaitPendingHonoursContext(t *testing.T) {
	c := New(time.Now())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.WaitPending(ctx, 1); err == nil {
		t.Errorf("WaitPending(cancelled) = nil, want an error")
	}
}
