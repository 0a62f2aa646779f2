package functions

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// Lease is the document leases/{name} (model.LeasesCollection), one per scheduler: which
// instance may run it until when. Backend only (the security rules grant clients nothing
// there).
type Lease struct {
	Holder     string    `firestore:"holder"`
	ExpiresAt  time.Time `firestore:"expiresAt"`
	AcquiredAt time.Time `firestore:"acquiredAt"`
}

// lease is one named lease held for this pipeline's instance.
type lease struct {
	p    *Pipeline
	name string
}

func (p *Pipeline) lease(name string) lease { return lease{p: p, name: name} }

func (l lease) ref() *firestore.DocumentRef {
	return l.p.db.Collection(model.LeasesCollection).Doc(l.name)
}

// acquire takes or renews the lease for ttl from now (the injected clock) and reports
// whether this instance holds it: it is free, expired, or already ours. Two instances
// racing for it cannot both win: the write is guarded by the version each read.
func (l lease) acquire(ctx context.Context, ttl time.Duration) (bool, error) {
	var held bool
	me := l.p.cfg.InstanceID
	err := optimistic.Commit(ctx, l.p.db, func(ctx context.Context, w *optimistic.Writes) error {
		held = false
		now := l.p.clock.Now().UTC().Truncate(time.Microsecond)
		snap, err := l.ref().Get(ctx)
		if err != nil && !firestoreerr.IsNotFound(err) {
			return fmt.Errorf("read lease %s: %w", l.name, err)
		}
		next := Lease{Holder: me, ExpiresAt: now.Add(ttl), AcquiredAt: now}
		if !snap.Exists() {
			w.Create(l.ref(), next)
			held = true
			return nil
		}
		var cur Lease
		if err := snap.DataTo(&cur); err != nil {
			return fmt.Errorf("decode lease %s: %w", l.name, err)
		}
		if cur.Holder != me && now.Before(cur.ExpiresAt) {
			return nil
		}
		if cur.Holder == me {
			next.AcquiredAt = cur.AcquiredAt
		}
		w.Update(snap, []firestore.Update{
			{Path: "holder", Value: next.Holder},
			{Path: "expiresAt", Value: next.ExpiresAt},
			{Path: "acquiredAt", Value: next.AcquiredAt},
		})
		held = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", l.name, err)
	}
	return held, nil
}

// release gives the lease up if this instance holds it, so another takes over at once.
func (l lease) release(ctx context.Context) {
	err := optimistic.Commit(ctx, l.p.db, func(ctx context.Context, w *optimistic.Writes) error {
		snap, err := l.ref().Get(ctx)
		if firestoreerr.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if h, _ := snap.DataAt("holder"); h == l.p.cfg.InstanceID {
			w.Delete(snap)
		}
		return nil
	})
	if err != nil {
		l.p.log.Warn("release lease", "lease", l.name, "err", err)
	}
}
