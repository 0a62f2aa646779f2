package functions

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// LocalHandler is the local door: the handler for the Firestore emulator's trigger
// deliveries, POST /functions/projects/{project}/triggers/{name} (the emulator posts to
// its --functions_emulator address; `hearth dev` and the tests route a project's
// deliveries here).
//
// The emulator delivers every event of every trigger on one thread, waits for each
// reply (up to 20 s) and never retries. So the door decodes the event, acknowledges it
// at once (204) and queues it for the worker pool that Run runs, which calls the handler
// with retries and exponential backoff as Eventarc would. Empty events (the emulator's
// "delete of a missing document") are acknowledged and dropped. An unknown trigger name
// gets 404, an undecodable body 400, and 503 when the pipeline is shutting down or the
// queue stayed full until the emulator gave up.
func (p *Pipeline) LocalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /functions/projects/{project}/triggers/{name...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		t, ok := p.trigger(name)
		if !ok {
			http.Error(w, "no trigger "+name, http.StatusNotFound)
			return
		}
		ev, err := firestoreevent.FromHTTP(r)
		if err != nil {
			p.log.Warn("undecodable trigger event", "trigger", name, "err", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.pool.stats.received.Add(1)
		if ev.Empty() {
			p.pool.stats.ignored.Add(1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err := p.pool.submit(r.Context(), &task{trigger: t, ev: ev}); err != nil {
			p.log.Error("event not queued: lost", "trigger", name, "document", ev.Document, "err", err)
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// Drain waits until the local door's queue is empty and no event is being handled or
// waiting for a retry, or ctx ends. Events the emulator has not delivered yet are not
// counted: callers that wrote documents still poll for the derived ones.
func (p *Pipeline) Drain(ctx context.Context) error {
	return p.pool.drain(ctx)
}

// Stats counts the events of the local door since New.
type Stats struct {
	Received  int64 // events accepted by the door (empty ones included)
	Ignored   int64 // empty events dropped at the door
	Succeeded int64 // events handled without error
	Retried   int64 // failed attempts that were retried
	Failed    int64 // events given up: attempts exhausted or a Permanent error
	Pending   int64 // queued, running or waiting for a retry now
}

// Stats returns the local door's counters.
func (p *Pipeline) Stats() Stats {
	s := &p.pool.stats
	p.pool.mu.Lock()
	pending := p.pool.pending
	p.pool.mu.Unlock()
	return Stats{
		Received:  s.received.Load(),
		Ignored:   s.ignored.Load(),
		Succeeded: s.succeeded.Load(),
		Retried:   s.retried.Load(),
		Failed:    s.failed.Load(),
		Pending:   int64(pending),
	}
}

// errStopped is returned by submit once the pipeline drains for shutdown.
var errStopped = errors.New("functions: pipeline is shutting down")

type task struct {
	trigger  Trigger
	ev       *firestoreevent.Event
	attempts int
}

type pool struct {
	cfg   Config
	log   *slog.Logger
	queue chan *task

	mu       sync.Mutex
	pending  int
	idle     chan struct{} // closed while pending == 0
	stopping bool          // Run is draining: the door refuses new events
	running  bool          // Run has started

	stats struct {
		received, ignored, succeeded, retried, failed atomic.Int64
	}
}

func newPool(cfg Config, log *slog.Logger) *pool {
	idle := make(chan struct{})
	close(idle)
	return &pool{cfg: cfg, log: log, queue: make(chan *task, cfg.QueueSize), idle: idle}
}

// submit counts t as pending and queues it, waiting while the queue is full.
func (q *pool) submit(ctx context.Context, t *task) error {
	q.mu.Lock()
	if q.stopping {
		q.mu.Unlock()
		return errStopped
	}
	q.addLocked()
	q.mu.Unlock()
	select {
	case q.queue <- t:
		return nil
	case <-ctx.Done():
		q.done()
		return ctx.Err()
	}
}

func (q *pool) addLocked() {
	q.pending++
	if q.pending == 1 {
		q.idle = make(chan struct{})
	}
}

// done marks one pending task finished.
func (q *pool) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending--
	if q.pending == 0 {
		close(q.idle)
	}
}

func (q *pool) drain(ctx context.Context) error {
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// work runs tasks until stop is closed. base is the context handlers run under.
func (q *pool) work(p *Pipeline, base context.Context, stop <-chan struct{}) {
	for {
		select {
		case t := <-q.queue:
			q.handle(p, base, t)
		case <-stop:
			return
		}
	}
}

func (q *pool) handle(p *Pipeline, base context.Context, t *task) {
	t.attempts++
	ctx, cancel := context.WithTimeout(base, q.cfg.HandlerTimeout)
	err := p.run(ctx, t.trigger, t.ev)
	cancel()
	log := q.log.With("trigger", t.trigger.Name, "document", t.ev.Document, "event", t.ev.ID, "attempt", t.attempts)
	switch {
	case err == nil:
		q.stats.succeeded.Add(1)
		q.done()
	case IsPermanent(err) || base.Err() != nil:
		log.Error("event failed, not retried", "err", err)
		reason := abandonPermanent
		if !IsPermanent(err) {
			reason = abandonShutdown
		}
		p.metrics.abandoned.WithLabelValues(t.trigger.Name, reason).Inc()
		q.stats.failed.Add(1)
		q.done()
	case t.attempts >= q.cfg.Retry.MaxAttempts:
		log.Error("event failed, attempts exhausted", "err", err)
		p.metrics.abandoned.WithLabelValues(t.trigger.Name, abandonExhausted).Inc()
		q.stats.failed.Add(1)
		q.done()
	default:
		delay := backoff(q.cfg.Retry, t.attempts)
		log.Warn("event failed, will retry", "err", err, "in", delay)
		q.stats.retried.Add(1)
		p.metrics.retries.WithLabelValues(t.trigger.Name).Inc()
		time.AfterFunc(delay, func() {
			select {
			case q.queue <- t:
			case <-base.Done():
				log.Error("event dropped at shutdown while waiting for a retry")
				p.metrics.abandoned.WithLabelValues(t.trigger.Name, abandonShutdown).Inc()
				q.stats.failed.Add(1)
				q.done()
			}
		})
	}
}

// backoff is the delay before retry number attempts (1 = first retry): exponential from
// InitialBackoff, capped at MaxBackoff, with jitter (uniform in [d/2, d]) so that
// retries of events that failed together do not collide again.
func backoff(r RetryPolicy, attempts int) time.Duration {
	d := r.InitialBackoff << min(attempts-1, 30)
	if d <= 0 || d > r.MaxBackoff {
		d = r.MaxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}
