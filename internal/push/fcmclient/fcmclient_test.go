package fcmclient_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
	"github.com/hearth-chat/hearth/internal/push/fcmclient"
)

// serve serves h on a loopback port and counts the connections it accepts.
func serve(t *testing.T, h http.Handler) (addr string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), conns
}

// TestNewKeepsConnections: a fan-out's worth of concurrent sends (4 SendEach calls of
// 500, 50 workers each: 200 requests in flight) keeps its connections in the idle pool,
// so the next fan-out dials none. With the SDK's own pool of 100 idle connections, about
// 100 were closed after every round (and within one, whenever a SendEach call ended) and
// dialed again.
func TestNewKeepsConnections(t *testing.T) {
	fake := fcmfake.New(fcmfake.Config{})
	addr, conns := serve(t, fake.Handler())
	client, err := fcmfake.NewMessagingClient(t.Context(), addr, "demo-pool")
	if err != nil {
		t.Fatal(err)
	}
	const batches, perBatch, workers = 4, 500, 50
	var opened [2]int64
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make(chan error, batches)
		for b := range batches {
			msgs := make([]*messaging.Message, perBatch)
			for i := range msgs {
				msgs[i] = &messaging.Message{Token: fmt.Sprintf("tok-%d-%d-%d", round, b, i),
					Notification: &messaging.Notification{Title: "t", Body: "b"}}
			}
			wg.Go(func() {
				br, err := client.SendEach(t.Context(), msgs)
				if err == nil && br.FailureCount > 0 {
					err = fmt.Errorf("%d failures", br.FailureCount)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: SendEach: %v", round, err)
			}
		}
		opened[round] = conns.Load()
		t.Logf("round %d: %d connections", round, opened[round])
	}
	// The first round dials about one connection per request in flight (a few more
	// when a request asks for one just before another is put back); the second finds
	// them all idle.
	if again := opened[1] - opened[0]; again > batches*workers/10 {
		t.Fatalf("the second round of sends dialed %d new connections (the first %d): the idle pool drops connections a fan-out uses",
			again, opened[0])
	}
	if sent := len(fake.Sent()); sent != 2*batches*perBatch {
		t.Fatalf("%d messages sent, want %d", sent, 2*batches*perBatch)
	}
}

// TestNewAuthenticates: without option.WithoutAuthentication the client built by New
// gets an OAuth2 access token for its credentials (here a service account whose token
// endpoint is local), asking for the Admin SDK's scopes, and sends it with every FCM
// request, as the SDK's own client does: with Application Default Credentials (what
// production uses) and with credentials given as an option.
func TestNewAuthenticates(t *testing.T) {
	for _, how := range []string{"application default credentials", "option"} {
		t.Run(how, func(t *testing.T) {
			var assertion atomic.Value
			tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				assertion.Store(r.Form.Get("assertion"))
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"access_token":"local-access-token","token_type":"Bearer","expires_in":3600}`)
			}))
			defer tokenSrv.Close()

			fake := fcmfake.New(fcmfake.Config{})
			var authz atomic.Value
			addr, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				authz.Store(r.Header.Get("Authorization"))
				fake.Handler().ServeHTTP(w, r)
			}))

			sa := serviceAccount(t, tokenSrv.URL)
			opts := []option.ClientOption{option.WithEndpoint("http://" + addr + "/v1")}
			if how == "option" {
				opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, sa))
			} else {
				path := filepath.Join(t.TempDir(), "sa.json")
				if err := os.WriteFile(path, sa, 0o600); err != nil {
					t.Fatal(err)
				}
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
			}
			client, err := fcmclient.New(t.Context(), "demo-auth", opts...)
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			if _, err := client.Send(t.Context(), &messaging.Message{Token: "tok-1"}); err != nil {
				t.Fatalf("Send() = %v", err)
			}
			if got, want := authz.Load(), "Bearer local-access-token"; got != want {
				t.Fatalf("Authorization = %q, want %q", got, want)
			}
			a, _ := assertion.Load().(string)
			if scope := jwtScope(t, a); !slices.Contains(strings.Fields(scope), "https://www.googleapis.com/auth/cloud-platform") {
				t.Fatalf("the token request's scopes = %q, want cloud-platform among them", scope)
			}
		})
	}
}

// serviceAccount is a service account key file whose token endpoint is tokenURI.
func serviceAccount(t *testing.T, tokenURI string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "demo-auth",
		"private_key_id": "k1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"client_email":   "sender@demo-auth.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      tokenURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// jwtScope is the scope claim of a JWT assertion (its signature is not checked).
func jwtScope(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token request assertion %q is not a JWT", jwt)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var claims struct {
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return claims.Scope
}
