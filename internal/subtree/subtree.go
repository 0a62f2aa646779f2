// Package subtree deletes a Firestore document with everything under it.
// The Firestore client has no recursive delete; deleting a room or a user's
// data needs one.
package subtree

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
)

// Delete deletes the document at ref, every document in its subcollections,
// and theirs, with a BulkWriter. Documents that do not exist but have
// subcollections are walked too. It returns how many documents it deleted
// (the root included, whether or not it existed: a delete of a missing
// document succeeds).
func Delete(ctx context.Context, fs *firestore.Client, ref *firestore.DocumentRef) (int, error) {
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
