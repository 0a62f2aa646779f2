package media

import (
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// roomAccess is what one batched read tells about a caller and a room.
type roomAccess struct {
	room   model.Room
	member *model.Member // nil when there is no member document
	extra  []*firestore.DocumentSnapshot
}

// readAccess reads the room, the caller's member document and extra documents in one
// round trip (GetAll), and checks that uid may use the room's media: the room exists,
// uid is not banned and is in room.memberIds (the authority on membership, as in the
// rules). A ban removes the uid from memberIds and keeps the member doc with banned
// set, so the ban is checked first to give the precise error.
func readAccess(ctx context.Context, fs *firestore.Client, roomID, uid string, extra ...*firestore.DocumentRef) (roomAccess, error) {
	roomRef := fs.Doc(model.RoomPath(roomID))
	memberRef := fs.Doc(model.MemberPath(roomID, uid))
	snaps, err := fs.GetAll(ctx, append([]*firestore.DocumentRef{roomRef, memberRef}, extra...))
	if err != nil {
		return roomAccess{}, fmt.Errorf("read room %s access: %w", roomID, err)
	}
	var a roomAccess
	a.extra = snaps[2:]
	if !snaps[0].Exists() {
		return a, fmt.Errorf("room %s: %w", roomID, ErrRoomNotFound)
	}
	if err := snaps[0].DataTo(&a.room); err != nil {
		return a, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	if snaps[1].Exists() {
		a.member = new(model.Member)
		if err := snaps[1].DataTo(a.member); err != nil {
			return a, fmt.Errorf("decode member %s of room %s: %w", uid, roomID, err)
		}
		if a.member.Banned {
			return a, fmt.Errorf("room %s: %w", roomID, ErrBanned)
		}
	}
	if !slices.Contains(a.room.MemberIDs, uid) {
		return a, fmt.Errorf("room %s: %w", roomID, ErrNotMember)
	}
	return a, nil
}
