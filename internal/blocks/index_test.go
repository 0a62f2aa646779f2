package blocks

import (
	"os"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

func readIndex(t *testing.T, db *firestore.Client, uid string) (model.Blockers, bool) {
	t.Helper()
	snap, err := db.Doc(model.BlockersPath(uid)).Get(t.Context())
	if firestoreerr.IsNotFound(err) {
		return model.Blockers{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var b model.Blockers
	if err := snap.DataTo(&b); err != nil {
		t.Fatal(err)
	}
	return b, true
}

// TestBackfill: block documents written before the index was kept (and an index
// entry whose block was lifted meanwhile) are indexed by Backfill, page by page; a
// second run changes nothing, and one over the cap overflows.
func TestBackfill(t *testing.T) {
	env := emutest.New(t)
	db := env.Firestore()
	ctx := t.Context()
	now := time.Now().UTC()
	pairs := [][2]string{{"bob", "alice"}, {"carol", "alice"}, {"dave", "alice"}, {"alice", "bob"}, {"erin", "carol"}}
	for _, p := range pairs {
		if _, err := db.Doc(model.BlockPath(p[0], p[1])).Set(ctx, model.Block{CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	// A stale index: it lists frank, whose block of erin no longer exists.
	if _, err := db.Doc(model.BlockersPath("erin")).Set(ctx, model.Blockers{By: []string{"frank"}, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// Not block documents: a "blocks" collection elsewhere.
	if _, err := db.Doc("rooms/r1/blocks/x").Set(ctx, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	ix, err := NewIndex(db, clock.System{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var pages []int
	n, err := ix.Backfill(ctx, 2, func(synced int) { pages = append(pages, synced) })
	if err != nil {
		t.Fatal(err)
	}
	// 5 block documents, then the 6 uids the indexes list (frank's stale entry too).
	if n != 11 || len(pages) < 4 {
		t.Errorf("Backfill synced %d pairs in pages %v, want 11 in pages of 2", n, pages)
	}
	want := map[string][]string{"alice": {"bob", "carol", "dave"}, "bob": {"alice"}, "carol": {"erin"}, "erin": {}}
	check := func(step string) {
		t.Helper()
		for uid, by := range want {
			b, ok := readIndex(t, db, uid)
			if !ok || b.Overflow || !slices.Equal(b.By, by) {
				t.Errorf("%s: blockers/%s = %+v (exists %v), want %q", step, uid, b, ok, by)
			}
		}
		if _, ok := readIndex(t, db, "x"); ok {
			t.Errorf("%s: a blockers index for a document outside users/{uid}/blocks", step)
		}
	}
	check("first run")
	if _, err := ix.Backfill(ctx, 100, nil); err != nil {
		t.Fatal(err)
	}
	check("second run")

	small, err := NewIndex(db, clock.System{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Backfill(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := readIndex(t, db, "alice"); !b.Overflow || len(b.By) != 0 {
		t.Errorf("blockers/alice with a cap of 2 = %+v, want overflowed", b)
	}
	if _, err := ix.Backfill(ctx, 0, nil); err == nil {
		t.Error("Backfill with a page size of 0: no error")
	}
}

// TestSyncRejectsBadPairs: Sync refuses what no block document can be.
func TestSyncRejectsBadPairs(t *testing.T) {
	ix, err := NewIndex(emutest.New(t).Firestore(), clock.System{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"alice", "alice"}, {"a/b", "alice"}, {"alice", ""}} {
		if err := ix.Sync(t.Context(), p[0], p[1]); err == nil {
			t.Errorf("Sync(%q, %q): no error", p[0], p[1])
		}
	}
}
