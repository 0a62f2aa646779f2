package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/model"
)

// getUsersBatch is the most identifiers one Auth GetUsers call takes.
const getUsersBatch = 100

// userInfo is what a room needs to know about a user it adds.
type userInfo struct {
	UID         string
	DisplayName string
}

// lookupUsers returns the users of uids that exist in Auth, with their
// display names (the Firestore profile's, else the Auth record's), and the
// uids that do not exist.
func (s *Service) lookupUsers(ctx context.Context, uids []string) (map[string]userInfo, []string, error) {
	found := make(map[string]userInfo, len(uids))
	for start := 0; start < len(uids); start += getUsersBatch {
		chunk := uids[start:min(start+getUsersBatch, len(uids))]
		ids := make([]auth.UserIdentifier, len(chunk))
		for i, uid := range chunk {
			ids[i] = auth.UIDIdentifier{UID: uid}
		}
		res, err := s.users.GetUsers(ctx, ids)
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

// checkUIDList checks a request's list of uids: valid ids, no duplicates, at
// most maxLen. It returns the list without self (the caller may name
// themselves) and the problems, named as in the request (field[i]).
func checkUIDList(field string, ids []string, maxLen int, self string) ([]string, []model.FieldError) {
	if len(ids) > maxLen {
		return nil, []model.FieldError{{Field: field, Reason: fmt.Sprintf("too many: %d > %d", len(ids), maxLen)}}
	}
	var issues []model.FieldError
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := model.ValidateID(f, id); err != nil {
			issues = append(issues, model.FieldError{Field: f, Reason: firstReason(err)})
			continue
		}
		if seen[id] {
			issues = append(issues, model.FieldError{Field: f, Reason: fmt.Sprintf("duplicate %q", id)})
			continue
		}
		seen[id] = true
		if id != self {
			out = append(out, id)
		}
	}
	return out, issues
}

// missingUsers is an *UnknownUsersError naming the request's uids that are
// not users, or nil. The caller's own uid missing means their account was
// just deleted: ErrCallerUnknown.
func missingUsers(field string, ids, missing []string, self string) error {
	if len(missing) == 0 {
		return nil
	}
	if self != "" && slices.Contains(missing, self) {
		return ErrCallerUnknown
	}
	e := &UnknownUsersError{UIDs: missing}
	for i, id := range ids {
		if slices.Contains(missing, id) {
			e.Fields = append(e.Fields, model.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: "no such user"})
		}
	}
	return e
}

// firstReason returns the reason of a model validation error's first field.
func firstReason(err error) string {
	var ve *model.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Reason
	}
	return err.Error()
}

// invalid returns nil or a *model.ValidationError of issues.
func invalid(issues []model.FieldError) error {
	if len(issues) == 0 {
		return nil
	}
	return &model.ValidationError{Fields: issues}
}
