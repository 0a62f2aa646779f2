package rooms

import (
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// Moderation: banning members and redacting messages. Each action has two
// doors with one implementation: a room's owners and admins (within their
// rank) and app admins (any room, any member). Both are audited.
//
// Ranks (model.Rank) decide who may undo whom: a ban records its setter's
// rank, and only that rank or a higher one lifts it; a message is redacted
// only by a rank at least its author's. The comparison is the model's
// (CanLiftBan, CanRedact); here the ranks are looked up.

// Moderator is who moderates.
type Moderator struct {
	UID string
	// AppAdmin is true for an app admin acting through the admin API: any
	// room, any member, with model.RankAppAdmin. Otherwise the moderator is a
	// room member acting with their room role (an app admin who moderates
	// through the client API acts with their room role too).
	AppAdmin bool
}

// via is the audit detail that says which door was used.
func (m Moderator) via() map[string]string {
	if m.AppAdmin {
		return map[string]string{"via": "admin"}
	}
	return map[string]string{"via": "room"}
}

// rank is the moderator's rank in v.
func (m Moderator) rank(v *View) model.Rank {
	if m.AppAdmin {
		return model.RankAppAdmin
	}
	return model.RoleRank(v.Role())
}

// modView loads the room for a moderation action in tx: a room moderator
// must be a member whose role can moderate; for an app admin the room only
// has to exist (the view's member is then an owner: an app admin outranks
// everyone).
func (s *Service) modView(ctx context.Context, tx *firestore.Transaction, mod Moderator, roomID string) (*View, error) {
	if !mod.AppAdmin {
		v, err := s.memberView(ctx, tx, roomID, mod.UID)
		if err != nil {
			return nil, err
		}
		if !v.Role().CanModerate() {
			return nil, &RoleError{Role: v.Role(), Rule: ruleModerate}
		}
		return v, nil
	}
	room, err := s.getRoom(tx, roomID)
	if err != nil {
		return nil, err
	}
	return &View{Room: Room{ID: roomID, Room: room}, Member: model.Member{Role: model.RoleOwner}}, nil
}

// ModerationInput is a moderation action on a member (Target is a uid) or a
// message (Target is a message id).
type ModerationInput struct {
	Moderator Moderator
	RoomID    string
	Target    string
	// Reason is recorded in the audit entry.
	Reason string
}

// Ban bans a current member: the member doc stays with banned: true (so
// AddMembers refuses the uid until an unban), the uid leaves memberIds, and
// the user's private membership, inbox entry and typing doc are deleted.
// Banning a banned member again is a no-op, unless the moderator outranks
// the ban's setter: then the ban becomes theirs (bannedBy, bannedByRank), so
// the lower rank can no longer lift it. It returns the banned member.
func (s *Service) Ban(ctx context.Context, in ModerationInput) (Member, error) {
	if err := checkIDs(in.RoomID, [2]string{"moderator", in.Moderator.UID}, [2]string{"uid", in.Target}); err != nil {
		return Member{}, err
	}
	if in.Target == in.Moderator.UID {
		return Member{}, ErrSelfBan
	}
	now := s.now()
	target := model.MemberPath(in.RoomID, in.Target)
	var out Member
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.modView(ctx, tx, in.Moderator, in.RoomID)
		if err != nil {
			return err
		}
		ref := s.fs.Doc(target)
		snap, err := tx.Get(ref)
		if err != nil && !firestoreerr.IsNotFound(err) {
			return err
		}
		if snap == nil || !snap.Exists() {
			return ErrMemberNotFound
		}
		var m model.Member
		if err := snap.DataTo(&m); err != nil {
			return err
		}
		rank := in.Moderator.rank(v)
		audit := s.auditEntry(in.Moderator.UID, ActionBan, target, in.Reason, in.Moderator.via())
		if m.Banned {
			// A higher rank banning again takes the ban over, so a lower
			// rank can no longer lift it; otherwise nothing changes.
			if rank.AtLeast(m.BanRank()) && rank != m.BanRank() {
				m.BannedBy, m.BannedByRank = in.Moderator.UID, rank
				if err := tx.Set(ref, map[string]any{"bannedBy": in.Moderator.UID, "bannedByRank": rank}, firestore.MergeAll); err != nil {
					return err
				}
				if err := s.audit.Audit(ctx, tx, audit); err != nil {
					return err
				}
			}
			out = Member{UID: in.Target, Member: m}
			return nil
		}
		if !slices.Contains(v.MemberIDs, in.Target) {
			return ErrMemberNotFound
		}
		if !outranks(v.Role(), m.Role) {
			return &RoleError{Role: v.Role(), Rule: ruleBanRank}
		}
		m.Role, m.Banned, m.BannedAt, m.BannedBy, m.BannedByRank = model.RoleMember, true, now, in.Moderator.UID, rank
		out = Member{UID: in.Target, Member: m}
		rest := without(v.MemberIDs, in.Target)
		writes := []func() error{
			func() error {
				return tx.Set(ref, map[string]any{"role": model.RoleMember, "banned": true, "bannedAt": now,
					"bannedBy": in.Moderator.UID, "bannedByRank": rank}, firestore.MergeAll)
			},
			func() error {
				return tx.Update(s.fs.Doc(model.RoomPath(in.RoomID)), []firestore.Update{
					{Path: model.FieldMemberIDs, Value: rest}, {Path: "memberCount", Value: len(rest)}})
			},
			func() error { return tx.Delete(s.fs.Doc(model.MembershipPath(in.Target, in.RoomID))) },
			func() error { return tx.Delete(s.fs.Doc(model.InboxEntryPath(in.Target, in.RoomID))) },
			func() error { return tx.Delete(s.fs.Doc(model.TypingPath(in.RoomID, in.Target))) },
			func() error {
				return s.addSystemMessage(tx, in.RoomID, in.Moderator.UID, displayName(m.DisplayName)+" was removed from the room")
			},
			func() error { return s.audit.Audit(ctx, tx, audit) },
		}
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Member{}, fmt.Errorf("ban %s from %s: %w", in.Target, in.RoomID, err)
	}
	return out, nil
}

// Unban deletes a banned member's doc, so the user can be added again; it
// does not add them back. ErrNotBanned when there is no ban, *RankError
// when a lower rank than the ban's setter tries.
func (s *Service) Unban(ctx context.Context, in ModerationInput) error {
	if err := checkIDs(in.RoomID, [2]string{"moderator", in.Moderator.UID}, [2]string{"uid", in.Target}); err != nil {
		return err
	}
	target := model.MemberPath(in.RoomID, in.Target)
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.modView(ctx, tx, in.Moderator, in.RoomID)
		if err != nil {
			return err
		}
		ref := s.fs.Doc(target)
		snap, err := tx.Get(ref)
		if err != nil && !firestoreerr.IsNotFound(err) {
			return err
		}
		var m model.Member
		if snap == nil || !snap.Exists() || snap.DataTo(&m) != nil || !m.Banned {
			return ErrNotBanned
		}
		if rank := in.Moderator.rank(v); !model.CanLiftBan(rank, m.BanRank()) {
			return &RankError{Op: OpUnban, Actor: rank, Required: m.BanRank()}
		}
		if err := tx.Delete(ref); err != nil {
			return err
		}
		return s.audit.Audit(ctx, tx, s.auditEntry(in.Moderator.UID, ActionUnban, target, in.Reason, in.Moderator.via()))
	})
	if err != nil {
		return fmt.Errorf("unban %s from %s: %w", in.Target, in.RoomID, err)
	}
	return nil
}

// Message is a message document and its id.
type Message struct {
	ID string
	model.Message
}

// authorRank is the rank of a message's author, as far as it matters to a
// moderator of rank actor: the author's room role (a member when they are
// no longer in the room), or app admin when their account has the admin
// claim. The Auth lookup is made only when the role alone would let actor
// redact; an Auth error fails the redaction rather than guessing.
func (s *Service) authorRank(ctx context.Context, tx *firestore.Transaction, roomID, senderID string, actor model.Rank) (model.Rank, error) {
	if actor == model.RankAppAdmin || model.ValidateID("senderId", senderID) != nil {
		return model.RankMember, nil
	}
	rank := model.RankMember
	snap, err := tx.Get(s.fs.Doc(model.MemberPath(roomID, senderID)))
	switch {
	case err != nil && !firestoreerr.IsNotFound(err):
		return "", err
	case err == nil:
		var m model.Member
		if err := snap.DataTo(&m); err != nil {
			return "", fmt.Errorf("member %s: %w", senderID, err)
		}
		if !m.Banned {
			rank = model.RoleRank(m.Role)
		}
	}
	if !actor.AtLeast(rank) {
		return rank, nil
	}
	u, err := s.users.GetUser(ctx, senderID)
	switch {
	case auth.IsUserNotFound(err):
		return rank, nil
	case err != nil:
		return "", fmt.Errorf("author %s: %w", senderID, err)
	}
	if admin, _ := u.CustomClaims["admin"].(bool); admin {
		return model.RankAppAdmin, nil
	}
	return rank, nil
}

// Redact turns the message in.Target into a tombstone (model.Message): text
// emptied, mentions and media removed, deletedAt and deletedBy = the
// moderator. Its place in the history stays. Redacting a deleted message is
// a no-op. The media object itself is the media code's to delete. A
// moderator below the author's rank gets a *RankError.
func (s *Service) Redact(ctx context.Context, in ModerationInput) (Message, error) {
	if err := checkIDs(in.RoomID, [2]string{"moderator", in.Moderator.UID}, [2]string{"messageId", in.Target}); err != nil {
		return Message{}, err
	}
	now := s.now()
	target := model.MessagePath(in.RoomID, in.Target)
	var out Message
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.modView(ctx, tx, in.Moderator, in.RoomID)
		if err != nil {
			return err
		}
		ref := s.fs.Doc(target)
		snap, err := tx.Get(ref)
		if err != nil {
			if firestoreerr.IsNotFound(err) {
				return ErrMessageNotFound
			}
			return err
		}
		var m model.Message
		if err := snap.DataTo(&m); err != nil {
			return err
		}
		if m.Deleted() {
			out = Message{ID: in.Target, Message: m}
			return nil
		}
		rank := in.Moderator.rank(v)
		author, err := s.authorRank(ctx, tx, in.RoomID, m.SenderID, rank)
		if err != nil {
			return err
		}
		if !model.CanRedact(rank, author) {
			return &RankError{Op: OpRedact, Actor: rank, Required: author}
		}
		details := in.Moderator.via()
		details["senderId"] = m.SenderID
		if err := tx.Update(ref, []firestore.Update{
			{Path: "text", Value: ""},
			{Path: "mentions", Value: firestore.Delete},
			{Path: "media", Value: firestore.Delete},
			{Path: "deletedAt", Value: now},
			{Path: "deletedBy", Value: in.Moderator.UID},
		}); err != nil {
			return err
		}
		m.Text, m.Mentions, m.Media, m.DeletedAt, m.DeletedBy = "", nil, nil, now, in.Moderator.UID
		out = Message{ID: in.Target, Message: m}
		return s.audit.Audit(ctx, tx, s.auditEntry(in.Moderator.UID, ActionRedact, target, in.Reason, details))
	})
	if err != nil {
		return Message{}, fmt.Errorf("redact %s: %w", target, err)
	}
	return out, nil
}
