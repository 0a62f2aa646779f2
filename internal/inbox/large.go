package inbox

import (
	"context"
	"sync"
	"time"
)

// Option configures a Store.
type Option func(*Store)

// LargeRooms turns on the large-room mode of the message fan-out: a fan-out reaching at
// least members entries waits until the room has been quiet for window (no further
// fan-out of the room arrived) before it starts, but never longer than
// largeRoomMaxWaits windows after the first one — and every fan-out of the room that
// arrives meanwhile joins it. A burst of messages thus writes each member's entry once
// (once per largeRoomMaxWaits windows for a stream that never pauses), not once per
// message, at the price of at least window in latency, at most largeRoomMaxWaits
// windows. Smaller rooms fan out at once. The mode follows the room's size at each
// message, so a room switches in both directions as members join and leave. members <= 0
// or window <= 0 leaves the mode off.
func LargeRooms(members int, window time.Duration) Option {
	return func(s *Store) {
		if members > 0 && window > 0 {
			s.large = &delayed{members: members, window: window, pending: map[string]*pendingFanOut{}}
		}
	}
}

// largeRoomMaxWaits bounds the gathering of a large room's fan-out: at most this many
// windows after its first message, however busy the room.
const largeRoomMaxWaits = 4

// delayed gathers the fan-outs of large rooms until the room is quiet for a window
// (trailing: the first message of a burst waits too, so the burst costs one run), for
// at most largeRoomMaxWaits windows.
type delayed struct {
	members int
	window  time.Duration
	mu      sync.Mutex
	pending map[string]*pendingFanOut // room id -> the run being gathered
}

type pendingFanOut struct {
	arg  fanOutBatch
	due  time.Time // the run starts then: a window after the latest fan-out joined ...
	cap  time.Time // ... but no later than this
	done chan struct{}
	err  error
}

// do adds b to roomID's gathering run, starting one if none is gathering, and waits for
// it (or ctx). The run starts when the room was quiet for the window (or the gathering
// reached its cap) and is detached from the callers' contexts: other callers wait for it.
func (d *delayed) do(ctx context.Context, roomID string, b fanOutBatch, run func(context.Context, fanOutBatch) error) error {
	now := time.Now()
	d.mu.Lock()
	p := d.pending[roomID]
	if p != nil {
		p.arg = mergeFanOuts(p.arg, b)
		p.due = now.Add(d.window)
		if p.due.After(p.cap) {
			p.due = p.cap
		}
	} else {
		p = &pendingFanOut{arg: b, due: now.Add(d.window), cap: now.Add(largeRoomMaxWaits * d.window), done: make(chan struct{})}
		d.pending[roomID] = p
		runCtx := context.WithoutCancel(ctx)
		go func() {
			for {
				d.mu.Lock()
				wait := time.Until(p.due)
				if wait <= 0 {
					break // d.mu held
				}
				d.mu.Unlock()
				time.Sleep(wait)
			}
			delete(d.pending, roomID)
			arg := p.arg
			d.mu.Unlock()
			rctx, cancel := context.WithTimeout(runCtx, time.Minute)
			defer cancel()
			p.err = run(rctx, arg)
			close(p.done)
		}()
	}
	d.mu.Unlock()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
