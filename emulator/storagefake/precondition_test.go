package storagefake_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
)

const ifGenerationMatch = "x-goog-if-generation-match"

// signPutIf signs a PUT like Hearth's upload URLs, with x-goog-if-generation-match
// (generation) among the signed headers, and returns the URL and the headers to send.
func (e *env) signPutIf(t *testing.T, object, contentType, lengthRange, generation string) (string, map[string]string) {
	t.Helper()
	opts := e.putOptions(contentType, lengthRange)
	opts.Headers = append(opts.Headers, ifGenerationMatch+":"+generation)
	h := uploadHeaders(contentType, lengthRange)
	h[ifGenerationMatch] = generation
	return sign(t, e.signer, object, opts), h
}

// TestIfGenerationMatchZero: a signed URL with x-goog-if-generation-match: 0 creates
// its object once; replaying it is refused as Cloud Storage refuses it (412
// ConditionNotMet, XML error body) and the stored object is unchanged.
func TestIfGenerationMatchZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const object, ct = "media/r1/u1/once.jpg", "image/jpeg"
	u, h := e.signPutIf(t, object, ct, "4,4", "0")
	if status, ge := put(t, u, []byte("good"), h); status != http.StatusOK {
		t.Fatalf("first PUT = %d %s (%s), want 200", status, ge.Code, ge.Details)
	}
	status, ge := put(t, u, []byte("evil"), h)
	if status != http.StatusPreconditionFailed || ge.Code != "ConditionNotMet" ||
		ge.Message != "At least one of the pre-conditions you specified did not hold." {
		t.Errorf("replayed PUT = %d %s %q, want 412 ConditionNotMet with Cloud Storage's message", status, ge.Code, ge.Message)
	}
	if _, got := e.readObject(t, object); string(got) != "good" {
		t.Errorf("stored %q after the replay, want %q", got, "good")
	}
}

// TestIfGenerationMatchRules: the precondition header is a signed header like any
// other (the client must send it, unchanged), it matches the live generation, and a
// URL signed without it overwrites as before.
func TestIfGenerationMatchRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const ct = "text/plain"

	t.Run("signed but not sent", func(t *testing.T) {
		u, h := e.signPutIf(t, "media/r/u/a.txt", ct, "1,9", "0")
		delete(h, ifGenerationMatch)
		if status, ge := put(t, u, []byte("x"), h); status != http.StatusForbidden || ge.Code != "SignatureDoesNotMatch" {
			t.Errorf("PUT = %d %s, want 403 SignatureDoesNotMatch", status, ge.Code)
		}
	})
	t.Run("sent with another value", func(t *testing.T) {
		u, h := e.signPutIf(t, "media/r/u/b.txt", ct, "1,9", "0")
		h[ifGenerationMatch] = "12345"
		if status, ge := put(t, u, []byte("x"), h); status != http.StatusForbidden || ge.Code != "SignatureDoesNotMatch" {
			t.Errorf("PUT = %d %s, want 403 SignatureDoesNotMatch", status, ge.Code)
		}
	})
	t.Run("not a number", func(t *testing.T) {
		u, h := e.signPutIf(t, "media/r/u/c.txt", ct, "1,9", "zero")
		if status, ge := put(t, u, []byte("x"), h); status != http.StatusBadRequest || ge.Code != "InvalidArgument" {
			t.Errorf("PUT = %d %s, want 400 InvalidArgument", status, ge.Code)
		}
		if _, err := e.gcs.Bucket(testBucket).Object("media/r/u/c.txt").Attrs(t.Context()); !errors.Is(err, storage.ErrObjectNotExist) {
			t.Errorf("Attrs = %v, want nothing stored", err)
		}
	})
	t.Run("live generation", func(t *testing.T) {
		const object = "media/r/u/d.txt"
		e.writeObject(t, object, ct, []byte("one"))
		attrs, _ := e.readObject(t, object)
		stale, sh := e.signPutIf(t, object, ct, "1,9", strconv.FormatInt(attrs.Generation-1, 10))
		if status, ge := put(t, stale, []byte("two"), sh); status != http.StatusPreconditionFailed || ge.Code != "ConditionNotMet" {
			t.Errorf("PUT with a stale generation = %d %s, want 412 ConditionNotMet", status, ge.Code)
		}
		live, lh := e.signPutIf(t, object, ct, "1,9", strconv.FormatInt(attrs.Generation, 10))
		if status, ge := put(t, live, []byte("three"), lh); status != http.StatusOK {
			t.Errorf("PUT with the live generation = %d %s (%s), want 200", status, ge.Code, ge.Details)
		}
		if _, got := e.readObject(t, object); string(got) != "three" {
			t.Errorf("stored %q, want three", got)
		}
	})
	t.Run("URL without the precondition overwrites", func(t *testing.T) {
		const object = "media/r/u/e.txt"
		u := e.signPut(t, object, ct, "1,9")
		for _, body := range []string{"first", "second"} {
			if status, ge := put(t, u, []byte(body), uploadHeaders(ct, "1,9")); status != http.StatusOK {
				t.Fatalf("PUT %s = %d %s (%s), want 200", body, status, ge.Code, ge.Details)
			}
		}
		if _, got := e.readObject(t, object); string(got) != "second" {
			t.Errorf("stored %q, want second", got)
		}
	})
	t.Run("admin writes are not signed URLs", func(t *testing.T) {
		const object = "media/r/u/f.txt"
		u, h := e.signPutIf(t, object, ct, "1,9", "0")
		if status, ge := put(t, u, []byte("upload"), h); status != http.StatusOK {
			t.Fatalf("PUT = %d %s, want 200", status, ge.Code)
		}
		attrs, _ := e.readObject(t, object)
		// The owner of the bucket replaces it with its own credentials and its own
		// precondition (the live generation), as Hearth's cleaned copy does.
		w := e.gcs.Bucket(testBucket).Object(object).If(storage.Conditions{GenerationMatch: attrs.Generation}).NewWriter(t.Context())
		w.ContentType = ct
		w.Write([]byte("cleaned"))
		if err := w.Close(); err != nil {
			t.Fatalf("admin rewrite = %v, want success", err)
		}
		if _, got := e.readObject(t, object); string(got) != "cleaned" {
			t.Errorf("stored %q, want cleaned", got)
		}
	})
}

// TestIfGenerationMatchConcurrent: of several simultaneous PUTs through one
// single-use URL exactly one creates the object.
func TestIfGenerationMatchConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const object, ct, n = "media/r/u/race.bin", "application/octet-stream", 8
	u, h := e.signPutIf(t, object, ct, "2,2", "0")
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = put(t, u, []byte{'a' + byte(i), '!'}, h)
		}()
	}
	wg.Wait()
	won, refused := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
			refused++
		}
	}
	if won != 1 || refused != n-1 {
		t.Errorf("statuses %v: %d created, %d refused; want 1 and %d", codes, won, refused, n-1)
	}
}

// TestSignedDownloadGeneration: a signed GET pinned to a generation (generation=N
// among the signed query parameters) serves that generation or answers 404
// NoSuchKey once it is gone; the pin cannot be changed without breaking the
// signature.
func TestSignedDownloadGeneration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const object = "media/r/u/pinned.txt"
	e.writeObject(t, object, "text/plain", []byte("checked"))
	first, _ := e.readObject(t, object)
	pinned := func(gen int64) string {
		return sign(t, e.signer, object, storage.SignedURLOptions{
			Method: http.MethodGet, Expires: time.Now().Add(5 * time.Minute),
			QueryParameters: url.Values{"generation": {strconv.FormatInt(gen, 10)}},
			Hostname:        e.srv.Addr(), Insecure: true,
		})
	}
	u := pinned(first.Generation)
	if status, body, ge := get(t, u); status != http.StatusOK || string(body) != "checked" {
		t.Fatalf("GET pinned = %d %q %s, want 200 checked", status, body, ge.Code)
	}

	e.writeObject(t, object, "text/plain", []byte("swapped"))
	second, _ := e.readObject(t, object)
	if status, body, ge := get(t, u); status != http.StatusNotFound || ge.Code != "NoSuchKey" {
		t.Errorf("GET pinned to a replaced generation = %d %q %s, want 404 NoSuchKey", status, body, ge.Code)
	}
	if status, body, _ := get(t, pinned(second.Generation)); status != http.StatusOK || !bytes.Equal(body, []byte("swapped")) {
		t.Errorf("GET pinned to the live generation = %d %q, want 200 swapped", status, body)
	}
	if status, _, ge := get(t, withQuery("generation", strconv.FormatInt(second.Generation, 10))(u)); status != http.StatusForbidden || ge.Code != "SignatureDoesNotMatch" {
		t.Errorf("GET with the pin changed = %d %s, want 403 SignatureDoesNotMatch", status, ge.Code)
	}
}
