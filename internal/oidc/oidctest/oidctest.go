// Package oidctest mints Google-shaped OIDC ID tokens with a locally generated RSA key
// and serves that key where google.golang.org/api/idtoken fetches Google's, through an
// http.Client that never leaves the process. For tests only.
package oidctest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hearth-chat/hearth/internal/oidc"
)

// CertsURL is where idtoken fetches the keys of Google's service-account ID tokens.
const CertsURL = oidc.GoogleCertsURL

// Issuer is a stand-in for Google: one RSA key, served as a JWKS at CertsURL.
type Issuer struct {
	Key *rsa.PrivateKey
	KID string
	// Extra are served at other URLs (for example an ES256 JWKS at IAP's URL).
	Extra   map[string][]byte
	fetches atomic.Int32
}

// New returns an Issuer with a fresh 2048-bit key.
func New() (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Issuer{Key: key, KID: "local-oidc-kid-1", Extra: map[string][]byte{}}, nil
}

// Fetches counts the key fetches so far.
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }

// JWKS returns the key set served at CertsURL.
func (i *Issuer) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": i.KID,
		"n": b64(i.Key.PublicKey.N.Bytes()),
		"e": b64(big.NewInt(int64(i.Key.PublicKey.E)).Bytes()),
	}}})
	return b
}

// HTTPClient returns a client that answers CertsURL with JWKS (cacheable for an hour,
// as Google's is) and the Extra URLs with their bodies; anything else is 404 without a
// connection.
func (i *Issuer) HTTPClient() *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		u := r.URL.String()
		var body []byte
		switch {
		case u == CertsURL:
			i.fetches.Add(1)
			body = i.JWKS()
		case i.Extra[u] != nil:
			body = i.Extra[u]
		default:
			return &http.Response{StatusCode: http.StatusNotFound, Body: io.NopCloser(bytes.NewReader(nil)), Header: http.Header{}, Request: r}, nil
		}
		h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"public, max-age=3600"}}
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(body)), Header: h, Request: r, ContentLength: int64(len(body))}, nil
	})}
}

// Handler serves JWKS to GET requests on any path, cacheable for an hour as Google's
// is: a local issuer's keys URL for a process of its own (oidc.Deps.KeysURL,
// HEARTH_EVENTS_CERTS_URL). Fetches counts them.
func (i *Issuer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		i.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(i.JWKS())
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Claims returns the claims of a valid service-account ID token for audience and email,
// issued now and valid for an hour, as Eventarc, Pub/Sub and Cloud Scheduler send.
func Claims(audience, email string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "https://accounts.google.com", "aud": audience, "azp": "1234567890",
		"sub": "1234567890", "email": email, "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// Token signs claims with the Issuer's key (RS256, its kid).
func (i *Issuer) Token(claims map[string]any) string {
	return Sign(i.Key, map[string]any{"alg": "RS256", "kid": i.KID, "typ": "JWT"}, claims)
}

// Sign returns the JWT of header and claims signed with key (RS256 over header.payload,
// whatever the header says).
func Sign(key *rsa.PrivateKey, header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signed := b64(h) + "." + b64(c)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signed + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
