package storagefake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ifGenerationMatch is the XML API's generation precondition header: the request
// proceeds only if the object's live generation equals its value, and 0 means
// "no live object" (create once, never replace).
const ifGenerationMatch = "x-goog-if-generation-match"

// Cloud Storage's XML API answers for a failed precondition and a missing object.
const (
	conditionNotMetMessage = "At least one of the pre-conditions you specified did not hold."
	noSuchKeyMessage       = "The specified key does not exist."
)

// xmlObjects completes fake-gcs-server's XML API where Hearth relies on it, behind
// the verifier (so every signed request reaching it was verified):
//
//   - A V4 signed PUT carrying x-goog-if-generation-match is stored only if the
//     precondition holds, atomically with the write, and answers 412
//     ConditionNotMet otherwise. fake-gcs v1.56.1 ignores the header on signed
//     uploads; its JSON API's simple upload honours the equivalent ifGenerationMatch
//     parameter inside the backend's lock, so the PUT is served as that upload.
//   - An object read (GET/HEAD, also pinned with generation=N) that finds nothing
//     answers 404 with Cloud Storage's XML NoSuchKey error instead of fake-gcs's
//     plain text.
//
// Everything else goes to next unchanged. publicHost is the server's own host:port;
// requests reach this handler with r.Host rewritten to it (or bucket.publicHost).
func xmlObjects(publicHost string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, object, ok := xmlObjectOf(publicHost, r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.Method == http.MethodPut && isV4Signed(r.URL.Query()) && len(r.Header.Values(ifGenerationMatch)) > 0:
			conditionalPut(w, r, bucket, object, next)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			next.ServeHTTP(&notFoundXML{ResponseWriter: w, head: r.Method == http.MethodHead, bucket: bucket, object: object}, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// xmlObjectOf returns the bucket and object an XML API object request names:
// path style (publicHost/bucket/object) or virtual-hosted (bucket.publicHost/object).
// The JSON API and fake-gcs's own paths are not XML object requests.
func xmlObjectOf(publicHost string, r *http.Request) (bucket, object string, ok bool) {
	path := r.URL.Path
	for _, p := range []string{"/storage/v1/", "/upload/", "/download/", "/batch/", "/_internal/"} {
		if strings.HasPrefix(path, p) {
			return "", "", false
		}
	}
	if b, found := strings.CutSuffix(r.Host, "."+publicHost); found {
		object = strings.TrimPrefix(path, "/")
		return b, object, b != "" && object != ""
	}
	bucket, object, found := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, object, found && bucket != "" && object != ""
}

// conditionalPut stores a signed PUT through fake-gcs's simple upload with the
// request's precondition, and turns a failed precondition into Cloud Storage's XML
// 412 ConditionNotMet.
func conditionalPut(w http.ResponseWriter, r *http.Request, bucket, object string, next http.Handler) {
	raw := strings.Join(r.Header.Values(ifGenerationMatch), ",")
	gen, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || gen < 0 {
		drain(r)
		errorf(http.StatusBadRequest, "InvalidArgument", "invalid %s %q: want a generation number", ifGenerationMatch, raw).write(w)
		return
	}
	q := url.Values{
		"uploadType":        {"media"},
		"name":              {object},
		"ifGenerationMatch": {strconv.FormatInt(gen, 10)},
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" {
		q.Set("contentEncoding", ce) // the signed PUT takes it from the header
	}
	up := r.Clone(r.Context())
	up.Method = http.MethodPost
	up.URL = &url.URL{Path: "/upload/storage/v1/b/" + bucket + "/o", RawQuery: q.Encode()}
	up.RequestURI = ""
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, up)
	if rec.status == http.StatusPreconditionFailed {
		e := &gcsError{status: http.StatusPreconditionFailed, Code: "ConditionNotMet", Message: conditionNotMetMessage,
			Details: fmt.Sprintf("%s: %d does not match the live generation of %s/%s", ifGenerationMatch, gen, bucket, object)}
		e.write(w)
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// drain reads (a bounded amount of) what the client is still sending, as verifier.reject
// does, before an early answer.
func drain(r *http.Request) {
	var buf [32 << 10]byte
	for n := int64(0); n < maxDrain; {
		k, err := r.Body.Read(buf[:])
		n += int64(k)
		if err != nil {
			return
		}
	}
}

// recorder keeps the (small, JSON) answer of fake-gcs's upload handler.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// notFoundXML replaces fake-gcs's plain-text 404 of an object read with Cloud
// Storage's XML NoSuchKey error; other answers pass through.
type notFoundXML struct {
	http.ResponseWriter
	head           bool
	bucket, object string
	replaced       bool
}

func (n *notFoundXML) WriteHeader(status int) {
	if status != http.StatusNotFound {
		n.ResponseWriter.WriteHeader(status)
		return
	}
	n.replaced = true
	e := &gcsError{status: status, Code: "NoSuchKey", Message: noSuchKeyMessage,
		Details: "No such object: " + n.bucket + "/" + n.object}
	if n.head {
		n.ResponseWriter.Header().Set("Content-Type", "application/xml; charset=UTF-8")
		n.ResponseWriter.WriteHeader(status)
		return
	}
	n.ResponseWriter.Header().Del("Content-Length")
	n.ResponseWriter.Header().Del("X-Content-Type-Options")
	e.write(n.ResponseWriter)
}

func (n *notFoundXML) Write(b []byte) (int, error) {
	if n.replaced {
		return len(b), nil // fake-gcs's own text
	}
	return n.ResponseWriter.Write(b)
}
