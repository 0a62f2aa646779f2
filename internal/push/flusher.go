package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// Run is the flusher on its own: FlushDue every PollInterval (at once again after a
// full page) until ctx ends; then it returns nil. In Hearth the scheduler registry of
// package functions runs FlushDue instead (job push-flusher), beside the other
// sweeps. Any number of instances may run at once: each entry is claimed with a lease
// by a guarded write, so only one of them sends it. Errors of one round are logged and
// the next round tries again.
func (n *Notifier) Run(ctx context.Context) error {
	n.log.Info("push flusher running", "instance", n.instance, "window", n.cfg.Window, "poll", n.cfg.PollInterval, "lease", n.cfg.Lease)
	for {
		_, more, err := n.FlushDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			n.log.Warn("push flush", "err", err)
		}
		wait := n.cfg.PollInterval
		if more {
			wait = 0 // a full page: more is probably due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-n.clock.After(wait):
		}
	}
}

// FlushDue is one round of the flusher: the queue gauges when QueueMetricsInterval has
// passed since they were last set, then Flush. It returns how many entries it claimed
// and whether the page was full (more is probably due: run again at once).
func (n *Notifier) FlushDue(ctx context.Context) (claimed int, more bool, err error) {
	if n.metricsDue(n.clock.Now()) {
		if err := n.updateQueueMetrics(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("push queue metrics", "err", err)
		}
	}
	claimed, err = n.Flush(ctx)
	return claimed, claimed >= n.cfg.FlushLimit && err == nil, err
}

// metricsDue reports whether the queue gauges are due at now, and if so takes the turn.
func (n *Notifier) metricsDue(now time.Time) bool {
	n.metricsMu.Lock()
	defer n.metricsMu.Unlock()
	if !n.metricsAt.IsZero() && now.Sub(n.metricsAt) < n.cfg.QueueMetricsInterval {
		return false
	}
	n.metricsAt = now
	return true
}

// Flush claims up to FlushLimit due queue entries, sends their notifications and
// completes them. It returns how many entries it claimed.
func (n *Notifier) Flush(ctx context.Context) (int, error) {
	claims, err := n.claimDue(ctx)
	if len(claims) == 0 {
		return 0, err
	}
	return len(claims), errors.Join(err, n.deliver(ctx, claims, KindDigest, n.newLoader()))
}

// dueQuery returns the entries due at now, oldest first.
func (n *Notifier) dueQuery(now time.Time) firestore.Query {
	return n.db.Collection(model.PushQueueCollection).
		Where("dueAt", "<=", now).
		OrderBy("dueAt", firestore.Asc)
}

// claimDue finds due entries and claims them, Concurrency at a time. Entries another
// instance holds are skipped: their DueAt is their lease's end, so they are due again
// only when the lease expired without the send being completed.
//
// A claim is a compare-and-set on the snapshot the query returned: the entry with its
// lease taken (claimLocked, as the message trigger takes it), written on the condition
// that the document was not written since. Of several
// flushers that found the same entry, exactly one update succeeds; the others get
// FAILED_PRECONDITION and move on, without the lock waits and retries that competing
// transactions cost.
func (n *Notifier) claimDue(ctx context.Context) ([]*claim, error) {
	now := n.now()
	snaps, err := n.dueQuery(now).Limit(n.cfg.FlushLimit).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("query due push queue entries: %w", err)
	}
	return claimEach(snaps, n.cfg.Concurrency, func(snap *firestore.DocumentSnapshot) (*claim, error) {
		return n.claimSnapshot(ctx, snap, now)
	})
}

// claimSnapshot claims the entry of snap if it is still as read; nil when it is leased,
// not due, or changed meanwhile.
func (n *Notifier) claimSnapshot(ctx context.Context, snap *firestore.DocumentSnapshot, now time.Time) (*claim, error) {
	var e entry
	if err := snap.DataTo(&e); err != nil {
		n.log.Warn("undecodable push queue entry", "id", snap.Ref.ID, "err", err)
		return nil, nil
	}
	if !e.claimable(now) {
		return nil, nil
	}
	uid, roomID, err := model.ParsePushQueueID(snap.Ref.ID)
	if err != nil {
		n.log.Warn("push queue entry with a bad id", "id", snap.Ref.ID, "err", err)
		return nil, nil
	}
	if e.Count <= 0 || e.UID != uid || e.RoomID != roomID {
		// Nothing pending (or an entry written by hand): let tryClaim tidy it.
		return n.tryClaim(ctx, uid, roomID)
	}
	c := n.claimLocked(&e, now)
	e.UpdatedAt = now
	_, err = snap.Ref.Update(ctx, optimistic.Fields(&e), firestore.LastUpdateTime(snap.UpdateTime))
	switch {
	case err == nil:
		return c, nil
	case status.Code(err) == codes.FailedPrecondition || firestoreerr.IsNotFound(err):
		return nil, nil // another instance (or a new message) got there first
	}
	return nil, fmt.Errorf("claim push queue entry %s: %w", snap.Ref.ID, err)
}

// updateQueueMetrics sets hearth_push_queue_depth (entries with something pending or in
// flight) and hearth_push_queue_oldest_age_seconds (how late the most overdue one is).
func (n *Notifier) updateQueueMetrics(ctx context.Context) error {
	now := n.now()
	depth, err := n.queueDepth(ctx)
	if err != nil {
		return err
	}
	n.m.queueDepth.Set(float64(depth))
	snaps, err := n.dueQuery(now).Limit(1).Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("oldest due push queue entry: %w", err)
	}
	age := 0.0
	if len(snaps) == 1 {
		var e entry
		if err := snaps[0].DataTo(&e); err == nil && !e.DueAt.IsZero() {
			age = max(now.Sub(e.DueAt).Seconds(), 0)
		}
	}
	n.m.queueAge.Set(age)
	return nil
}

// queueDepth counts the entries that have a dueAt, with an aggregation query.
func (n *Notifier) queueDepth(ctx context.Context) (int64, error) {
	q := n.db.Collection(model.PushQueueCollection).Where("dueAt", ">", time.Time{})
	res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("count push queue entries: %w", err)
	}
	return countValue(res["n"]), nil
}

// countValue reads a COUNT aggregation result.
func countValue(v any) int64 {
	if pv, ok := v.(*firestorepb.Value); ok {
		return pv.GetIntegerValue()
	}
	return 0
}
