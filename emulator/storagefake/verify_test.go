package storagefake_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

func TestSignedUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, port, _ := strings.Cut(e.srv.Addr(), ":")
	tests := []struct {
		name, object, contentType string
		hostname                  string // signed and dialled host; default srv.Addr()
	}{
		{name: "plain", object: "media/r1/u1/a.jpg", contentType: "image/jpeg"},
		{name: "space and umlaut", object: "media/r1/u1/my photo ü.jpg", contentType: "image/jpeg"},
		{name: "plus and reserved", object: "media/r1/u1/a+b=c&d;e,f.png", contentType: "image/png"},
		{name: "unicode and marks", object: "media/r1/u1/日本語 (1)~*'!.webp", contentType: "image/webp"},
		{name: "percent hash question", object: "media/r1/u1/100% real #1?.txt", contentType: "text/plain"},
		{name: "another host name for the server", object: "media/r1/u1/via-localhost.jpg", contentType: "image/jpeg", hostname: "localhost:" + port},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte{0xAB}, 300)
			opts := e.putOptions(tc.contentType, "0,1024")
			if tc.hostname != "" {
				opts.Hostname = tc.hostname
			}
			u := sign(t, e.signer, tc.object, opts)
			if status, ge := put(t, u, body, uploadHeaders(tc.contentType, "0,1024")); status != http.StatusOK {
				t.Fatalf("PUT %s = %d %s (%s), want 200", tc.object, status, ge.Code, ge.Details)
			}
			attrs, got := e.readObject(t, tc.object)
			if attrs.ContentType != tc.contentType {
				t.Errorf("ContentType = %q, want %q", attrs.ContentType, tc.contentType)
			}
			if attrs.Size != int64(len(body)) {
				t.Errorf("Size = %d, want %d", attrs.Size, len(body))
			}
			if !bytes.Equal(got, body) {
				t.Errorf("content differs: got %d bytes", len(got))
			}
		})
	}
}

func TestSignedUploadRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stranger, err := storagefake.NewSigner("stranger@demo-hearth.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := storagefake.NewTestSigner() // the trusted access id, another key
	if err != nil {
		t.Fatal(err)
	}
	const ct = "image/jpeg"
	small := bytes.Repeat([]byte("x"), 100)
	tests := []struct {
		name       string
		signer     *storagefake.Signer // default e.signer
		signRange  string              // default "0,1024"
		url        func(string) string // alters the signed URL
		method     string              // default PUT
		headers    map[string]string   // default the signed ones
		body       func() io.Reader    // default small; a non-*bytes.Reader is sent chunked
		advance    time.Duration       // verifier clock moved before the request
		wantStatus int
		wantCode   string
	}{
		{name: "still valid just before expiry", advance: 14 * time.Minute, wantStatus: 200},
		{name: "tampered signature", url: tamperSignature, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "expired", advance: 16 * time.Minute, wantStatus: 400, wantCode: "ExpiredToken"},
		{name: "wrong content type", headers: uploadHeaders("text/html", "0,1024"), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "content type missing", headers: map[string]string{"x-goog-content-length-range": "0,1024"}, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "body larger than range", body: func() io.Reader { return bytes.NewReader(make([]byte, 2000)) }, wantStatus: 400, wantCode: "EntityTooLarge"},
		{name: "body far larger than range", body: func() io.Reader { return bytes.NewReader(make([]byte, 8<<20)) }, wantStatus: 400, wantCode: "EntityTooLarge"},
		{name: "chunked body larger than range", body: func() io.Reader { return io.MultiReader(bytes.NewReader(make([]byte, 2000))) }, wantStatus: 400, wantCode: "EntityTooLarge"},
		{name: "body smaller than range", signRange: "500,1024", headers: uploadHeaders(ct, "500,1024"), wantStatus: 400, wantCode: "EntityTooSmall"},
		{name: "range header missing", headers: map[string]string{"Content-Type": ct}, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "range header changed", headers: uploadHeaders(ct, "0,999999"), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "different object path", url: withPath("/" + testBucket + "/media/r1/u1/other.jpg"), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "different bucket", url: withPath("/other-bucket/media/r1/u1/x.jpg"), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "unknown signer", signer: stranger, wantStatus: 403, wantCode: "AccessDenied"},
		{name: "untrusted key for a known signer", signer: impostor, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "host name not signed", url: withHost("localhost"), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "GET with an upload URL", method: http.MethodGet, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "expiry over seven days", url: withQuery("X-Goog-Expires", "604801"), wantStatus: 400, wantCode: "InvalidArgument"},
		{name: "signature removed", url: withQuery("X-Goog-Signature", ""), wantStatus: 400, wantCode: "InvalidArgument"},
		{name: "unsupported algorithm", url: withQuery("X-Goog-Algorithm", "GOOG4-HMAC-SHA256"), wantStatus: 400, wantCode: "InvalidArgument"},
	}
	for i, tc := range tests {
		// Not parallel: the expiry cases move the shared verifier clock.
		t.Run(tc.name, func(t *testing.T) {
			object := "media/r1/u1/refused-" + string(rune('a'+i)) + ".jpg"
			signer, signRange, method := tc.signer, tc.signRange, tc.method
			if signer == nil {
				signer = e.signer
			}
			if signRange == "" {
				signRange = "0,1024"
			}
			if method == "" {
				method = http.MethodPut
			}
			headers := tc.headers
			if headers == nil {
				headers = uploadHeaders(ct, signRange)
			}
			u := sign(t, signer, object, e.putOptions(ct, signRange))
			if tc.url != nil {
				u = tc.url(u)
			}
			var body io.Reader = bytes.NewReader(small)
			if tc.body != nil {
				body = tc.body()
			}
			e.clock.Advance(tc.advance)
			defer e.clock.Advance(-tc.advance)

			req, err := http.NewRequestWithContext(t.Context(), method, u, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			status, _, ge := send(t, req)
			if status != tc.wantStatus || ge.Code != tc.wantCode {
				t.Fatalf("%s = %d %q (%s), want %d %q", tc.name, status, ge.Code, ge.Details, tc.wantStatus, tc.wantCode)
			}
			if tc.wantStatus >= 400 {
				_, err := e.gcs.Bucket(testBucket).Object(object).Attrs(t.Context())
				if !errors.Is(err, storage.ErrObjectNotExist) {
					t.Errorf("after a refused upload, Attrs(%q) err = %v, want ErrObjectNotExist", object, err)
				}
			}
		})
	}
}

func TestSignatureMismatchExplains(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.signPut(t, "media/r1/u1/explain.jpg", "image/jpeg", "0,1024")
	status, ge := put(t, u, []byte("x"), uploadHeaders("image/png", "0,1024"))
	if status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", status)
	}
	// Like Cloud Storage, the error shows what the server signed, which is how
	// a developer finds the header they got wrong.
	if !strings.Contains(ge.CanonicalRequest, "content-type:image/png") || !strings.HasPrefix(ge.StringToSign, "GOOG4-RSA-SHA256\n") {
		t.Errorf("error body lacks the canonical request or string to sign: %+v", ge)
	}
	if ge.Message != "Access denied." {
		t.Errorf("Message = %q, want %q", ge.Message, "Access denied.")
	}
}

func TestV2SignedURLRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.writeObject(t, "media/r1/u1/v2.jpg", "image/jpeg", []byte("x"))
	u, err := storage.SignedURL(testBucket, "media/r1/u1/v2.jpg", &storage.SignedURLOptions{
		Scheme:         storage.SigningSchemeV2,
		Method:         http.MethodGet,
		GoogleAccessID: e.signer.AccessID(),
		PrivateKey:     e.signer.PrivateKeyPEM(),
		Expires:        time.Now().Add(time.Minute),
		Hostname:       e.srv.Addr(),
		Insecure:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	u = "http://" + strings.TrimPrefix(u, "https://") // V2 signing ignores Insecure
	if status, _, ge := get(t, u); status != http.StatusBadRequest || ge.Code != "InvalidArgument" {
		t.Errorf("GET V2 URL = %d %q, want 400 InvalidArgument", status, ge.Code)
	}
}

func TestSignedDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const object = "media/r1/u1/photo ü+1.jpg"
	want := []byte("jpeg bytes")
	e.writeObject(t, object, "image/jpeg", want)
	stranger, err := storagefake.NewSigner("stranger@demo-hearth.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		url        func() string
		advance    time.Duration
		wantStatus int
		wantCode   string
	}{
		{name: "valid", url: func() string { return e.signGet(t, object) }, wantStatus: 200},
		{name: "tampered signature", url: func() string { return tamperSignature(e.signGet(t, object)) }, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "expired", url: func() string { return e.signGet(t, object) }, advance: 6 * time.Minute, wantStatus: 400, wantCode: "ExpiredToken"},
		{name: "other object", url: func() string { return withPath("/" + testBucket + "/media/r1/u1/other.jpg")(e.signGet(t, object)) }, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "upload URL used to read", url: func() string { return e.signPut(t, object, "image/jpeg", "0,10") }, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "unknown signer", url: func() string {
			return sign(t, stranger, object, storage.SignedURLOptions{Method: http.MethodGet, Expires: time.Now().Add(time.Minute), Hostname: e.srv.Addr(), Insecure: true})
		}, wantStatus: 403, wantCode: "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url()
			e.clock.Advance(tc.advance)
			defer e.clock.Advance(-tc.advance)
			status, body, ge := get(t, u)
			if status != tc.wantStatus || ge.Code != tc.wantCode {
				t.Fatalf("GET = %d %q (%s), want %d %q", status, ge.Code, ge.Details, tc.wantStatus, tc.wantCode)
			}
			if status == http.StatusOK && !bytes.Equal(body, want) {
				t.Errorf("GET body = %q, want %q", body, want)
			}
		})
	}
}

func TestUnsignedAdminPathPassesThrough(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// JSON API write (resumable for a larger object), XML read: no signature.
	body := bytes.Repeat([]byte("abc"), 200_000)
	w := e.gcs.Bucket(testBucket).Object("seed/big.bin").NewWriter(t.Context())
	w.ChunkSize = 256 * 1024 // forces a resumable upload
	w.ContentType = "application/octet-stream"
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("resumable write: %v", err)
	}
	attrs, got := e.readObject(t, "seed/big.bin")
	if attrs.Size != int64(len(body)) || !bytes.Equal(got, body) {
		t.Errorf("read back %d bytes (attrs.Size %d), want %d", len(got), attrs.Size, len(body))
	}
}

// tamperSignature flips the last hex digit of X-Goog-Signature.
func tamperSignature(u string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	sig := []byte(q.Get("X-Goog-Signature"))
	if sig[len(sig)-1] == '0' {
		sig[len(sig)-1] = '1'
	} else {
		sig[len(sig)-1] = '0'
	}
	q.Set("X-Goog-Signature", string(sig))
	p.RawQuery = q.Encode()
	return p.String()
}

// withQuery sets (or, for "", removes) a query parameter.
func withQuery(key, value string) func(string) string {
	return func(u string) string {
		p, _ := url.Parse(u)
		q := p.Query()
		if value == "" {
			q.Del(key)
		} else {
			q.Set(key, value)
		}
		p.RawQuery = q.Encode()
		return p.String()
	}
}

// withPath replaces the (unescaped) path.
func withPath(path string) func(string) string {
	return func(u string) string {
		p, _ := url.Parse(u)
		p.Path, p.RawPath = path, ""
		return p.String()
	}
}

// withHost keeps the port and replaces the host name.
func withHost(name string) func(string) string {
	return func(u string) string {
		p, _ := url.Parse(u)
		p.Host = name + ":" + p.Port()
		return p.String()
	}
}
