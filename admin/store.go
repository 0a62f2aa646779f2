package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/model"
)

// Firestore and Auth helpers shared by the resource files.

// getUsersBatch is the most identifiers one Auth GetUsers call takes.
const getUsersBatch = 100

// userInfo is what the API needs to know about a user it adds to a room.
type userInfo struct {
	UID         string
	DisplayName string
}

// lookupUsers returns the users of uids that exist in Auth, with their
// display names (the Firestore profile's, else the Auth record's), and the
// uids that do not exist.
func (s *Server) lookupUsers(ctx context.Context, uids []string) (map[string]userInfo, []string, error) {
	found := make(map[string]userInfo, len(uids))
	for start := 0; start < len(uids); start += getUsersBatch {
		chunk := uids[start:min(start+getUsersBatch, len(uids))]
		ids := make([]auth.UserIdentifier, len(chunk))
		for i, uid := range chunk {
			ids[i] = auth.UIDIdentifier{UID: uid}
		}
		res, err := s.auth.GetUsers(ctx, ids)
		if err != nil {
			return nil, nil, fmt.Errorf("look up %d users: %w", len(chunk), err)
		}
		for _, u := range res.Users {
			found[u.UID] = userInfo{UID: u.UID, DisplayName: u.DisplayName}
		}
	}
	var missing []string
	refs := make([]*firestore.DocumentRef, 0, len(found))
	for _, uid := range uids {
		if _, ok := found[uid]; !ok {
			missing = append(missing, uid)
			continue
		}
		refs = append(refs, s.fs.Doc(model.UserPath(uid)))
	}
	if len(refs) > 0 {
		snaps, err := s.fs.GetAll(ctx, refs)
		if err != nil {
			return nil, nil, fmt.Errorf("get %d profiles: %w", len(refs), err)
		}
		for _, snap := range snaps {
			if !snap.Exists() {
				continue
			}
			if name, err := snap.DataAt("displayName"); err == nil {
				if n, ok := name.(string); ok && n != "" {
					u := found[snap.Ref.ID]
					u.DisplayName = n
					found[snap.Ref.ID] = u
				}
			}
		}
	}
	return found, missing, nil
}

// getRoom reads the room at ref in tx; a missing room is 404 room not found.
func getRoom(tx *firestore.Transaction, ref *firestore.DocumentRef) (model.Room, error) {
	var r model.Room
	snap, err := tx.Get(ref)
	if err != nil {
		if isNotFound(err) {
			return r, errRoomNotFound()
		}
		return r, err
	}
	if err := snap.DataTo(&r); err != nil {
		return r, err
	}
	return r, nil
}

// rosterMember reads the member doc of uid, who must be in v's memberIds
// (else 404 member not found), in tx. A missing doc reads as a plain
// member, as in memberRoom.
func (s *Server) rosterMember(tx *firestore.Transaction, v *roomView, uid string) (*firestore.DocumentRef, model.Member, error) {
	m := model.Member{Role: model.RoleMember}
	if !slices.Contains(v.room.MemberIDs, uid) {
		return nil, m, errNotFound("member not found")
	}
	ref := s.fs.Doc(model.MemberPath(v.ref.ID, uid))
	snap, err := tx.Get(ref)
	if err != nil && !isNotFound(err) {
		return nil, m, err
	}
	if snap.Exists() {
		if err := snap.DataTo(&m); err != nil {
			return nil, m, err
		}
	}
	return ref, m, nil
}

// listPage reads one page of q: the documents after cursor (none: from the
// start; a cursor document that does not exist is badCursor), at most limit
// of them decoded into M and converted by conv, and the id to pass as the
// next page's cursor when there are more. what names the list in errors.
func listPage[M, A any](ctx context.Context, q firestore.Query, cursor *firestore.DocumentRef, badCursor error,
	limit int, what string, conv func(id string, m M) A) ([]A, string, error) {
	if cursor != nil {
		snap, err := cursor.Get(ctx)
		if err != nil {
			if isNotFound(err) {
				return nil, "", badCursor
			}
			return nil, "", err
		}
		q = q.StartAfter(snap)
	}
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", what, err)
	}
	out := make([]A, 0, min(len(snaps), limit))
	for i, snap := range snaps {
		if i == limit {
			return out, snaps[i-1].Ref.ID, nil
		}
		var m M
		if err := snap.DataTo(&m); err != nil {
			return nil, "", fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
		}
		out = append(out, conv(snap.Ref.ID, m))
	}
	return out, "", nil
}

// displayName returns a user's name for a system message.
func displayName(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Someone"
	}
	return name
}

// isNotFound reports a Firestore NotFound error.
func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// deleteRecursive deletes the document at ref, every document in its
// subcollections, and theirs, with a BulkWriter. Documents that do not
// exist but have subcollections are walked too. It returns how many
// documents it deleted (the root included when it existed or had children).
func deleteRecursive(ctx context.Context, fs *firestore.Client, ref *firestore.DocumentRef) (int, error) {
	bw := fs.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	var walk func(doc *firestore.DocumentRef) error
	walk = func(doc *firestore.DocumentRef) error {
		cols := doc.Collections(ctx)
		for {
			col, err := cols.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("list collections of %s: %w", doc.Path, err)
			}
			docs := col.DocumentRefs(ctx)
			for {
				d, err := docs.Next()
				if errors.Is(err, iterator.Done) {
					break
				}
				if err != nil {
					return fmt.Errorf("list %s: %w", col.Path, err)
				}
				if err := walk(d); err != nil {
					return err
				}
				j, err := bw.Delete(d)
				if err != nil {
					return fmt.Errorf("delete %s: %w", d.Path, err)
				}
				jobs = append(jobs, j)
			}
		}
	}
	err := walk(ref)
	if err == nil {
		var j *firestore.BulkWriterJob
		if j, err = bw.Delete(ref); err == nil {
			jobs = append(jobs, j)
		}
	}
	bw.End()
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return 0, fmt.Errorf("recursive delete of %s: %w", ref.Path, err)
		}
	}
	return len(jobs), nil
}

// systemMessage returns the fields of a system message ("Ann added Bob") by
// actor, timestamped by the Firestore server like client messages are, so
// history orders it correctly among them.
func systemMessage(actorUID, text string) map[string]any {
	return map[string]any{
		"senderId":  actorUID,
		"type":      string(model.MessageSystem),
		"text":      model.PreviewOf(text),
		"createdAt": firestore.ServerTimestamp,
	}
}

// newSystemMessageRef returns a fresh message document in a room.
func (s *Server) newSystemMessageRef(roomID string) *firestore.DocumentRef {
	return s.fs.Collection(model.MessagesCollectionPath(roomID)).NewDoc()
}

// joinNames lists names for a system message: "Bob", "Bob and Carol",
// "Bob, Carol and 3 others".
func joinNames(names []string) string {
	for i, n := range names {
		names[i] = displayName(n)
	}
	switch len(names) {
	case 0:
		return "nobody"
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	case 3:
		return names[0] + ", " + names[1] + " and " + names[2]
	}
	return fmt.Sprintf("%s, %s and %d others", names[0], names[1], len(names)-2)
}
