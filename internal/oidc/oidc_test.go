package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/oidc"
	"github.com/hearth-chat/hearth/internal/oidc/oidctest"
)

const (
	aud   = "https://hearth-events-abc123-ew.a.run.app"
	sa    = "hearth-functions@my-project.iam.gserviceaccount.com"
	other = "intruder@other-project.iam.gserviceaccount.com"
)

// iapURL is where idtoken fetches the ES256 keys it accepts (Identity-Aware Proxy's).
const iapURL = "https://www.gstatic.com/iap/verify/public_key-jwk"

func newIssuer(tb testing.TB) *oidctest.Issuer {
	tb.Helper()
	iss, err := oidctest.New()
	if err != nil {
		tb.Fatal(err)
	}
	// An ES256 key where idtoken looks for IAP's, so a token claiming ES256 with this
	// kid reaches idtoken's ES256 path unless the verifier refuses it first.
	iss.Extra[iapURL] = []byte(`{"keys":[{"kty":"EC","alg":"ES256","crv":"P-256","kid":"iap-kid",` +
		`"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`)
	return iss
}

func newVerifier(tb testing.TB, iss *oidctest.Issuer) *oidc.Verifier {
	tb.Helper()
	v, err := oidc.New(tb.Context(), oidc.Config{Audiences: []string{aud, aud + "/other"}, ServiceAccounts: []string{sa}},
		oidc.Deps{HTTPClient: iss.HTTPClient()})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func with(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerifyToken(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := oidctest.Claims(aud, sa)
	now := time.Now()
	valid := iss.Token(good)
	parts := strings.Split(valid, ".")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"valid", valid, nil},
		{"second audience", iss.Token(with(good, "aud", aud+"/other")), nil},
		{"issuer without scheme", iss.Token(with(good, "iss", "accounts.google.com")), nil},
		{"email in other case", iss.Token(with(good, "email", strings.ToUpper(sa))), nil},

		{"not a JWT", "abc", oidc.ErrInvalidToken},
		{"two segments", parts[0] + "." + parts[1], oidc.ErrInvalidToken},
		{"bad base64 header", "!!!." + parts[1] + "." + parts[2], oidc.ErrInvalidToken},
		{"too long", valid + strings.Repeat("A", oidc.MaxTokenBytes), oidc.ErrInvalidToken},
		{"wrong audience", iss.Token(with(good, "aud", "https://evil.example")), oidc.ErrInvalidToken},
		{"no audience", iss.Token(with(good, "aud", nil)), oidc.ErrInvalidToken},
		{"audience list", iss.Token(with(good, "aud", []string{aud})), oidc.ErrInvalidToken},
		{"expired", iss.Token(with(good, "iat", now.Add(-2*time.Hour).Unix(), "exp", now.Add(-time.Hour).Unix())), oidc.ErrInvalidToken},
		{"no expiry", iss.Token(with(good, "exp", nil)), oidc.ErrInvalidToken},
		{"issued in the future", iss.Token(with(good, "iat", now.Add(time.Hour).Unix(), "exp", now.Add(2*time.Hour).Unix())), oidc.ErrInvalidToken},
		{"wrong issuer", iss.Token(with(good, "iss", "https://securetoken.google.com/my-project")), oidc.ErrInvalidToken},
		{"no issuer", iss.Token(with(good, "iss", nil)), oidc.ErrInvalidToken},
		{"signed by another key", oidctest.Sign(otherKey, map[string]any{"alg": "RS256", "kid": iss.KID}, good), oidc.ErrInvalidToken},
		{"unknown kid", oidctest.Sign(iss.Key, map[string]any{"alg": "RS256", "kid": "nope"}, good), oidc.ErrInvalidToken},
		{"tampered payload", parts[0] + "." + segment(with(good, "email", other)) + "." + parts[2], oidc.ErrInvalidToken},
		{"alg none", segment(map[string]any{"alg": "none", "kid": iss.KID}) + "." + parts[1] + ".", oidc.ErrInvalidToken},
		{"alg HS256", oidctest.Sign(iss.Key, map[string]any{"alg": "HS256", "kid": iss.KID}, good), oidc.ErrInvalidToken},
		{"ES256 with a short signature", segment(map[string]any{"alg": "ES256", "kid": "iap-kid"}) + "." + parts[1] + ".AAAA", oidc.ErrInvalidToken},

		{"other service account", iss.Token(with(good, "email", other)), oidc.ErrForbidden},
		{"email not verified", iss.Token(with(good, "email_verified", false)), oidc.ErrForbidden},
		{"email_verified as a string", iss.Token(with(good, "email_verified", "true")), oidc.ErrForbidden},
		{"no email", iss.Token(with(good, "email", nil)), oidc.ErrForbidden},
		{"email not a string", iss.Token(with(good, "email", []string{sa})), oidc.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.VerifyToken(t.Context(), tt.token)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifyToken() = %+v, %v; want error %v", c, err, tt.want)
			}
			if err == nil && (!strings.EqualFold(c.Email, sa) || c.Subject == "") {
				t.Errorf("VerifyToken() caller = %+v, want %s", c, sa)
			}
		})
	}
	if n := iss.Fetches(); n != 1 {
		t.Errorf("key fetches = %d, want 1 (cached)", n)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg oidc.Config
		ok  bool
	}{
		{oidc.Config{Audiences: []string{aud}, ServiceAccounts: []string{sa}}, true},
		{oidc.Config{ServiceAccounts: []string{sa}}, false},
		{oidc.Config{Audiences: []string{aud}}, false},
		{oidc.Config{Audiences: []string{""}, ServiceAccounts: []string{sa}}, false},
		{oidc.Config{Audiences: []string{aud}, ServiceAccounts: []string{"not-an-email"}}, false},
		{oidc.Config{Audiences: []string{aud}, ServiceAccounts: []string{"Name <" + sa + ">"}}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok %v", tt.cfg, err, tt.ok)
		}
		if _, err := oidc.New(t.Context(), tt.cfg, oidc.Deps{}); (err == nil) != tt.ok {
			t.Errorf("New(%+v) = %v, want ok %v", tt.cfg, err, tt.ok)
		}
	}
}

// TestMiddleware: 401 without or with a bad token, 403 for another account, and the
// handler (which would read the body) runs only for the allowed account.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	ran := 0
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		w.WriteHeader(http.StatusNoContent)
	}))
	tests := []struct {
		name, auth string
		code       int
	}{
		{"no header", "", 401},
		{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), 401},
		{"empty bearer", "Bearer ", 401},
		{"garbage", "Bearer garbage", 401},
		{"other account", "Bearer " + iss.Token(oidctest.Claims(aud, other)), 403},
		{"allowed", "Bearer " + iss.Token(oidctest.Claims(aud, sa)), 204},
		{"lower-case scheme", "bearer " + iss.Token(oidctest.Claims(aud, sa)), 204},
	}
	for _, tt := range tests {
		before := ran
		r := httptest.NewRequest(http.MethodPost, "/events/x", strings.NewReader("{}"))
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.code {
			t.Errorf("%s: status = %d, want %d", tt.name, w.Code, tt.code)
		}
		if want := tt.code == 204; (ran > before) != want {
			t.Errorf("%s: handler ran = %v, want %v", tt.name, ran > before, want)
		}
		if tt.code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
	}
}

// FuzzVerifyToken: whatever the token, VerifyToken returns a Caller only for a token
// signed by the key with every check passing, and otherwise one of its errors — never a
// panic. The seeds (run by go test) include mutations of a valid token.
func FuzzVerifyToken(f *testing.F) {
	iss := newIssuer(f)
	v := newVerifier(f, iss)
	good := oidctest.Claims(aud, sa)
	valid := iss.Token(good)
	parts := strings.Split(valid, ".")
	for _, s := range []string{
		valid, iss.Token(with(good, "email", other)), iss.Token(with(good, "aud", []any{aud, 1})),
		iss.Token(with(good, "exp", "soon")), iss.Token(with(good, "iat", 1e300)), iss.Token(with(good, "email_verified", nil)),
		"", ".", "..", "...", "a.b.c", parts[0] + ".." + parts[2], parts[0] + "." + parts[1] + ".",
		segment(map[string]any{"alg": "ES256", "kid": "iap-kid"}) + "." + parts[1] + ".AAAA",
		segment(map[string]any{"alg": "ES256", "kid": "iap-kid"}) + "." + parts[1] + "." + strings.Repeat("A", 86),
		segment(map[string]any{"alg": "RS256", "kid": iss.KID}) + "." + parts[1] + ".",
		segment(map[string]any{"alg": "RS256", "kid": iss.KID}) + "." + segment("x") + "." + parts[2],
		segment([]int{1}) + "." + parts[1] + "." + parts[2], segment(nil) + "." + segment(nil) + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2] + ".", valid + "=", strings.Repeat("A.", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.VerifyToken(t.Context(), token)
		if err == nil {
			if token != valid && !strings.EqualFold(c.Email, sa) {
				t.Fatalf("VerifyToken(%q) accepted caller %+v", token, c)
			}
			return
		}
		if !errors.Is(err, oidc.ErrInvalidToken) && !errors.Is(err, oidc.ErrForbidden) {
			t.Fatalf("VerifyToken(%q) = %v, want ErrInvalidToken or ErrForbidden", token, err)
		}
	})
}

// BenchmarkVerifyToken is the cost the check adds to each event (keys cached).
func BenchmarkVerifyToken(b *testing.B) {
	iss := newIssuer(b)
	v := newVerifier(b, iss)
	token := iss.Token(oidctest.Claims(aud, sa))
	for b.Loop() {
		if _, err := v.VerifyToken(b.Context(), token); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeysURL: with Deps.KeysURL the keys come from a local issuer over HTTP, and only
// where they come from changes: a token it signs passes, one with another issuer, another
// audience or another account does not, a key the issuer does not serve does not, and a
// malformed keys URL is refused by New.
func TestKeysURL(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	srv := httptest.NewServer(iss.Handler())
	t.Cleanup(srv.Close)
	v, err := oidc.New(t.Context(), oidc.Config{Audiences: []string{aud}, ServiceAccounts: []string{sa}},
		oidc.Deps{KeysURL: srv.URL + "/certs"})
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := oidctest.Claims(aud, sa)
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"signed by the local issuer", iss.Token(good), nil},
		{"issuer not Google's", iss.Token(with(good, "iss", "https://local-issuer.example")), oidc.ErrInvalidToken},
		{"no issuer", iss.Token(with(good, "iss", nil)), oidc.ErrInvalidToken},
		{"other audience", iss.Token(with(good, "aud", aud+"/x")), oidc.ErrInvalidToken},
		{"other account", iss.Token(oidctest.Claims(aud, other)), oidc.ErrForbidden},
		{"key not served", oidctest.Sign(otherKey, map[string]any{"alg": "RS256", "kid": iss.KID}, good), oidc.ErrInvalidToken},
		{"expired", iss.Token(with(good, "exp", time.Now().Add(-time.Hour).Unix())), oidc.ErrInvalidToken},
	}
	for _, tt := range tests {
		_, err := v.VerifyToken(t.Context(), tt.token)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: VerifyToken = %v, want %v", tt.name, err, tt.want)
		}
	}
	if iss.Fetches() == 0 {
		t.Error("the keys were never fetched from the keys URL")
	}
	for _, bad := range []string{"file:///etc/keys.json", "ftp://127.0.0.1/k", "http://", "://x", "127.0.0.1:8080/certs"} {
		if _, err := oidc.New(t.Context(), oidc.Config{Audiences: []string{aud}, ServiceAccounts: []string{sa}},
			oidc.Deps{KeysURL: bad}); err == nil {
			t.Errorf("New with keys URL %q: no error", bad)
		}
	}
}
