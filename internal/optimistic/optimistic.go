// Package optimistic commits derived Firestore documents with optimistic concurrency:
// an attempt reads what it needs with plain (strongly consistent) reads, computes, and
// commits its writes atomically, each write of a document it read guarded by the update
// time it read. If any of those documents changed meanwhile the commit fails as a whole
// and the attempt runs again on fresh reads.
//
// Why not read-write transactions: they hold read locks while the attempt runs its
// aggregation queries, and the Firestore emulator resolves lock conflicts between
// concurrent read-modify-write transactions only by timing one out ("Transaction lock
// timeout" after several seconds). Measured here: 20 goroutines incrementing one field
// 5 times each in read-write transactions took 31 s and 7 of the 100 transactions
// failed; the same work with guarded commits took 0.8 s and none failed. Guarded commits
// are equally correct in production and hold no locks there either.
//
// The guarantee an attempt gets: when Commit returns nil, no document the attempt wrote
// (or deleted) changed between the attempt's read of it and the commit. Documents it
// only read are not guarded; callers that need more read the guarded documents first
// and everything else after (see the inbox package for the argument).
package optimistic

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrContention is returned (wrapped) when every attempt lost its race: the caller
// should retry later (a trigger returns it to be retried with backoff).
var ErrContention = errors.New("optimistic commit: too much contention")

// Policy bounds the attempts of one Commit.
type Policy struct {
	MaxAttempts int           // attempts before ErrContention; default 30
	BaseDelay   time.Duration // first backoff (full jitter); default 2ms
	MaxDelay    time.Duration // backoff cap; default 250ms
}

// DefaultPolicy is used by Commit.
var DefaultPolicy = Policy{MaxAttempts: 30, BaseDelay: 2 * time.Millisecond, MaxDelay: 250 * time.Millisecond}

// Writes collects the writes of one attempt.
type Writes struct {
	ops []func(*firestore.WriteBatch)
}

// Create creates ref with data; the commit fails (and the attempt is retried) if it
// exists by then.
func (w *Writes) Create(ref *firestore.DocumentRef, data any) {
	w.ops = append(w.ops, func(b *firestore.WriteBatch) { b.Create(ref, data) })
}

// Update applies updates to the document of snap, which must exist, provided it was not
// changed since snap was read.
func (w *Writes) Update(snap *firestore.DocumentSnapshot, updates []firestore.Update) {
	if len(updates) == 0 {
		return
	}
	ref, at := snap.Ref, snap.UpdateTime
	w.ops = append(w.ops, func(b *firestore.WriteBatch) {
		b.Update(ref, updates, firestore.LastUpdateTime(at))
	})
}

// Delete deletes the document of snap, which must exist, provided it was not changed
// since snap was read.
func (w *Writes) Delete(snap *firestore.DocumentSnapshot) {
	ref, at := snap.Ref, snap.UpdateTime
	w.ops = append(w.ops, func(b *firestore.WriteBatch) {
		b.Delete(ref, firestore.LastUpdateTime(at))
	})
}

// Attempt reads, computes and adds its writes to w. It may run several times; it must
// not have other side effects. An error from it ends Commit with that error.
type Attempt func(ctx context.Context, w *Writes) error

// Commit runs attempt and commits its writes atomically, again on fresh reads while a
// guarded document changed under it, with the DefaultPolicy.
func Commit(ctx context.Context, db *firestore.Client, attempt Attempt) error {
	return DefaultPolicy.Commit(ctx, db, attempt)
}

// Commit is the package-level Commit with the policy p.
func (p Policy) Commit(ctx context.Context, db *firestore.Client, attempt Attempt) error {
	p = p.withDefaults()
	var last error
	for i := 0; i < p.MaxAttempts; i++ {
		if i > 0 {
			if err := sleep(ctx, p.delay(i)); err != nil {
				return err
			}
		}
		var w Writes
		if err := attempt(ctx, &w); err != nil {
			return err
		}
		if len(w.ops) == 0 {
			return nil
		}
		// One Commit RPC: a batch is applied atomically and checks every write's
		// precondition, which is all the guard needs (a transaction would add a
		// BeginTransaction round trip and hold nothing this attempt relies on).
		b := db.Batch() // deprecated in favour of transactions, but it is the one-RPC atomic commit
		for _, op := range w.ops {
			op(b)
		}
		_, err := b.Commit(ctx)
		if err == nil {
			return nil
		}
		if !IsConflict(err) {
			return fmt.Errorf("commit: %w", err)
		}
		last = err
	}
	return fmt.Errorf("%w: %d attempts, last: %w", ErrContention, p.MaxAttempts, last)
}

// IsConflict reports whether a commit failed because a guarded document changed (or
// appeared, or disappeared) after it was read.
func IsConflict(err error) bool {
	switch status.Code(err) {
	case codes.FailedPrecondition, codes.AlreadyExists, codes.NotFound, codes.Aborted:
		return true
	}
	return false
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultPolicy.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultPolicy.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultPolicy.MaxDelay
	}
	return p
}

// delay is "full jitter" exponential backoff: uniform in [0, min(max, base*2^(i-1))).
func (p Policy) delay(i int) time.Duration {
	ceil := p.BaseDelay << min(i-1, 20)
	if ceil <= 0 || ceil > p.MaxDelay {
		ceil = p.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
