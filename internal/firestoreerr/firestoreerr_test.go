package firestoreerr

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestClassify(t *testing.T) {
	notFound := fmt.Errorf("read room: %w", status.Error(codes.NotFound, "no such document"))
	exists := status.Error(codes.AlreadyExists, "exists")
	for _, c := range []struct {
		err             error
		notFound, exist bool
	}{
		{nil, false, false},
		{errors.New("plain"), false, false},
		{notFound, true, false},
		{exists, false, true},
		{status.Error(codes.Unavailable, "down"), false, false},
	} {
		if got := IsNotFound(c.err); got != c.notFound {
			t.Errorf("IsNotFound(%v) = %v, want %v", c.err, got, c.notFound)
		}
		if got := IsAlreadyExists(c.err); got != c.exist {
			t.Errorf("IsAlreadyExists(%v) = %v, want %v", c.err, got, c.exist)
		}
	}
}
