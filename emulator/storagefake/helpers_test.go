package storagefake_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

const testBucket = "demo-hearth.appspot.com"

// offsetClock is the verifier's clock: real time plus an offset that tests
// move forward instead of sleeping. (The Go SDK signs with the real clock.)
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type env struct {
	srv    *storagefake.Server
	signer *storagefake.Signer
	clock  *offsetClock
	gcs    *storage.Client // admin client, unauthenticated, as under STORAGE_EMULATOR_HOST
}

// newEnv starts a Server on free ports that trusts a fresh test signer.
func newEnv(t *testing.T, tweak ...func(*storagefake.Config)) *env {
	t.Helper()
	signer, err := storagefake.NewTestSigner()
	if err != nil {
		t.Fatalf("NewTestSigner: %v", err)
	}
	clock := &offsetClock{}
	cfg := storagefake.Config{
		Addr:    "127.0.0.1:0",
		Bucket:  testBucket,
		Signers: map[string]*rsa.PublicKey{signer.AccessID(): signer.PublicKey()},
		Now:     clock.Now,
		Logger:  slog.New(slog.DiscardHandler),
	}
	for _, f := range tweak {
		f(&cfg)
	}
	// Not t.Context(): it ends before the cleanups run, which would close the server
	// (and its Pub/Sub connection) under a subscriber the cleanups have yet to stop.
	srv, err := storagefake.Start(context.WithoutCancel(t.Context()), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		// Connections the client dialled but never sent a request on (a burst of
		// parallel requests leaves some) hold http.Server.Shutdown for 5 s, as long
		// as Close waits: the client lets go of its idle ones first.
		http.DefaultClient.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := srv.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	gcs, err := storage.NewClient(t.Context(),
		option.WithEndpoint(srv.URL()+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("storage.NewClient: %v", err)
	}
	t.Cleanup(func() { gcs.Close() })
	return &env{srv: srv, signer: signer, clock: clock, gcs: gcs}
}

// putOptions are the options Hearth's POST /v1/uploads signs with.
func (e *env) putOptions(contentType, lengthRange string) storage.SignedURLOptions {
	return storage.SignedURLOptions{
		Method:      http.MethodPut,
		Expires:     time.Now().Add(15 * time.Minute),
		ContentType: contentType,
		Headers:     []string{"x-goog-content-length-range:" + lengthRange},
		Hostname:    e.srv.Addr(),
		Insecure:    true,
	}
}

func (e *env) signPut(t *testing.T, object, contentType, lengthRange string) string {
	t.Helper()
	return sign(t, e.signer, object, e.putOptions(contentType, lengthRange))
}

// signGet signs a download the way GET /v1/media/{path} does.
func (e *env) signGet(t *testing.T, object string) string {
	t.Helper()
	return sign(t, e.signer, object, storage.SignedURLOptions{
		Method:   http.MethodGet,
		Expires:  time.Now().Add(5 * time.Minute),
		Hostname: e.srv.Addr(),
		Insecure: true,
	})
}

func sign(t *testing.T, s *storagefake.Signer, object string, opts storage.SignedURLOptions) string {
	t.Helper()
	u, err := s.SignedURL(testBucket, object, opts)
	if err != nil {
		t.Fatalf("SignedURL(%q): %v", object, err)
	}
	return u
}

// writeObject stores an object through the admin (JSON API) path.
func (e *env) writeObject(t *testing.T, object, contentType string, body []byte) {
	t.Helper()
	w := e.gcs.Bucket(testBucket).Object(object).NewWriter(t.Context())
	w.ContentType = contentType
	if _, err := w.Write(body); err != nil {
		t.Fatalf("write %s: %v", object, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer %s: %v", object, err)
	}
}

// readObject reads an object back through the admin client.
func (e *env) readObject(t *testing.T, object string) (*storage.ObjectAttrs, []byte) {
	t.Helper()
	h := e.gcs.Bucket(testBucket).Object(object)
	attrs, err := h.Attrs(t.Context())
	if err != nil {
		t.Fatalf("Attrs(%q): %v", object, err)
	}
	r, err := h.NewReader(t.Context())
	if err != nil {
		t.Fatalf("NewReader(%q): %v", object, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", object, err)
	}
	return attrs, b
}

// send performs req and decodes a Cloud Storage XML error when status >= 400.
func send(t *testing.T, req *http.Request) (int, []byte, gcsError) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	var e gcsError
	if resp.StatusCode >= 400 {
		if err := xml.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s: status %d, body is not a GCS XML error: %v\n%s", req.Method, req.URL, resp.StatusCode, err, b)
		}
	}
	return resp.StatusCode, b, e
}

// put sends body to u with headers.
func put(t *testing.T, u string, body []byte, headers map[string]string) (int, gcsError) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	status, _, e := send(t, req)
	return status, e
}

// get fetches u.
func get(t *testing.T, u string) (int, []byte, gcsError) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

// gcsError is the XML error body Cloud Storage answers with.
type gcsError struct {
	Code             string
	Message          string
	Details          string
	StringToSign     string
	CanonicalRequest string
}

// uploadHeaders are the headers a client must send with a signPut URL.
func uploadHeaders(contentType, lengthRange string) map[string]string {
	return map[string]string{"Content-Type": contentType, "x-goog-content-length-range": lengthRange}
}
