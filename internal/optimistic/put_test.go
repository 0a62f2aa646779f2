package optimistic

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
)

type putInner struct {
	A string    `firestore:"a"`
	T time.Time `firestore:"t,omitempty"`
}

type putDoc struct {
	putInner
	N       int      `firestore:"n"`
	IDs     []string `firestore:"ids,omitempty"`
	Skipped string   `firestore:"-"`
	Plain   bool
}

// TestPut: Put creates a missing document, replaces the fields of an existing one
// (deleting zero omitempty fields, keeping undeclared ones) and is guarded like Update.
func TestPut(t *testing.T) {
	env := emutest.New(t)
	db := env.Firestore()
	ctx := t.Context()
	ref := db.Doc("things/p")
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	put := func(d putDoc) error {
		return Commit(ctx, db, func(ctx context.Context, w *Writes) error {
			snaps, err := db.GetAll(ctx, []*firestore.DocumentRef{ref})
			if err != nil {
				return err
			}
			w.Put(snaps[0], &d)
			return nil
		})
	}
	if err := put(putDoc{putInner: putInner{A: "x", T: at}, N: 1, IDs: []string{"m1"}, Skipped: "no", Plain: true}); err != nil {
		t.Fatalf("Put(create) = %v", err)
	}
	snap, _ := ref.Get(ctx)
	if got, want := snap.Data(), map[string]any{"a": "x", "t": at, "n": int64(1), "ids": []any{"m1"}, "Plain": true}; !equalData(got, want) {
		t.Fatalf("created %v, want %v", got, want)
	}
	if _, err := ref.Update(ctx, []firestore.Update{{Path: "extra", Value: "kept"}}); err != nil {
		t.Fatal(err)
	}
	if err := put(putDoc{putInner: putInner{A: "y"}, N: 2}); err != nil {
		t.Fatalf("Put(replace) = %v", err)
	}
	snap, _ = ref.Get(ctx)
	if got, want := snap.Data(), map[string]any{"a": "y", "n": int64(2), "Plain": false, "extra": "kept"}; !equalData(got, want) {
		t.Errorf("replaced %v, want %v", got, want)
	}

	// Guarded: a write between the read and the commit fails the attempt.
	stale, _ := ref.Get(ctx)
	if _, err := ref.Update(ctx, []firestore.Update{{Path: "n", Value: 3}}); err != nil {
		t.Fatal(err)
	}
	err := Policy{MaxAttempts: 1}.Commit(ctx, db, func(ctx context.Context, w *Writes) error {
		w.Put(stale, putDoc{N: 99})
		return nil
	})
	if !errors.Is(err, ErrContention) {
		t.Errorf("Put on a stale snapshot = %v, want ErrContention", err)
	}
	// Guarded creation: the document appeared after it was read as missing.
	missing, _ := db.GetAll(ctx, []*firestore.DocumentRef{db.Doc("things/q")})
	if _, err := db.Doc("things/q").Set(ctx, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	err = Policy{MaxAttempts: 1}.Commit(ctx, db, func(ctx context.Context, w *Writes) error {
		w.Put(missing[0], putDoc{N: 99})
		return nil
	})
	if !errors.Is(err, ErrContention) {
		t.Errorf("Put on a snapshot of a missing document that now exists = %v, want ErrContention", err)
	}
}

func equalData(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		switch w := w.(type) {
		case time.Time:
			if gt, ok := g.(time.Time); !ok || !gt.Equal(w) {
				return false
			}
		case []any:
			gs, ok := g.([]any)
			if !ok || len(gs) != len(w) {
				return false
			}
			for i := range w {
				if gs[i] != w[i] {
					return false
				}
			}
		default:
			if g != w {
				return false
			}
		}
	}
	return true
}

// TestPutRefusesWhatItCannotEncode: options and shapes Put does not support panic
// rather than write something other than what Set would.
func TestPutRefusesWhatItCannotEncode(t *testing.T) {
	type withServerTime struct {
		At time.Time `firestore:"at,serverTimestamp"`
	}
	type withEmbeddedPointer struct {
		*putInner
		N int `firestore:"n"`
	}
	for name, v := range map[string]any{
		"serverTimestamp":  withServerTime{},
		"embedded pointer": withEmbeddedPointer{putInner: &putInner{}},
		"not a struct":     map[string]any{"n": 1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("fieldUpdates(%s) did not panic", name)
				}
			}()
			fieldUpdates(reflect.ValueOf(v))
		}()
	}
}
