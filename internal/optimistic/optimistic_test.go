package optimistic

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// increment adds 1 to counters/c.n with a guarded commit.
func increment(ctx context.Context, db *firestore.Client) error {
	ref := db.Doc("counters/c")
	return Commit(ctx, db, func(ctx context.Context, w *Writes) error {
		snap, err := ref.Get(ctx)
		if firestoreerr.IsNotFound(err) {
			w.Create(ref, map[string]any{"n": 1})
			return nil
		}
		if err != nil {
			return err
		}
		n, _ := snap.DataAt("n")
		w.Update(snap, []firestore.Update{{Path: "n", Value: n.(int64) + 1}})
		return nil
	})
}

// TestCommitContention: 20 writers incrementing one document 5 times each lose no
// increment (creation race included).
func TestCommitContention(t *testing.T) {
	env := emutest.New(t)
	db := env.Firestore()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 20 {
		wg.Go(func() {
			for range 5 {
				if err := increment(t.Context(), db); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("increment: %v", err)
	}
	snap, err := db.Doc("counters/c").Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := snap.DataAt("n"); n != int64(100) {
		t.Errorf("n = %v, want 100", n)
	}
}

func TestCommitGuards(t *testing.T) {
	env := emutest.New(t)
	db := env.Firestore()
	ctx := t.Context()
	ref := db.Doc("things/a")
	if _, err := ref.Set(ctx, map[string]any{"v": 1}); err != nil {
		t.Fatal(err)
	}
	attempts := 0
	err := Commit(ctx, db, func(ctx context.Context, w *Writes) error {
		attempts++
		snap, err := ref.Get(ctx)
		if err != nil {
			return err
		}
		if attempts == 1 { // someone else writes between our read and our commit
			if _, err := ref.Set(ctx, map[string]any{"v": 2}); err != nil {
				return err
			}
		}
		v, _ := snap.DataAt("v")
		w.Update(snap, []firestore.Update{{Path: "v", Value: v.(int64) * 10}})
		return nil
	})
	if err != nil || attempts != 2 {
		t.Fatalf("Commit() = %v after %d attempts, want nil after 2", err, attempts)
	}
	snap, _ := ref.Get(ctx)
	if v, _ := snap.DataAt("v"); v != int64(20) {
		t.Errorf("v = %v, want 20 (10 x the value written meanwhile)", v)
	}

	boom := errors.New("boom")
	if err := Commit(ctx, db, func(context.Context, *Writes) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Commit(failing attempt) = %v, want boom", err)
	}
	if err := Commit(ctx, db, func(context.Context, *Writes) error { return nil }); err != nil {
		t.Errorf("Commit(no writes) = %v", err)
	}
	p := Policy{MaxAttempts: 2}
	err = p.Commit(ctx, db, func(ctx context.Context, w *Writes) error {
		w.Create(ref, map[string]any{"v": 0}) // always exists: always a conflict
		return nil
	})
	if !errors.Is(err, ErrContention) {
		t.Errorf("Commit(always conflicting) = %v, want ErrContention", err)
	}
}

func TestIsConflict(t *testing.T) {
	for _, tc := range []struct {
		code codes.Code
		want bool
	}{
		{codes.FailedPrecondition, true}, {codes.AlreadyExists, true}, {codes.NotFound, true},
		{codes.Aborted, true}, {codes.PermissionDenied, false}, {codes.Unavailable, false},
	} {
		if got := IsConflict(status.Error(tc.code, "x")); got != tc.want {
			t.Errorf("IsConflict(%s) = %v, want %v", tc.code, got, tc.want)
		}
	}
}
