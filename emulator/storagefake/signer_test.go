package storagefake_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

func TestServiceAccountFileRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := storagefake.NewTestSigner()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := s.WriteServiceAccountFile(path, "demo-hearth"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := storagefake.LoadSigner(data)
	if err != nil {
		t.Fatalf("LoadSigner: %v", err)
	}
	if got.AccessID() != s.AccessID() || !got.PublicKey().Equal(s.PublicKey()) {
		t.Errorf("LoadSigner = %s with another key, want %s with the same key", got.AccessID(), s.AccessID())
	}
}

func TestLoadSignerRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json string }{
		{"not json", "nope"},
		{"not a service account", `{"type":"authorized_user","client_email":"a@b","private_key":"x"}`},
		{"no email", `{"type":"service_account","private_key":"x"}`},
		{"key not PEM", `{"type":"service_account","client_email":"a@b","private_key":"x"}`},
		{"key not a key", `{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := storagefake.LoadSigner([]byte(tc.json)); err == nil {
				t.Errorf("LoadSigner(%s) = nil error, want an error", tc.json)
			}
		})
	}
}

// TestClientSignsWithServiceAccountJSON is the backend's production path: a
// storage client built from the service-account key signs with
// BucketHandle.SignedURL, no GoogleAccessID or PrivateKey given.
func TestClientSignsWithServiceAccountJSON(t *testing.T) { // not parallel: t.Setenv below
	e := newEnv(t)
	saJSON, err := e.signer.ServiceAccountJSON("demo-hearth")
	if err != nil {
		t.Fatal(err)
	}
	// The production path: under STORAGE_EMULATOR_HOST (as in `make test`) the storage
	// library drops the credentials and could not sign by itself.
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	// Only used to sign: its API calls would try to fetch a token from Google.
	signing, err := storage.NewClient(t.Context(),
		option.WithAuthCredentialsJSON(option.ServiceAccount, saJSON),
		option.WithEndpoint(e.srv.URL()+"/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer signing.Close()
	const object = "media/r1/u1/from-client.jpg"
	u, err := signing.Bucket(testBucket).SignedURL(object, &storage.SignedURLOptions{
		Scheme:      storage.SigningSchemeV4,
		Method:      http.MethodPut,
		Expires:     time.Now().Add(10 * time.Minute),
		ContentType: "image/jpeg",
		Headers:     []string{"x-goog-content-length-range:0,100"},
		Insecure:    true, // still needed against an http endpoint
	})
	if err != nil {
		t.Fatalf("BucketHandle.SignedURL: %v", err)
	}
	if status, ge := put(t, u, []byte("jpeg"), uploadHeaders("image/jpeg", "0,100")); status != http.StatusOK {
		t.Fatalf("PUT = %d %s (%s), want 200", status, ge.Code, ge.Details)
	}
	if attrs, _ := e.readObject(t, object); attrs.Size != 4 {
		t.Errorf("Size = %d, want 4", attrs.Size)
	}
}
