package inbox

import (
	"context"
	"sync"
	"time"
)

// Option configures a Store.
type Option func(*Store)

// LargeRooms turns on the large-room mode of the message fan-out: a fan-out reaching at
// least members entries waits window before it starts, and every fan-out of the room
// that arrives meanwhile joins it — so a burst of messages writes each member's entry
// once per window, not once per message, at the price of window in latency. Smaller
// rooms fan out at once. The mode follows the room's size at each message, so a room
// switches in both directions as members join and leave. members <= 0 or window <= 0
// leaves the mode off.
func LargeRooms(members int, window time.Duration) Option {
	return func(s *Store) {
		if members > 0 && window > 0 {
			s.large = &delayed{members: members, window: window, pending: map[string]*pendingFanOut{}}
		}
	}
}

// delayed gathers the fan-outs of large rooms for a window (trailing: the first
// message of a burst waits too, so the burst costs one run).
type delayed struct {
	members int
	window  time.Duration
	mu      sync.Mutex
	pending map[string]*pendingFanOut // room id -> the run being gathered
}

type pendingFanOut struct {
	arg  fanOutBatch
	done chan struct{}
	err  error
}

// do adds b to roomID's gathering run, starting one that runs run after the window if
// none is gathering, and waits for it (or ctx). The run itself is detached from the
// callers' contexts: other callers wait for it.
func (d *delayed) do(ctx context.Context, roomID string, b fanOutBatch, run func(context.Context, fanOutBatch) error) error {
	d.mu.Lock()
	p := d.pending[roomID]
	if p != nil {
		p.arg = mergeFanOuts(p.arg, b)
	} else {
		p = &pendingFanOut{arg: b, done: make(chan struct{})}
		d.pending[roomID] = p
		runCtx := context.WithoutCancel(ctx)
		go func() {
			time.Sleep(d.window)
			d.mu.Lock()
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
