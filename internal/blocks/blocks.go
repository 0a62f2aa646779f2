// Package blocks keeps a user's blocks: users/{uid}/blocks/{otherUid}, one
// document per blocked user, written by uid alone (through the API here, or
// directly under the security rules). A block is private: only its owner
// reads it. What a block changes elsewhere: internal/rooms refuses the
// blocked user a direct room with the blocker, the rules refuse their
// messages in that room, internal/push sends the blocker nothing of theirs,
// and internal/inbox does not count their messages as unread. The last two
// read who blocks a sender from one document, blockers/{uid}, which Index
// keeps from the block documents (the onBlockWritten trigger runs it).
package blocks

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/page"
)

// ErrSelfBlock: a user tried to block themselves.
var ErrSelfBlock = errors.New("you cannot block yourself")

// ErrCursorGone: the page token's block no longer exists.
var ErrCursorGone = page.ErrCursorGone

// Deps are the Service's dependencies; all are required.
type Deps struct {
	Firestore *firestore.Client
	// Clock stamps createdAt.
	Clock clock.Clock
}

// Service keeps blocks. Create it with New.
type Service struct {
	fs    *firestore.Client
	clock clock.Clock
}

// New checks deps and returns a Service.
func New(deps Deps) (*Service, error) {
	var errs []error
	if deps.Firestore == nil {
		errs = append(errs, errors.New("blocks: Firestore client required"))
	}
	if deps.Clock == nil {
		errs = append(errs, errors.New("blocks: clock required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{fs: deps.Firestore, clock: deps.Clock}, nil
}

// Block is a block and the uid it blocks.
type Block struct {
	UID string
	model.Block
}

func checkPair(uid, other string) error {
	if err := model.JoinValidation(model.ValidateID("uid", uid), model.ValidateID("userId", other)); err != nil {
		return err
	}
	if uid == other {
		return ErrSelfBlock
	}
	return nil
}

// Add blocks other for uid. Blocking again keeps the first block (and its
// createdAt); created says whether this call made it. Whether other exists is
// not checked: the answer would tell a caller which uids exist.
func (s *Service) Add(ctx context.Context, uid, other string) (b Block, created bool, err error) {
	if err := checkPair(uid, other); err != nil {
		return Block{}, false, err
	}
	ref := s.fs.Doc(model.BlockPath(uid, other))
	b = Block{UID: other, Block: model.Block{CreatedAt: s.clock.Now().UTC()}}
	_, err = ref.Create(ctx, b.Block)
	if status.Code(err) != codes.AlreadyExists {
		if err != nil {
			return Block{}, false, fmt.Errorf("block %s for %s: %w", other, uid, err)
		}
		return b, true, nil
	}
	snap, err := ref.Get(ctx)
	if err != nil {
		return Block{}, false, fmt.Errorf("read block %s of %s: %w", other, uid, err)
	}
	if err := snap.DataTo(&b.Block); err != nil {
		return Block{}, false, fmt.Errorf("decode %s: %w", ref.Path, err)
	}
	return b, false, nil
}

// Remove lifts uid's block of other; lifting a block that does not exist is
// not an error (the outcome is the same).
func (s *Service) Remove(ctx context.Context, uid, other string) error {
	if err := checkPair(uid, other); err != nil {
		return err
	}
	if _, err := s.fs.Doc(model.BlockPath(uid, other)).Delete(ctx); err != nil {
		return fmt.Errorf("unblock %s for %s: %w", other, uid, err)
	}
	return nil
}

// Has reports whether uid blocks other.
func (s *Service) Has(ctx context.Context, uid, other string) (bool, error) {
	if err := checkPair(uid, other); err != nil {
		return false, err
	}
	_, err := s.fs.Doc(model.BlockPath(uid, other)).Get(ctx)
	switch {
	case firestoreerr.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read block %s of %s: %w", other, uid, err)
	}
	return true, nil
}

// Page is one page of a user's blocks, newest first.
type Page struct {
	Blocks []Block
	Next   string
}

// List returns uid's blocks, newest first, limit at a time after the block
// of the uid after (the previous page's Next).
func (s *Service) List(ctx context.Context, uid string, limit int, after string) (Page, error) {
	if err := model.ValidateID("uid", uid); err != nil {
		return Page{}, err
	}
	if after != "" {
		if err := model.ValidateID("pageToken", after); err != nil {
			return Page{}, err
		}
	}
	if limit < 1 {
		return Page{}, &model.ValidationError{Fields: []model.FieldError{{Field: "limit", Reason: "must be positive"}}}
	}
	coll := s.fs.Collection(model.BlocksCollectionPath(uid))
	q := coll.OrderBy("createdAt", firestore.Desc)
	var cursor *firestore.DocumentRef
	if after != "" {
		cursor = coll.Doc(after)
	}
	bs, next, err := page.Read(ctx, q, cursor, limit, "blocks of "+uid,
		func(id string, b model.Block) Block { return Block{UID: id, Block: b} })
	if err != nil {
		return Page{}, err
	}
	return Page{Blocks: bs, Next: next}, nil
}
