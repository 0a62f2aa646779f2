package accounts_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/reactions"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// TestEraseRemovesReactionsAndTallies: the erased user's reactions go (the message's
// counts follow, their marker goes too), their uid leaves every tally, and the tallies
// of their messages name the pseudonym. Afterwards no document but the audit log's
// entry and the revocation marker (kept by design, docs/security.md) names the uid, and
// a reaction event that arrives late brings nothing back.
func TestEraseRemovesReactionsAndTallies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	adm, ann, carl := f.user("Admin"), f.user("Ann"), f.user("Carl")
	group, err := f.rooms.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "T", MemberIDs: []string{carl}})
	if err != nil {
		t.Fatal(err)
	}
	store, err := reactions.New(f.fs, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	set := func(path string, v any) {
		t.Helper()
		if _, err := f.fs.Doc(path).Set(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	now := f.clock.Now().UTC()
	set(model.MessagePath(group.ID, "m1"), model.Message{SenderID: ann, Type: model.MessageText, Text: "hi", CreatedAt: now})
	set(model.MessagePath(group.ID, "m2"), model.Message{SenderID: carl, Type: model.MessageText, Text: "yo", CreatedAt: now})
	for _, uid := range []string{ann, carl} {
		set(model.ReactionPath(group.ID, "m1", uid), model.Reaction{Emoji: []string{"👍"}, UpdatedAt: now})
		if _, err := store.Sync(ctx, group.ID, "m1", uid); err != nil {
			t.Fatal(err)
		}
	}
	set(model.ReactionPath(group.ID, "m2", carl), model.Reaction{Emoji: []string{"🎉"}, UpdatedAt: now})
	if _, err := store.Sync(ctx, group.ID, "m2", carl); err != nil {
		t.Fatal(err)
	}
	set(model.TallyPath(group.ID, "m1"), model.Tally{Unread: []string{ann, carl}, Mentioned: []string{carl}, SenderID: ann, CreatedAt: now, UpdatedAt: now})
	set(model.TallyPath(group.ID, "m2"), model.Tally{Unread: []string{ann}, Mentioned: []string{}, SenderID: carl, CreatedAt: now, UpdatedAt: now})

	// Ann blocks Carl: the blockers index named after Carl goes with him.
	set(model.BlockersPath(carl), model.Blockers{By: []string{ann}, UpdatedAt: now})

	if _, err := f.service(nil).Erase(ctx, accounts.Input{Actor: adm, UID: carl}); err != nil {
		t.Fatalf("Erase() = %v", err)
	}
	// The trigger of the reaction deletions comes after the erasure.
	for _, m := range []string{"m1", "m2"} {
		if _, err := store.Sync(ctx, group.ID, m, carl); err != nil {
			t.Fatal(err)
		}
	}

	var m1, m2 model.Message
	get := func(path string, v any) {
		t.Helper()
		snap, err := f.fs.Doc(path).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := snap.DataTo(v); err != nil {
			t.Fatal(err)
		}
	}
	get(model.MessagePath(group.ID, "m1"), &m1)
	get(model.MessagePath(group.ID, "m2"), &m2)
	if m1.ReactionCounts["👍"] != 1 || len(m1.ReactionCounts) != 1 {
		t.Errorf("m1 reactionCounts = %v, want ann's 👍 only", m1.ReactionCounts)
	}
	if len(m2.ReactionCounts) != 0 {
		t.Errorf("m2 reactionCounts = %v, want none", m2.ReactionCounts)
	}
	var t1, t2 model.Tally
	get(model.TallyPath(group.ID, "m1"), &t1)
	get(model.TallyPath(group.ID, "m2"), &t2)
	if !slices.Equal(t1.Unread, []string{ann}) || len(t1.Mentioned) != 0 || t1.SenderID != ann {
		t.Errorf("tally m1 = %+v, want unread [ann], no mention", t1)
	}
	if !slices.Equal(t2.Unread, []string{ann}) || !strings.HasPrefix(t2.SenderID, accounts.ErasedSenderPrefix) || t2.SenderID != m2.SenderID {
		t.Errorf("tally m2 = %+v, want the message's pseudonym %q as sender", t2, m2.SenderID)
	}
	if !f.exists(model.ReactionMarkPath(group.ID, "m1", ann)) {
		t.Error("ann's reaction marker is gone")
	}
	for _, path := range mentioning(t, f.fs, carl) {
		if !strings.HasPrefix(path, model.AuditLogCollection+"/") && path != "revocations/"+carl {
			t.Errorf("%s still names the erased uid", path)
		}
	}
}

// mentioning walks every document of the database and returns the paths of those whose
// path or any string value (nested in maps and arrays) holds s.
func mentioning(t *testing.T, db *firestore.Client, s string) []string {
	t.Helper()
	var out []string
	var walk func(cols *firestore.CollectionIterator)
	walk = func(cols *firestore.CollectionIterator) {
		for {
			col, err := cols.Next()
			if errors.Is(err, iterator.Done) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			refs, err := col.DocumentRefs(t.Context()).GetAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, ref := range refs {
				snap, err := ref.Get(t.Context())
				path := ref.Path[strings.Index(ref.Path, "/documents/")+len("/documents/"):]
				if err == nil && (strings.Contains(path, s) || holds(snap.Data(), s)) {
					out = append(out, path)
				} else if err != nil && strings.Contains(path, s) {
					out = append(out, path+" (missing, has subcollections)")
				}
				walk(ref.Collections(t.Context()))
			}
		}
	}
	walk(db.Collections(t.Context()))
	return out
}

func holds(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, s) || holds(e, s) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holds(e, s) {
				return true
			}
		}
	}
	return false
}
