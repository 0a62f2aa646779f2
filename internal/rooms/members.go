package rooms

import (
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// outranks reports whether a moderator of role a may act on a member of
// role b: owners act on anyone, admins on plain members only.
func outranks(a, b model.Role) bool {
	return a.CanModerate() && (a == model.RoleOwner || roleLevel(a) > roleLevel(b))
}

// roleLevel orders roles: owner > admin > member.
func roleLevel(r model.Role) int {
	switch r {
	case model.RoleOwner:
		return 3
	case model.RoleAdmin:
		return 2
	case model.RoleMember:
		return 1
	}
	return 0
}

// AddMembersInput adds users to a group.
type AddMembersInput struct {
	Caller string
	RoomID string
	// UserIDs are existing users; those already members are skipped.
	UserIDs []string
}

// AddMembersResult lists the members the call added; uids that already
// were members are skipped, so a retried call is harmless.
type AddMembersResult struct {
	RoomID      string
	Added       []Member
	MemberCount int
}

// AddMembers lets owners and admins of a group add existing users. Banned
// users are refused (*BannedUsersError) until a moderator unbans them; a
// group never grows beyond model.MaxMembers (*RoomFullError).
func (s *Service) AddMembers(ctx context.Context, in AddMembersInput) (AddMembersResult, error) {
	const field = "userIds"
	if err := checkIDs(in.RoomID, [2]string{"caller", in.Caller}); err != nil {
		return AddMembersResult{}, err
	}
	ids, issues := checkUIDList(field, in.UserIDs, model.MaxMembers, "")
	if len(in.UserIDs) == 0 {
		issues = append(issues, model.FieldError{Field: field, Reason: "required"})
	}
	if err := invalid(issues); err != nil {
		return AddMembersResult{}, err
	}
	users, missing, err := s.lookupUsers(ctx, ids)
	if err != nil {
		return AddMembersResult{}, err
	}
	if err := missingUsers(field, in.UserIDs, missing, ""); err != nil {
		return AddMembersResult{}, err
	}
	now := s.now()
	var out AddMembersResult
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out = AddMembersResult{RoomID: in.RoomID, Added: []Member{}}
		v, err := s.memberView(ctx, tx, in.RoomID, in.Caller)
		if err != nil {
			return err
		}
		if err := v.groupChange(); err != nil {
			return err
		}
		if !v.Role().CanModerate() {
			return &RoleError{Role: v.Role(), Rule: ruleAddMembers}
		}
		var fresh []string
		for _, uid := range ids {
			if !slices.Contains(v.MemberIDs, uid) {
				fresh = append(fresh, uid)
			}
		}
		if len(fresh) > 0 {
			refs := make([]*firestore.DocumentRef, len(fresh))
			for i, uid := range fresh {
				refs[i] = s.fs.Doc(model.MemberPath(in.RoomID, uid))
			}
			snaps, err := tx.GetAll(refs)
			if err != nil {
				return err
			}
			var banned BannedUsersError
			for i, snap := range snaps {
				var m model.Member
				if snap.Exists() && snap.DataTo(&m) == nil && m.Banned {
					idx := slices.Index(in.UserIDs, fresh[i])
					banned.UIDs = append(banned.UIDs, fresh[i])
					banned.Fields = append(banned.Fields, model.FieldError{Field: fmt.Sprintf("%s[%d]", field, idx), Reason: "banned from this room"})
				}
			}
			if len(banned.UIDs) > 0 {
				return &banned
			}
		}
		out.MemberCount = len(v.MemberIDs) + len(fresh)
		if out.MemberCount > model.MaxMembers {
			return &RoomFullError{Max: model.MaxMembers}
		}
		if len(fresh) == 0 {
			return nil
		}
		names := make([]string, len(fresh))
		for i, uid := range fresh {
			m := model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: users[uid].DisplayName}
			if err := tx.Set(s.fs.Doc(model.MemberPath(in.RoomID, uid)), m); err != nil {
				return err
			}
			out.Added = append(out.Added, Member{UID: uid, Member: m})
			names[i] = m.DisplayName
		}
		memberIDs := append(slices.Clone(v.MemberIDs), fresh...)
		if err := tx.Update(s.fs.Doc(model.RoomPath(in.RoomID)), []firestore.Update{
			{Path: model.FieldMemberIDs, Value: memberIDs}, {Path: "memberCount", Value: len(memberIDs)},
		}); err != nil {
			return err
		}
		text := displayName(v.Member.DisplayName) + " added " + joinNames(names)
		return s.addSystemMessage(tx, in.RoomID, in.Caller, text)
	})
	if err != nil {
		return AddMembersResult{}, fmt.Errorf("add members to %s: %w", in.RoomID, err)
	}
	return out, nil
}

// SetRoleInput changes a member's role.
type SetRoleInput struct {
	Caller string
	RoomID string
	UID    string
	Role   model.Role
}

// SetRole lets owners change roles (admins and owners are theirs to
// manage). The last owner cannot step down (ErrLastOwner). It returns the
// member as it now is.
func (s *Service) SetRole(ctx context.Context, in SetRoleInput) (Member, error) {
	if err := checkIDs(in.RoomID, [2]string{"caller", in.Caller}, [2]string{"uid", in.UID}); err != nil {
		return Member{}, err
	}
	if !in.Role.Valid() {
		return Member{}, invalid([]model.FieldError{{Field: "role", Reason: fmt.Sprintf("must be one of %q", model.Roles())}})
	}
	var out Member
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.memberView(ctx, tx, in.RoomID, in.Caller)
		if err != nil {
			return err
		}
		if err := v.groupChange(); err != nil {
			return err
		}
		if v.Role() != model.RoleOwner {
			return &RoleError{Role: v.Role(), Rule: ruleChangeRoles}
		}
		ref, m, err := s.rosterMember(tx, v, in.UID)
		if err != nil {
			return err
		}
		out = Member{UID: in.UID, Member: m}
		if m.Role == in.Role {
			return nil
		}
		if m.Role == model.RoleOwner {
			if err := s.keepAnOwner(tx, in.RoomID, in.UID); err != nil {
				return err
			}
		}
		out.Role = in.Role
		if err := tx.Set(ref, map[string]any{"role": in.Role}, firestore.MergeAll); err != nil {
			return err
		}
		text := fmt.Sprintf("%s made %s %s", displayName(v.Member.DisplayName), displayName(m.DisplayName), roleNoun(in.Role))
		return s.addSystemMessage(tx, in.RoomID, in.Caller, text)
	})
	if err != nil {
		return Member{}, fmt.Errorf("set role of %s in %s: %w", in.UID, in.RoomID, err)
	}
	return out, nil
}

// RemoveMemberInput takes a member out of a group: the caller themselves
// (leaving) or another member.
type RemoveMemberInput struct {
	Caller string
	RoomID string
	UID    string
}

// RemoveMember lets a member leave (UID = Caller), or an owner or admin
// remove someone they outrank. The last owner may leave only as the last
// member. A group whose last member leaves is archived.
func (s *Service) RemoveMember(ctx context.Context, in RemoveMemberInput) error {
	if err := checkIDs(in.RoomID, [2]string{"caller", in.Caller}, [2]string{"uid", in.UID}); err != nil {
		return err
	}
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.memberView(ctx, tx, in.RoomID, in.Caller)
		if err != nil {
			return err
		}
		if v.Type != model.RoomGroup {
			return ErrDirectRoomFixed
		}
		leaving := in.UID == in.Caller
		var m model.Member
		if leaving {
			m = v.Member
			if m.Role == model.RoleOwner && len(v.MemberIDs) > 1 {
				if err := s.keepAnOwner(tx, in.RoomID, in.Caller); err != nil {
					return err
				}
			}
		} else {
			if err := v.writable(); err != nil {
				return err
			}
			if !v.Role().CanModerate() {
				return &RoleError{Role: v.Role(), Rule: ruleRemoveMembers}
			}
			if _, m, err = s.rosterMember(tx, v, in.UID); err != nil {
				return err
			}
			if !outranks(v.Role(), m.Role) {
				return &RoleError{Role: v.Role(), Rule: ruleRemoveRank}
			}
		}
		rest := without(v.MemberIDs, in.UID)
		if err := tx.Delete(s.fs.Doc(model.MemberPath(in.RoomID, in.UID))); err != nil {
			return err
		}
		updates := []firestore.Update{{Path: model.FieldMemberIDs, Value: rest}, {Path: "memberCount", Value: len(rest)}}
		if len(rest) == 0 {
			updates = append(updates, firestore.Update{Path: "archived", Value: true})
		}
		if err := tx.Update(s.fs.Doc(model.RoomPath(in.RoomID)), updates); err != nil {
			return err
		}
		text := displayName(m.DisplayName) + " left"
		if !leaving {
			text = displayName(v.Member.DisplayName) + " removed " + displayName(m.DisplayName)
		}
		return s.addSystemMessage(tx, in.RoomID, in.Caller, text)
	})
	if err != nil {
		return fmt.Errorf("remove %s from %s: %w", in.UID, in.RoomID, err)
	}
	return nil
}
