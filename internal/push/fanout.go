package push

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

// delivery is one message to one device and what became of it.
type delivery struct {
	dev device
	msg *messaging.Message
	// ok is set when FCM accepted the message; fail holds the last error otherwise.
	ok   bool
	fail *failure
}

// fanout sends messages the way FCM wants to be talked to at volume: SendEach batches of
// at most model.MaxPushBatch messages (the SDK sends each batch with 50 workers, one HTTP
// request per message), MaxConcurrentBatches batches at once, and only the messages that
// failed transiently (429, 5xx, no answer) sent again, after exponential backoff with
// jitter or the server's Retry-After, whichever is longer. It needs no Firestore, so the
// benchmark measures it alone.
type fanout struct {
	sender Sender
	clock  clock.Clock
	cfg    Config
	m      *metrics
	log    *slog.Logger
}

// send delivers ds and records each one's outcome in it. It returns only ctx's error.
// Messages still failing transiently after MaxRetries resends, or whose Retry-After is
// longer than RetryMax, keep a failure with actRetry: the caller puts their notification
// back in the queue.
func (f *fanout) send(ctx context.Context, ds []*delivery) error {
	pending := ds
	for retry := 0; ; retry++ {
		f.round(ctx, pending)
		if err := ctx.Err(); err != nil {
			return err
		}
		var again []*delivery
		var wait time.Duration
		for _, d := range pending {
			if d.fail != nil && d.fail.action == actRetry {
				again = append(again, d)
				wait = max(wait, d.fail.retryAfter)
			}
		}
		if len(again) == 0 || retry >= f.cfg.MaxRetries || wait > f.cfg.RetryMax {
			for _, d := range pending {
				if d.fail != nil {
					f.m.failed.WithLabelValues(d.fail.reason).Inc()
				}
			}
			return nil
		}
		for _, d := range pending {
			if d.fail != nil && d.fail.action != actRetry {
				f.m.failed.WithLabelValues(d.fail.reason).Inc()
			}
		}
		wait = max(wait, f.backoff(retry))
		for _, d := range again {
			f.m.retries.WithLabelValues(d.fail.reason).Inc()
		}
		f.log.Debug("retrying push", "messages", len(again), "wait", wait, "reason", again[0].fail.reason)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.clock.After(wait):
		}
		pending = again
	}
}

// backoff is the wait before resend number retry+1: RetryBase doubled per retry, capped
// at RetryMax, with "equal jitter" (half fixed, half random) so that instances that failed
// together do not come back together.
func (f *fanout) backoff(retry int) time.Duration {
	half := doubled(f.cfg.RetryBase, retry, f.cfg.RetryMax) / 2
	return half + rand.N(half+1)
}

// doubled is base doubled n times, capped at ceiling.
func doubled(base time.Duration, n int, ceiling time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// round sends every delivery once, in batches, and sets ok or fail on each.
func (f *fanout) round(ctx context.Context, ds []*delivery) {
	sem := make(chan struct{}, f.cfg.MaxConcurrentBatches)
	var wg sync.WaitGroup
	defer wg.Wait()
	for start := 0; start < len(ds); start += model.MaxPushBatch {
		chunk := ds[start:min(start+model.MaxPushBatch, len(ds))]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for _, d := range ds[start:] {
				d.ok, d.fail = false, &failure{reason: FailTransport, action: actRetry}
			}
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			f.batch(ctx, chunk)
		})
	}
}

// batch sends one SendEach call.
func (f *fanout) batch(ctx context.Context, chunk []*delivery) {
	msgs := make([]*messaging.Message, len(chunk))
	for i, d := range chunk {
		msgs[i] = d.msg
		d.ok, d.fail = false, nil
	}
	br, err := f.sender.SendEach(ctx, msgs)
	if err == nil && (br == nil || len(br.Responses) != len(chunk)) {
		err = errShortResponse
	}
	if err != nil {
		// SendEach fails as a whole only for messages it refuses locally (or an empty
		// list): a bug in what Hearth built, not something a retry fixes.
		fl := &failure{reason: FailInvalidArgument, action: actDrop}
		if ctx.Err() != nil {
			fl = &failure{reason: FailTransport, action: actRetry}
		}
		f.log.Error("SendEach refused the batch", "messages", len(chunk), "err", err)
		for _, d := range chunk {
			d.fail = fl
		}
		return
	}
	now := f.clock.Now()
	for i, r := range br.Responses {
		if r != nil && r.Success {
			chunk[i].ok = true
			continue
		}
		var rerr error = errShortResponse
		if r != nil {
			rerr = r.Error
		}
		fl := classify(rerr, now)
		if fl.action != actRetry && ctx.Err() != nil && errorutils.HTTPResponse(rerr) == nil {
			// Cut by ctx (the lease's send deadline, or shutdown) before FCM answered.
			fl = failure{reason: FailTransport, action: actRetry}
		}
		chunk[i].fail = &fl
	}
}
