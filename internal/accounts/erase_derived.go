package accounts

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/page"
	"github.com/hearth-chat/hearth/internal/reactions"
)

// erasePage is how many documents one query of the erasure reads at a time.
const erasePage = 300

// eraseReactions removes uid's reactions everywhere: the markers of package reactions
// name every message whose counts include them (a collection-group query on
// reactionMarks.uid); Forget takes their emoji off the counts and deletes the marker
// and the reaction document. It returns how many reaction documents and markers it
// found.
func (s *Service) eraseReactions(ctx context.Context, uid string) (int, error) {
	store, err := reactions.New(s.fs, s.clock)
	if err != nil {
		return 0, err
	}
	n := 0
	q := s.fs.CollectionGroup(model.ReactionMarksCollection).Where("uid", "==", uid)
	err = page.Each(ctx, q, erasePage, func(marks []*firestore.DocumentSnapshot) error {
		for _, m := range marks {
			msg := m.Ref.Parent.Parent
			found, err := store.Forget(ctx, msg.Parent.Parent.ID, msg.ID, uid)
			if err != nil {
				return err
			}
			if found {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("erase reactions: %w", err)
	}
	return n, nil
}

// eraseTallies takes uid out of every tally (rooms/{r}/tallies/{m}: unread, mentioned)
// and gives the tallies of uid's messages the pseudonym their messages now carry. The
// updates are unguarded: a fan-out that read a tally before fails its guard and reads
// again, and finds no inbox entry of uid to count.
func (s *Service) eraseTallies(ctx context.Context, uid, pseudonym string) error {
	tallies := s.fs.CollectionGroup(model.TalliesCollection)
	queries := []struct {
		q       firestore.Query
		updates []firestore.Update
	}{
		{tallies.Where("unread", "array-contains", uid), []firestore.Update{
			{Path: "unread", Value: firestore.ArrayRemove(uid)}, {Path: "mentioned", Value: firestore.ArrayRemove(uid)}}},
		{tallies.Where("mentioned", "array-contains", uid), []firestore.Update{
			{Path: "mentioned", Value: firestore.ArrayRemove(uid)}}},
		{tallies.Where("senderId", "==", uid), []firestore.Update{{Path: "senderId", Value: pseudonym}}},
	}
	for _, qu := range queries {
		err := page.Each(ctx, qu.q, erasePage, func(snaps []*firestore.DocumentSnapshot) error {
			bw := s.fs.BulkWriter(ctx)
			jobs := make([]*firestore.BulkWriterJob, 0, len(snaps))
			for _, snap := range snaps {
				j, err := bw.Update(snap.Ref, qu.updates)
				if err != nil {
					bw.End()
					return err
				}
				jobs = append(jobs, j)
			}
			bw.End()
			for _, j := range jobs {
				if _, err := j.Results(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("erase tallies: %w", err)
		}
	}
	return nil
}
