package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// Names of the built-in schedulers: the lease documents (leases/{name}) and the
// SchedulerHandler paths. The composition root (package app) adds push-flusher and
// media-expiry through Deps.Schedulers.
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
	// Changed counts the documents written (users marked offline, typing docs deleted,
	// push queue entries claimed, uploads settled).
	Changed int `json:"changed"`
	// More is true when the run stopped at a page limit with work probably left: the
	// in-process loop runs the job again at once instead of waiting.
	More bool `json:"more,omitempty"`
}

// Scheduler is one named job of the pipeline's scheduler registry: every background
// sweep of Hearth is one, so they all run from one place (Run, every Every) and are
// callable one run at a time as POST /schedulers/{Name} (SchedulerHandler) where
// nothing runs between requests.
type Scheduler struct {
	// Name names the job in /schedulers/{Name}, in logs and, with a Lease, its lease
	// document leases/{Name}.
	Name string
	// Every is the interval of the in-process loop; zero or less leaves the job to
	// SchedulerHandler only.
	Every time.Duration
	// Lease, when positive, is how long one run holds leases/{Name}: a run that finds
	// it held by another instance does nothing (SweepResult.Leased false). Zero for jobs
	// whose every write is guarded on its own, which any number of instances may run
	// at once (the push flusher claims each queue entry, the media expiry guards each
	// upload record).
	Lease time.Duration
	// Run does one run.
	Run func(ctx context.Context) (SweepResult, error)
}

// builtinSchedulers are the pipeline's own jobs.
func (p *Pipeline) builtinSchedulers() []Scheduler {
	return []Scheduler{
		{SchedulerPresenceSweeper, p.cfg.PresenceSweepInterval, p.cfg.leaseTTL(p.cfg.PresenceSweepInterval), p.sweepPresence},
		{SchedulerTypingCleanup, p.cfg.TypingCleanupInterval, p.cfg.leaseTTL(p.cfg.TypingCleanupInterval), p.cleanTyping},
	}
}

// Schedulers returns the jobs of the registry, built-in first.
func (p *Pipeline) Schedulers() []Scheduler { return append([]Scheduler(nil), p.scheds...) }

// addSchedulers validates jobs and adds them to the registry.
func (p *Pipeline) addSchedulers(jobs ...Scheduler) error {
	for _, s := range jobs {
		if s.Name == "" || s.Run == nil {
			return fmt.Errorf("functions: scheduler %q needs Name and Run", s.Name)
		}
		if strings.ContainsAny(s.Name, "/ ") {
			return fmt.Errorf("functions: scheduler name %q: no slashes or spaces", s.Name)
		}
		for _, o := range p.scheds {
			if o.Name == s.Name {
				return fmt.Errorf("functions: scheduler name %s is taken", s.Name)
			}
		}
		p.scheds = append(p.scheds, s)
		p.metrics.scheduler(s)
	}
	return nil
}

// runScheduler runs job s once: under its lease when it has one.
// Each run is counted by outcome; one that succeeds sets the scheduler's last-success
// time.
func (p *Pipeline) runScheduler(ctx context.Context, s Scheduler) (SweepResult, error) {
	if s.Lease > 0 {
		held, err := p.lease(s.Name).acquire(ctx, s.Lease)
		switch {
		case err != nil:
			p.metrics.schedRuns.WithLabelValues(s.Name, schedError).Inc()
			return SweepResult{}, err
		case !held:
			p.metrics.schedRuns.WithLabelValues(s.Name, schedNotLeased).Inc()
			return SweepResult{}, nil
		}
	}
	res, err := s.Run(ctx)
	res.Leased = true
	if err != nil {
		p.metrics.schedRuns.WithLabelValues(s.Name, schedError).Inc()
		return res, err
	}
	p.metrics.schedRuns.WithLabelValues(s.Name, schedOK).Inc()
	p.metrics.schedLast.WithLabelValues(s.Name).Set(float64(p.clock.Now().UnixNano()) / 1e9)
	return res, nil
}

// scheduler returns the job called name.
func (p *Pipeline) scheduler(name string) (Scheduler, bool) {
	for _, s := range p.scheds {
		if s.Name == name {
			return s, true
		}
	}
	return Scheduler{}, false
}

// SweepPresence marks offline every user whose presence says online or away but whose
// last heartbeat is older than model.OfflineAfter at the clock's now, with lastSeen =
// that heartbeat; the presence trigger then mirrors it into their member docs. It runs
// only while this instance holds the lease leases/presence-sweeper, and each write is
// guarded by the presence's version, so a heartbeat that lands meanwhile wins and two
// sweepers never both write.
func (p *Pipeline) SweepPresence(ctx context.Context) (SweepResult, error) {
	s, _ := p.scheduler(SchedulerPresenceSweeper)
	return p.runScheduler(ctx, s)
}

func (p *Pipeline) sweepPresence(ctx context.Context) (SweepResult, error) {
	var res SweepResult
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
			switch {
			case err == nil:
				written++
			case status.Code(err) == codes.FailedPrecondition, firestoreerr.IsNotFound(err):
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
	s, _ := p.scheduler(SchedulerTypingCleanup)
	return p.runScheduler(ctx, s)
}

func (p *Pipeline) cleanTyping(ctx context.Context) (SweepResult, error) {
	var res SweepResult
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
			switch {
			case err == nil:
				deleted++
			case status.Code(err) == codes.FailedPrecondition, firestoreerr.IsNotFound(err):
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

// SchedulerHandler runs one job of the registry per request, POST /schedulers/{name}
// (presence-sweeper, typing-cleanup, and the jobs of Deps.Schedulers: push-flusher,
// media-expiry), and answers the SweepResult as JSON. It is for deployments where
// nothing runs between requests (Cloud Run with request-based billing, Cloud
// Functions): point Cloud Scheduler at it (see docs/deploy.md). A job's lease, or its
// guarded writes, keep overlapping calls from doing the work twice.
func (p *Pipeline) SchedulerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /schedulers/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		s, ok := p.scheduler(name)
		if !ok {
			http.Error(w, "no scheduler "+name, http.StatusNotFound)
			return
		}
		res, err := p.runScheduler(r.Context(), s)
		if err != nil {
			p.log.Warn("scheduler failed", "scheduler", name, "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
	return mux
}

// SchedulerSpecs returns the built-in jobs of cfg without their Run: names, intervals
// and leases as New installs them (defaults filled in).
func SchedulerSpecs(cfg Config) ([]Scheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ss := (&Pipeline{cfg: cfg}).builtinSchedulers()
	for i := range ss {
		ss[i].Run = nil
	}
	return ss, nil
}
