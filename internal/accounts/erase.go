package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/revocation"
	"github.com/hearth-chat/hearth/internal/subtree"
)

// ErasedSenderPrefix starts the senderId that replaces an erased user's uid
// in their messages: "erased-" and 16 random hex digits, one pseudonym per
// erasure, so the messages still read as one (unknown) person's but cannot
// be linked back to the account.
const ErasedSenderPrefix = "erased-"

// Erasure says what Erase did.
type Erasure struct {
	UID                string
	AuthUserDeleted    bool
	RoomsLeft          int
	MessagesAnonymised int
	DocumentsDeleted   int
}

// Erase erases a user. Gone: the profile and everything under users/{uid}
// (devices, inbox, memberships, counters), presence, pending notification
// digests, ban records, media, the user's member docs (they leave every
// room; direct rooms are archived), their reactions (reactionCounts follow)
// and their uid in the message tallies, and finally the Auth account. Kept,
// anonymised: their messages and the tallies of them, whose senderId becomes
// a pseudonym (ErasedSenderPrefix). It can be retried: a second call
// finishes what a failed one left. An admin cannot erase themselves
// (ErrSelfAction).
//
// It needs COLLECTION_GROUP single-field indexes on messages.senderId,
// members.banned, reactionMarks.uid, tallies.senderId and (array-contains)
// tallies.unread and tallies.mentioned in production.
func (s *Service) Erase(ctx context.Context, in Input) (Erasure, error) {
	if err := CheckTarget(in.Actor, in.UID); err != nil {
		return Erasure{}, err
	}
	// A marker before (the user stops writing while their data is erased)
	// and after (no session begun meanwhile outlives the account).
	if _, err := s.marks.Revoke(ctx, in.UID, revocation.ReasonErase); err != nil {
		return Erasure{}, fmt.Errorf("revocation marker of %s: %w", in.UID, err)
	}
	res, err := s.erase(ctx, in.UID)
	if err != nil {
		return res, err
	}
	if _, err := s.marks.Revoke(ctx, in.UID, revocation.ReasonErase); err != nil {
		return res, fmt.Errorf("revocation marker of %s: %w", in.UID, err)
	}
	details := map[string]string{
		"authUserDeleted":    fmt.Sprint(res.AuthUserDeleted),
		"roomsLeft":          fmt.Sprint(res.RoomsLeft),
		"messagesAnonymised": fmt.Sprint(res.MessagesAnonymised),
		"documentsDeleted":   fmt.Sprint(res.DocumentsDeleted),
	}
	if err := s.record(ctx, in, ActionErase, details); err != nil {
		return res, err
	}
	return res, nil
}

func newPseudonym() string {
	var b [8]byte
	rand.Read(b[:])
	return ErasedSenderPrefix + hex.EncodeToString(b[:])
}

func (s *Service) erase(ctx context.Context, uid string) (Erasure, error) {
	res := Erasure{UID: uid}
	pseudonym := newPseudonym()
	var err error
	if res.RoomsLeft, err = s.rooms.EraseMember(ctx, uid, pseudonym); err != nil {
		return res, fmt.Errorf("erase %s: %w", uid, err)
	}
	n, err := s.eraseDocs(ctx, uid, pseudonym, &res)
	res.DocumentsDeleted += n
	if err != nil {
		return res, fmt.Errorf("erase %s: %w", uid, err)
	}
	// Media: objects, thumbnails and quota documents gone, upload records removed.
	if s.media != nil {
		quotas, err := s.media.EraseUserMedia(ctx, uid)
		res.DocumentsDeleted += quotas
		if err != nil {
			return res, fmt.Errorf("erase %s: %w", uid, err)
		}
	}
	// Everything under users/{uid}.
	n, err = subtree.Delete(ctx, s.fs, s.fs.Doc(model.UserPath(uid)))
	if err != nil {
		return res, fmt.Errorf("erase %s: %w", uid, err)
	}
	res.DocumentsDeleted += n
	// Reactions and tallies, after the inbox entries are gone (a fan-out in flight then
	// finds no entry to count the uid for).
	n, err = s.eraseReactions(ctx, uid)
	res.DocumentsDeleted += n
	if err != nil {
		return res, fmt.Errorf("erase %s: %w", uid, err)
	}
	if err := s.eraseTallies(ctx, uid, pseudonym); err != nil {
		return res, fmt.Errorf("erase %s: %w", uid, err)
	}
	// The Auth account last, so a failed erasure can be retried by uid.
	switch err := s.users.DeleteUser(ctx, uid); {
	case err == nil:
		res.AuthUserDeleted = true
	case auth.IsUserNotFound(err):
	default:
		return res, fmt.Errorf("erase %s: delete auth user: %w", uid, err)
	}
	return res, nil
}

// eraseDocs deletes uid's ban records, presence, blockers index and pending digests and
// anonymises their messages, in one BulkWriter. It returns how many
// documents it deleted and counts the messages in res.
func (s *Service) eraseDocs(ctx context.Context, uid, pseudonym string, res *Erasure) (int, error) {
	bw := s.fs.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	deleted := 0
	fail := func(err error) (int, error) {
		bw.End()
		return 0, err
	}
	enqueue := func(j *firestore.BulkWriterJob, err error) error {
		if err == nil {
			jobs = append(jobs, j)
		}
		return err
	}
	// Ban records keep a member doc outside memberIds; find them by flag.
	banned, err := s.fs.CollectionGroup(model.MembersCollection).Where("banned", "==", true).Documents(ctx).GetAll()
	if err != nil {
		return fail(fmt.Errorf("find bans: %w", err))
	}
	for _, m := range banned {
		if m.Ref.ID == uid {
			if err := enqueue(bw.Delete(m.Ref)); err != nil {
				return fail(err)
			}
			deleted++
		}
	}
	// Messages: kept, anonymised.
	it := s.fs.CollectionGroup(model.MessagesCollection).Where("senderId", "==", uid).Documents(ctx)
	defer it.Stop()
	for {
		m, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("find messages: %w", err))
		}
		if err := enqueue(bw.Update(m.Ref, []firestore.Update{{Path: "senderId", Value: pseudonym}})); err != nil {
			return fail(err)
		}
		res.MessagesAnonymised++
	}
	// Presence, the index of who blocks uid, and pending digests ("{uid}_{roomId}").
	for _, path := range []string{model.PresencePath(uid), model.BlockersPath(uid)} {
		if err := enqueue(bw.Delete(s.fs.Doc(path))); err != nil {
			return fail(err)
		}
	}
	pq := s.fs.Collection(model.PushQueueCollection)
	digests, err := pq.Where(firestore.DocumentID, ">=", pq.Doc(uid+"_")).
		Where(firestore.DocumentID, "<", pq.Doc(uid+"`")).Documents(ctx).GetAll()
	if err != nil {
		return fail(fmt.Errorf("find digests: %w", err))
	}
	for _, d := range digests {
		if err := enqueue(bw.Delete(d.Ref)); err != nil {
			return fail(err)
		}
		deleted++
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return 0, err
		}
	}
	return deleted, nil
}
