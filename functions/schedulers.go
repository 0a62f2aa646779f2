package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/model"
)

// Scheduler names: the lease documents (leases/{name}) and the SchedulerHandler paths.
const (
	SchedulerPresenceSweeper = "presence-sweeper"
	SchedulerTypingCleanup   = "typing-cleanup"
)

// sweepPage is how many documents one query of a scheduler handles; it repeats while
// pages come back full.
const sweepPage = 300

// SweepResult says what one scheduler run did.
type SweepResult struct {
	// Leased is false when another instance holds the scheduler's lease: this run did
	// nothing.
	Leased bool `json:"leased"`
	// Changed counts the documents written (users marked offline, typing docs deleted).
	Changed int `json:"changed"`
}

type scheduler struct {
	name  string
	every time.Duration
	run   func(context.Context) (SweepResult, error)
}

func (p *Pipeline) schedulers() []scheduler {
	return []scheduler{
		{SchedulerPresenceSweeper, p.cfg.PresenceSweepInterval, p.SweepPresence},
		{SchedulerTypingCleanup, p.cfg.TypingCleanupInterval, p.CleanTyping},
	}
}

// SweepPresence marks offline every user whose presence says online or away but whose
// last heartbeat is older than model.OfflineAfter at the clock's now, with lastSeen =
// that heartbeat; the presence trigger then mirrors it into their member docs. It runs
// only while this instance holds the lease leases/presence-sweeper, and each write is
// guarded by the presence's version, so a heartbeat that lands meanwhile wins and two
// sweepers never both write.
func (p *Pipeline) SweepPresence(ctx context.Context) (SweepResult, error) {
	held, err := p.lease(SchedulerPresenceSweeper).acquire(ctx, p.cfg.leaseTTL(p.cfg.PresenceSweepInterval))
	if err != nil || !held {
		return SweepResult{}, err
	}
	res := SweepResult{Leased: true}
	cutoff := p.clock.Now().Add(-model.OfflineAfter).UTC()
	q := p.db.Collection(model.PresenceCollection).
		Where("state", "in", []string{string(model.PresenceOnline), string(model.PresenceAway)}).
		Where("heartbeatAt", "<", cutoff).
		Limit(sweepPage)
	for {
		snaps, err := q.Documents(ctx).GetAll()
		if err != nil {
			return res, fmt.Errorf("presence sweep query: %w", err)
		}
		written := 0
		for _, snap := range snaps {
			var pr model.Presence
			if err := snap.DataTo(&pr); err != nil {
				p.log.Warn("presence sweep: undecodable presence", "doc", snap.Ref.Path, "err", err)
				continue
			}
			_, err := snap.Ref.Update(ctx, []firestore.Update{
				{Path: "state", Value: string(model.PresenceOffline)},
				{Path: "lastSeen", Value: pr.HeartbeatAt.UTC()},
			}, firestore.LastUpdateTime(snap.UpdateTime))
			switch status.Code(err) {
			case codes.OK:
				written++
			case codes.FailedPrecondition, codes.NotFound:
				// a fresh heartbeat (or a deletion) got there first
			default:
				return res, fmt.Errorf("mark %s offline: %w", snap.Ref.ID, err)
			}
		}
		res.Changed += written
		if len(snaps) < sweepPage || written == 0 {
			return res, nil
		}
	}
}

// CleanTyping deletes typing docs (rooms/{roomId}/typing/{uid}, a collection-group query)
// not updated for model.TypingStaleAfter at the clock's now: apps killed mid-sentence
// leave them behind. Clients already ignore them; the cleanup keeps the collections
// small. Lease leases/typing-cleanup; each delete is guarded by the version read, so a
// user who starts typing again meanwhile keeps their doc.
func (p *Pipeline) CleanTyping(ctx context.Context) (SweepResult, error) {
	held, err := p.lease(SchedulerTypingCleanup).acquire(ctx, p.cfg.leaseTTL(p.cfg.TypingCleanupInterval))
	if err != nil || !held {
		return SweepResult{}, err
	}
	res := SweepResult{Leased: true}
	cutoff := p.clock.Now().Add(-model.TypingStaleAfter).UTC()
	q := p.db.CollectionGroup(model.TypingCollection).Where("updatedAt", "<", cutoff).Limit(sweepPage)
	for {
		snaps, err := q.Documents(ctx).GetAll()
		if err != nil {
			return res, fmt.Errorf("typing cleanup query: %w", err)
		}
		deleted := 0
		for _, snap := range snaps {
			_, err := snap.Ref.Delete(ctx, firestore.LastUpdateTime(snap.UpdateTime))
			switch status.Code(err) {
			case codes.OK:
				deleted++
			case codes.FailedPrecondition, codes.NotFound:
			default:
				return res, fmt.Errorf("delete typing %s: %w", snap.Ref.Path, err)
			}
		}
		res.Changed += deleted
		if len(snaps) < sweepPage || deleted == 0 {
			return res, nil
		}
	}
}

// SchedulerHandler runs one scheduler per request, POST /schedulers/{name} with name
// presence-sweeper or typing-cleanup, and answers the SweepResult as JSON. It is for
// deployments where nothing runs between requests (Cloud Run with request-based
// billing, Cloud Functions): point Cloud Scheduler at it (see docs/deploy.md). The lease
// keeps overlapping calls from doing the work twice.
func (p *Pipeline) SchedulerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /schedulers/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		for _, s := range p.schedulers() {
			if s.name != name {
				continue
			}
			res, err := s.run(r.Context())
			if err != nil {
				p.log.Warn("scheduler failed", "scheduler", name, "err", err)
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(res)
			return
		}
		http.Error(w, "no scheduler "+name, http.StatusNotFound)
	})
	return mux
}
