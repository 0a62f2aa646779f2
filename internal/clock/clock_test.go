package clock

import (
	"context"
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	if got := f.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	a, b := f.After(time.Second), f.After(3*time.Second)
	if now := <-f.After(0); !now.Equal(start) {
		t.Errorf("After(0) = %v, want %v at once", now, start)
	}
	if n := f.Waiters(); n != 2 {
		t.Fatalf("Waiters() = %d, want 2", n)
	}
	f.Advance(2 * time.Second)
	select {
	case got := <-a:
		if want := start.Add(2 * time.Second); !got.Equal(want) {
			t.Errorf("After(1s) fired with %v, want %v", got, want)
		}
	default:
		t.Fatal("After(1s) did not fire after Advance(2s)")
	}
	select {
	case <-b:
		t.Fatal("After(3s) fired after 2s")
	default:
	}
	f.Set(start) // backwards: ignored
	if got := f.Now(); !got.Equal(start.Add(2 * time.Second)) {
		t.Errorf("Set(earlier) moved the clock to %v", got)
	}
	f.Set(start.Add(time.Hour))
	<-b
	if n := f.Waiters(); n != 0 {
		t.Errorf("Waiters() = %d, want 0", n)
	}
}

func TestFakeWaitForWaiters(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan struct{})
	go func() {
		<-f.After(time.Minute)
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.WaitForWaiters(ctx, 1); err != nil {
		t.Fatalf("WaitForWaiters(1) = %v", err)
	}
	f.Advance(time.Minute)
	<-done
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if err := f.WaitForWaiters(short, 1); err == nil {
		t.Error("WaitForWaiters(1) with no waiter = nil, want the context's error")
	}
}

func TestSystem(t *testing.T) {
	var c Clock = System{}
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Errorf("System.Now() = %v, before %v", now, before)
	}
	<-c.After(time.Millisecond)
}

func TestFunc(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := Func(func() time.Time { return at })
	if got := c.Now(); !got.Equal(at) {
		t.Errorf("Func.Now() = %v, want %v", got, at)
	}
	select {
	case <-c.After(time.Millisecond):
	case <-time.After(time.Minute):
		t.Error("Func.After(1ms) did not fire within a minute")
	}
}

func TestTruncated(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	f := NewFake(start)
	c := Truncated(f, time.Microsecond)
	if got, want := c.Now(), time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC); !got.Equal(want) {
		t.Errorf("Truncated(fake, µs).Now() = %v, want %v", got, want)
	}
	ch := c.After(time.Second)
	if n := f.Waiters(); n != 1 {
		t.Fatalf("Truncated(...).After registered %d waiters on the wrapped clock, want 1", n)
	}
	f.Advance(time.Second)
	select {
	case got := <-ch:
		if want := start.Add(time.Second); !got.Equal(want) {
			t.Errorf("After(1s) fired with %v, want %v", got, want)
		}
	default:
		t.Fatal("After(1s) of the truncated clock did not fire after the wrapped one moved 1s")
	}
}
