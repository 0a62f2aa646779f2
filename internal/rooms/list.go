package rooms

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/page"
)

// ErrCursorGone: a list's page cursor points at a room or message that does
// not exist (deleted since, or never one of this list's).
var ErrCursorGone = page.ErrCursorGone

// ListInput selects a page of rooms, newest first.
type ListInput struct {
	// Archived, when not nil, keeps only rooms archived (or not).
	Archived *bool
	// Type, when not empty, keeps only rooms of that type.
	Type model.RoomType
	// After is the next-page cursor of the previous page ("" for the first).
	After string
	// Limit is the most rooms of the page (at least 1).
	Limit int
}

// RoomPage is a page of rooms and the cursor of the next, "" at the end.
type RoomPage struct {
	Rooms []Room
	Next  string
}

// List returns a page of all rooms (for app admins), newest first.
func (s *Service) List(ctx context.Context, in ListInput) (RoomPage, error) {
	var issues []model.FieldError
	if in.Type != "" && !in.Type.Valid() {
		issues = append(issues, model.FieldError{Field: "type", Reason: fmt.Sprintf("must be one of %q", model.RoomTypes())})
	}
	if in.After != "" && model.ValidateRoomID("pageToken", in.After) != nil {
		issues = append(issues, model.FieldError{Field: "pageToken", Reason: "not a page token of this list"})
	}
	if in.Limit < 1 {
		issues = append(issues, model.FieldError{Field: "limit", Reason: "must be at least 1"})
	}
	if err := invalid(issues); err != nil {
		return RoomPage{}, err
	}
	q := s.fs.Collection(model.RoomsCollection).Query
	if in.Archived != nil {
		q = q.Where("archived", "==", *in.Archived)
	}
	if in.Type != "" {
		q = q.Where("type", "==", string(in.Type))
	}
	q = q.OrderBy("createdAt", firestore.Desc)
	var cursor *firestore.DocumentRef
	if in.After != "" {
		cursor = s.fs.Doc(model.RoomPath(in.After))
	}
	rooms, next, err := page.Read(ctx, q, cursor, in.Limit, "rooms", func(id string, r model.Room) Room { return Room{ID: id, Room: r} })
	if err != nil {
		return RoomPage{}, err
	}
	return RoomPage{Rooms: rooms, Next: next}, nil
}

// HistoryInput selects a page of a room's history, newest first.
type HistoryInput struct {
	// Caller must be a member of the room.
	Caller string
	RoomID string
	// Before is the id of the oldest message the caller has (the next
	// cursor of the previous page; "" for the newest page).
	Before string
	Limit  int
	// Thread, when set, is the id of a thread's root message: the page holds the
	// replies to it (replyTo == Thread), not the root itself, in the same order. The
	// root must exist in the room (ErrMessageNotFound), and Before must be one of its
	// replies.
	Thread string
}

// MessagePage is a page of messages and the cursor of the next (older)
// page, "" at the end.
type MessagePage struct {
	Messages []Message
	Next     string
}

// History returns a page of the room's messages for a member, newest first:
// the messages just older than in.Before. Ordering is createdAt, then
// document id, both descending, so messages of the same instant page
// stably. Tombstones are included: their place in the conversation stays.
func (s *Service) History(ctx context.Context, in HistoryInput) (MessagePage, error) {
	ids := [][2]string{{"caller", in.Caller}}
	if in.Before != "" {
		ids = append(ids, [2]string{"before", in.Before})
	}
	if in.Thread != "" {
		ids = append(ids, [2]string{"thread", in.Thread})
	}
	if err := checkIDs(in.RoomID, ids...); err != nil {
		return MessagePage{}, err
	}
	if in.Limit < 1 {
		return MessagePage{}, invalid([]model.FieldError{{Field: "limit", Reason: "must be at least 1"}})
	}
	if _, err := s.memberView(ctx, nil, in.RoomID, in.Caller); err != nil {
		return MessagePage{}, err
	}
	// Firestore adds __name__ in the direction of the last orderBy, which is
	// what a snapshot cursor pages on.
	q := s.fs.Collection(model.MessagesCollectionPath(in.RoomID)).Query
	if in.Thread != "" {
		if err := s.checkThread(ctx, in.RoomID, in.Thread, in.Before); err != nil {
			return MessagePage{}, err
		}
		q = q.Where("replyTo", "==", in.Thread)
	}
	q = q.OrderBy("createdAt", firestore.Desc)
	var cursor *firestore.DocumentRef
	if in.Before != "" {
		cursor = s.fs.Doc(model.MessagePath(in.RoomID, in.Before))
	}
	msgs, next, err := page.Read(ctx, q, cursor, in.Limit, "messages of "+in.RoomID,
		func(id string, m model.Message) Message { return Message{ID: id, Message: m} })
	if err != nil {
		return MessagePage{}, err
	}
	return MessagePage{Messages: msgs, Next: next}, nil
}

// checkThread checks that the root of a thread exists in roomID, and that before (when
// set) is one of its replies: a cursor of another list would page by its time alone.
func (s *Service) checkThread(ctx context.Context, roomID, rootID, before string) error {
	refs := []*firestore.DocumentRef{s.fs.Doc(model.MessagePath(roomID, rootID))}
	if before != "" {
		refs = append(refs, s.fs.Doc(model.MessagePath(roomID, before)))
	}
	snaps, err := s.fs.GetAll(ctx, refs)
	if err != nil {
		return fmt.Errorf("read thread %s/%s: %w", roomID, rootID, err)
	}
	if !snaps[0].Exists() {
		return ErrMessageNotFound
	}
	if before != "" {
		if !snaps[1].Exists() {
			return ErrCursorGone
		}
		if v, _ := snaps[1].DataAt("replyTo"); v != rootID {
			return ErrCursorGone
		}
	}
	return nil
}
