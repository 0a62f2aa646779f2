package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestMigrateBlockers: `hearth migrate blockers` indexes the block documents written
// before the index was kept; bad arguments are refused before any I/O.
func TestMigrateBlockers(t *testing.T) {
	env := emutest.New(t)
	db := env.Firestore()
	for _, p := range [][2]string{{"bob", "alice"}, {"carol", "alice"}} {
		if _, err := db.Doc(model.BlockPath(p[0], p[1])).Set(t.Context(), model.Block{CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FIRESTORE_EMULATOR_HOST", env.FirestoreHost)
	t.Setenv("HEARTH_FIRESTORE_PROJECT", "")
	t.Setenv("GOOGLE_CLOUD_PROJECT", env.ProjectID)
	var out, errOut emutest.Buffer
	if code := run(t.Context(), []string{"migrate", "blockers", "-page", "1"}, &out, &errOut); code != 0 {
		t.Fatalf("migrate blockers = %d:\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "from 4 blocks") {
		t.Errorf("output = %q, want 4 pairs synced (2 block documents, then the 2 index entries)", out.String())
	}
	snap, err := db.Doc(model.BlockersPath("alice")).Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var b model.Blockers
	if err := snap.DataTo(&b); err != nil || !slices.Equal(b.By, []string{"bob", "carol"}) || b.Overflow {
		t.Errorf("blockers/alice = %+v (%v), want bob and carol", b, err)
	}
	for _, args := range [][]string{{"migrate", "nope"}, {"migrate", "blockers", "-page", "0"}, {"migrate", "blockers", "extra"}} {
		var o emutest.Buffer
		if code := run(t.Context(), args, &o, &o); code != 2 {
			t.Errorf("run(%q) = %d, want 2:\n%s", args, code, o.String())
		}
	}
}
