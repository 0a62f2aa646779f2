package functions

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Run runs the local door's worker pool and the scheduler registry (presence sweeper,
// stale typing cleanup and the jobs of Deps.Schedulers; unless Config.DisableSchedulers)
// until ctx ends. Then the door refuses new events, the queue is drained for up to
// Config.DrainTimeout (events still running then have their context ended and are not
// retried), the schedulers give up their leases (within leaseReleaseTimeout), and Run
// returns nil. It is an error to call Run twice.
func (p *Pipeline) Run(ctx context.Context) error {
	p.pool.mu.Lock()
	if p.pool.running {
		p.pool.mu.Unlock()
		return errors.New("functions: Run called twice")
	}
	p.pool.running = true
	p.pool.mu.Unlock()

	// Handlers run under base, which outlives ctx by the drain.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	stop := make(chan struct{})
	var workers, schedulers sync.WaitGroup
	for range p.cfg.Workers {
		workers.Go(func() { p.pool.work(p, base, stop) })
	}
	if !p.cfg.DisableSchedulers {
		for _, s := range p.scheds {
			if s.Every > 0 {
				schedulers.Go(func() { p.loop(ctx, s) })
			}
		}
	}
	p.log.Info("functions pipeline running", "triggers", len(p.Triggers()), "workers", p.cfg.Workers, "schedulers", !p.cfg.DisableSchedulers)

	<-ctx.Done()
	p.pool.mu.Lock()
	p.pool.stopping = true
	p.pool.mu.Unlock()
	dctx, cancel := context.WithTimeout(base, p.cfg.DrainTimeout)
	if err := p.pool.drain(dctx); err != nil {
		p.log.Error("functions pipeline stopped before its queue was empty", "pending", p.Stats().Pending)
	}
	cancel()
	cancelBase()
	close(stop)
	workers.Wait()
	schedulers.Wait()
	if !p.cfg.DisableSchedulers {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
		defer rcancel()
		for _, s := range p.scheds {
			if s.Lease > 0 {
				p.lease(s.Name).release(rctx)
			}
		}
	}
	p.log.Info("functions pipeline stopped", "stats", p.Stats())
	return nil
}

// leaseReleaseTimeout bounds the release of the schedulers' leases at the end of Run
// (one small write per scheduler): with DrainTimeout it makes the longest stop, which
// must fit Cloud Run's 10 s after SIGTERM. A lease not released expires on its own.
const leaseReleaseTimeout = time.Second

// loop runs job s every s.Every until ctx ends; at once again when a run says More.
func (p *Pipeline) loop(ctx context.Context, s Scheduler) {
	more := false
	for {
		if !more {
			select {
			case <-ctx.Done():
				return
			case <-p.clock.After(s.Every):
			}
		} else if ctx.Err() != nil {
			return
		}
		res, err := p.runScheduler(ctx, s)
		more = res.More && err == nil
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Warn("scheduler failed", "scheduler", s.Name, "err", err)
		case res.Changed > 0:
			p.log.Info("scheduler ran", "scheduler", s.Name, "changed", res.Changed)
		}
	}
}
