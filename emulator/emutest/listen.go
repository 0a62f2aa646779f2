package emutest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
)

// Listener is a Firestore query listener running in its own goroutine. A test waits
// for its first snapshot with WaitSynced and learns at once when it ends (Done, Err):
// a listener the rules refuse, or one whose stream breaks, ends with an error, and
// nothing that waits on it may hang.
type Listener struct {
	synced chan struct{}
	done   chan struct{}
	err    error // written before done is closed
}

// Listen listens to q until ctx ends and calls onSnap, from the listener's goroutine,
// with every snapshot and the time it arrived.
func Listen(ctx context.Context, q firestore.Query, onSnap func(*firestore.QuerySnapshot, time.Time)) *Listener {
	l := &Listener{synced: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		it := q.Snapshots(ctx)
		defer it.Stop()
		for first := true; ; first = false {
			snap, err := it.Next()
			if err != nil {
				if errors.Is(err, iterator.Done) {
					err = errors.New("listener stopped")
				}
				if first {
					err = fmt.Errorf("listener ended before its first snapshot: %w", err)
				}
				l.err = err
				return
			}
			onSnap(snap, time.Now())
			if first {
				close(l.synced)
			}
		}
	}()
	return l
}

// WaitSynced waits at most timeout for the listener's first snapshot. It returns the
// listener's error as soon as the listener ends without one.
func (l *Listener) WaitSynced(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-l.synced:
		return nil
	case <-l.done:
		select {
		case <-l.synced: // a snapshot, then the end, both before this call
			return nil
		default:
		}
		return l.err
	case <-t.C:
		return fmt.Errorf("listener not synced after %s", timeout)
	}
}

// Done is closed when the listener has ended; Err then says why.
func (l *Listener) Done() <-chan struct{} { return l.done }

// Err is the error the listener ended with, or nil while it runs.
func (l *Listener) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}
