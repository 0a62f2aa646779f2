// Package model is Hearth's shared domain vocabulary: the Firestore document
// types of docs/data-model.md, their paths, the limits that the security
// rules are rendered from, and the validation shared by the API and the
// functions.
//
// The package does no I/O and holds no state: everything here is a constant,
// an immutable lookup table or a pure function, so every other package can
// import it without wiring. Firestore structs carry `firestore:` tags only;
// API (JSON) types live with the handlers.
//
// None of the structs use the `serverTimestamp` tag option: the Firestore Go
// client drops a non-zero value of such a field, which would silently discard
// times taken from Hearth's injected clock. Write firestore.ServerTimestamp
// explicitly (in an Update or a map) where the server's time is wanted.
package model
