package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Tokens is what a client SDK holds after signing in.
type Tokens struct {
	UID          string `json:"localId"`
	Email        string `json:"email"`
	IDToken      string `json:"idToken"`
	RefreshToken string `json:"refreshToken"`
}

// AuthREST speaks the Auth emulator's client endpoints, as a mobile SDK would. Any API key
// works against the emulator.
type AuthREST struct {
	Host   string // host:port of the Auth emulator
	Client *http.Client
}

func (a AuthREST) client() *http.Client {
	if a.Client != nil {
		return a.Client
	}
	return http.DefaultClient
}

// SignUp creates an email/password account and signs it in.
func (a AuthREST) SignUp(ctx context.Context, email, password string) (Tokens, error) {
	return a.identity(ctx, "accounts:signUp", map[string]any{"email": email, "password": password, "returnSecureToken": true})
}

// SignInWithPassword signs in with email and password.
func (a AuthREST) SignInWithPassword(ctx context.Context, email, password string) (Tokens, error) {
	return a.identity(ctx, "accounts:signInWithPassword", map[string]any{"email": email, "password": password, "returnSecureToken": true})
}

// SignInWithCustomToken exchanges a custom token (from the Admin SDK) for an ID token.
func (a AuthREST) SignInWithCustomToken(ctx context.Context, customToken string) (Tokens, error) {
	return a.identity(ctx, "accounts:signInWithCustomToken", map[string]any{"token": customToken, "returnSecureToken": true})
}

// Refresh trades a refresh token for a new ID token (which then carries new custom claims).
func (a AuthREST) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	u := "http://" + a.Host + "/securetoken.googleapis.com/v1/token?key=fake-api-key"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out struct {
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
		UserID       string `json:"user_id"`
	}
	if err := a.do(req, &out); err != nil {
		return Tokens{}, fmt.Errorf("refresh token: %w", err)
	}
	return Tokens{UID: out.UserID, IDToken: out.IDToken, RefreshToken: out.RefreshToken}, nil
}

func (a AuthREST) identity(ctx context.Context, method string, body any) (Tokens, error) {
	raw, _ := json.Marshal(body)
	u := "http://" + a.Host + "/identitytoolkit.googleapis.com/v1/" + method + "?key=fake-api-key"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(raw))
	if err != nil {
		return Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var t Tokens
	if err := a.do(req, &t); err != nil {
		return Tokens{}, fmt.Errorf("%s: %w", method, err)
	}
	return t, nil
}

func (a AuthREST) do(req *http.Request, out any) error {
	resp, err := a.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("auth emulator: %s: %s", resp.Status, e.Error.Message)
	}
	return json.Unmarshal(raw, out)
}
