package rooms

import (
	"errors"
	"fmt"

	"github.com/hearth-chat/hearth/internal/model"
)

// The rules' refusals. Check them with errors.Is; the API maps each to its
// status and reason.
var (
	// ErrNotFound: the room does not exist.
	ErrNotFound = errors.New("room not found")
	// ErrNotMember: the caller is not in the room's memberIds (never was,
	// left, or was banned). The API answers it as ErrNotFound, so it does not
	// reveal which rooms exist (direct room ids can be computed from two uids).
	ErrNotMember = errors.New("not a member of the room")
	// ErrMemberNotFound: the target of a member action is not in the room.
	ErrMemberNotFound = errors.New("member not found")
	// ErrMessageNotFound: the message does not exist in the room.
	ErrMessageNotFound = errors.New("message not found")
	// ErrNotBanned: an unban of a user who is not banned.
	ErrNotBanned = errors.New("the user is not banned from this room")
	// ErrArchived: the room is archived and read-only.
	ErrArchived = errors.New("the room is archived and read-only")
	// ErrDirectRoomFixed: the members of a direct room cannot change.
	ErrDirectRoomFixed = errors.New("the members of a direct room cannot change")
	// ErrLastOwner: the change would leave a group with members but no owner.
	ErrLastOwner = errors.New("the room needs another owner first")
	// ErrSelfBan: a moderator tried to ban themselves.
	ErrSelfBan = errors.New("you cannot ban yourself")
	// ErrBannedFromDirect: the caller was banned from the direct room they
	// asked for.
	ErrBannedFromDirect = errors.New("you are banned from this room")
	// ErrLeftDirect: the caller left the direct room they asked for.
	ErrLeftDirect = errors.New("you are no longer a member of this direct room")
	// ErrDirectRefused: the other user of a direct room blocks the caller.
	// Its text does not say so: a block is private to the blocker.
	ErrDirectRefused = errors.New("you cannot open a direct room with this user")
	// ErrCallerUnknown: the caller's own account does not exist (it was just
	// deleted).
	ErrCallerUnknown = errors.New("the user account does not exist")
)

// RoleError is a refusal because the caller's room role does not allow the
// action. Role is the caller's role (the target's role decides for actions
// on another member: see Error's text).
type RoleError struct {
	Role model.Role
	// Rule says which rule refused, as a sentence for the caller.
	Rule string
}

func (e *RoleError) Error() string { return e.Rule }

// The rules a RoleError names.
const (
	ruleAddMembers    = "only the room's owners and admins add members"
	ruleChangeRoles   = "only the room's owners change roles"
	ruleRemoveMembers = "only the room's owners and admins remove members"
	ruleRemoveRank    = "admins remove members, not other admins or owners"
	ruleModerate      = "only the room's owners and admins moderate"
	ruleBanRank       = "admins ban members, not other admins or owners"
)

// RankError is a refusal of a moderation action because the moderator's rank
// is below the rank it must reach: the ban's setter for an unban, the
// message's author for a redaction.
type RankError struct {
	// Op is "unban" or "redact".
	Op string
	// Actor is the moderator's rank, Required the rank they must reach.
	Actor, Required model.Rank
}

func (e *RankError) Error() string {
	if e.Op == OpRedact {
		return fmt.Sprintf("the message's author has rank %s; a %s cannot redact it", e.Required, e.Actor)
	}
	return fmt.Sprintf("this ban was set by rank %s; only that rank or a higher one lifts it", e.Required)
}

// The operations of a RankError.
const (
	OpUnban  = "unban"
	OpRedact = "redact"
)

// RoomFullError is a refusal to grow a group beyond Max members.
type RoomFullError struct{ Max int }

func (e *RoomFullError) Error() string { return fmt.Sprintf("a group has at most %d members", e.Max) }

// BannedUsersError lists the users of a request who are banned from the room
// (Fields name them as the request did: "userIds[2]").
type BannedUsersError struct {
	UIDs   []string
	Fields []model.FieldError
}

func (e *BannedUsersError) Error() string { return "some users are banned from this room" }

// UnknownUsersError lists the users of a request who do not exist (Fields
// name them as the request did: "memberIds[1]").
type UnknownUsersError struct {
	UIDs   []string
	Fields []model.FieldError
}

func (e *UnknownUsersError) Error() string { return "some users do not exist" }

// UserNotFoundError: the other user of a direct room does not exist.
type UserNotFoundError struct{ UID string }

func (e *UserNotFoundError) Error() string { return fmt.Sprintf("user %s not found", e.UID) }
