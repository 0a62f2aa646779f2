// Package firestoreerr classifies the errors of the Firestore client, so that callers
// say what they mean ("the document does not exist") instead of comparing gRPC codes.
package firestoreerr

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsNotFound reports whether err is Firestore's NOT_FOUND: a document that does not
// exist (DocumentRef.Get, Update, Delete with an Exists precondition).
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// IsAlreadyExists reports whether err is Firestore's ALREADY_EXISTS (DocumentRef.Create
// of a document that exists).
func IsAlreadyExists(err error) bool { return status.Code(err) == codes.AlreadyExists }
