package accounts

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// Account is a user as an admin sees them.
type Account struct {
	// User is the Firebase Auth record.
	User *auth.UserRecord
	// Profile is users/{uid}, nil when the app never wrote one.
	Profile *model.User
	// Devices is how many push devices the user registered.
	Devices int64
}

// Get returns the account of uid: Auth's user-not-found (wrapped) when
// there is no such user.
func (s *Service) Get(ctx context.Context, uid string) (Account, error) {
	if err := model.ValidateID("uid", uid); err != nil {
		return Account{}, err
	}
	var a Account
	var err error
	if a.User, err = s.user(ctx, uid); err != nil {
		return Account{}, err
	}
	snap, err := s.fs.Doc(model.UserPath(uid)).Get(ctx)
	switch {
	case firestoreerr.IsNotFound(err):
	case err != nil:
		return Account{}, fmt.Errorf("get profile of %s: %w", uid, err)
	default:
		a.Profile = new(model.User)
		if err := snap.DataTo(a.Profile); err != nil {
			return Account{}, fmt.Errorf("decode profile of %s: %w", uid, err)
		}
	}
	res, err := s.fs.Collection(model.DevicesCollectionPath(uid)).NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return Account{}, fmt.Errorf("count devices of %s: %w", uid, err)
	}
	v, ok := res["n"].(*firestorepb.Value)
	if !ok {
		return Account{}, fmt.Errorf("count devices of %s: unexpected result %T", uid, res["n"])
	}
	a.Devices = v.GetIntegerValue()
	return a, nil
}
