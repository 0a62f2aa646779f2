// Package prodshape holds the production-shaped test of Hearth (prodshape_test.go): the
// split deployment of docs/deploy.md — `hearth serve --role=api` and `hearth serve
// --role=events` as two processes of the built binary, the events service behind its
// OIDC check — run against the local emulator suite, with the Firestore emulator's
// trigger deliveries forwarded as Eventarc sends them. It has no code of its own.
package prodshape
