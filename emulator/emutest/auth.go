package emutest

import (
	"context"
	"fmt"
	"sync/atomic"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/emulator"
)

// User is an Auth emulator account with a real (emulator-issued) ID token.
type User struct {
	UID          string
	Email        string
	Password     string
	IDToken      string
	RefreshToken string
}

var userSeq atomic.Int64

// Auth returns an Admin SDK Auth client for the Auth emulator.
func (e *Env) Auth() *auth.Client {
	e.t.Helper()
	app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: e.AuthProjectID})
	if err != nil {
		e.t.Fatalf("emutest: firebase app: %v", err)
	}
	c, err := app.Auth(context.Background())
	if err != nil {
		e.t.Fatalf("emutest: auth client: %v", err)
	}
	return c
}

// AuthREST returns the client-side REST API of the Auth emulator.
func (e *Env) AuthREST() emulator.AuthREST { return emulator.AuthREST{Host: e.AuthHost} }

// NewUser creates an email/password account in the Auth emulator (the email is unique to
// this test) and signs it in.
func (e *Env) NewUser(name string) User {
	e.t.Helper()
	email := e.uniqueEmail(fmt.Sprintf("%s-%d", name, userSeq.Add(1)))
	const password = "secret-password"
	tok, err := e.AuthREST().SignUp(e.t.Context(), email, password)
	if err != nil {
		e.t.Fatalf("emutest: sign up %s: %v", email, err)
	}
	return User{UID: tok.UID, Email: email, Password: password, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken}
}

// Refresh returns u with a fresh ID token (one that carries newly set custom claims).
func (e *Env) Refresh(u User) User {
	e.t.Helper()
	tok, err := e.AuthREST().Refresh(e.t.Context(), u.RefreshToken)
	if err != nil {
		e.t.Fatalf("emutest: refresh %s: %v", u.Email, err)
	}
	u.IDToken, u.RefreshToken = tok.IDToken, tok.RefreshToken
	return u
}
