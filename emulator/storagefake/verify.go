package storagefake

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// V4 query parameters (https://cloud.google.com/storage/docs/authentication/signatures).
const (
	qAlgorithm     = "X-Goog-Algorithm"
	qCredential    = "X-Goog-Credential"
	qDate          = "X-Goog-Date"
	qExpires       = "X-Goog-Expires"
	qSignedHeaders = "X-Goog-SignedHeaders"
	qSignature     = "X-Goog-Signature"

	algorithmRSA    = "GOOG4-RSA-SHA256"
	dateFormat      = "20060102T150405Z"
	maxExpires      = 604800 // seven days, the V4 limit
	maxClockSkew    = 15 * time.Minute
	lengthRange     = "x-goog-content-length-range"
	contentSHA256   = "x-goog-content-sha256"
	unsignedPayload = "UNSIGNED-PAYLOAD"

	// maxDrain bounds how much of a refused upload is read and discarded.
	maxDrain = 1 << 30
)

// verifier checks V4 signed URLs (RSA keys only, as service accounts sign).
type verifier struct {
	now func() time.Time
	log *slog.Logger

	mu   sync.RWMutex
	keys map[string][]*rsa.PublicKey // by access id (service-account e-mail)
}

func newVerifier(now func() time.Time, log *slog.Logger) *verifier {
	return &verifier{now: now, log: log, keys: make(map[string][]*rsa.PublicKey)}
}

func (v *verifier) trustKey(accessID string, key *rsa.PublicKey) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys[accessID] = append(v.keys[accessID], key)
}

func (v *verifier) keysFor(accessID string) []*rsa.PublicKey {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.keys[accessID]
}

// wrap verifies every request that carries signing parameters and answers a
// failure with a Cloud Storage XML error. CORS preflights and unsigned
// requests (the admin path) go straight to next.
func (v *verifier) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if q.Has("GoogleAccessId") && q.Has("Signature") {
			// fake-gcs would serve a V2 GET without any check; refuse loudly
			// rather than let a test pass on an unchecked URL.
			v.reject(w, r, errorf(http.StatusBadRequest, "InvalidArgument",
				"V2 signed URLs are not verified by storagefake; sign with storage.SigningSchemeV4"))
			return
		}
		if !isV4Signed(q) {
			next.ServeHTTP(w, r)
			return
		}
		if err := v.verify(r, q); err != nil {
			v.reject(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isV4Signed(q url.Values) bool {
	for _, k := range []string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature} {
		if q.Has(k) {
			return true
		}
	}
	return false
}

func (v *verifier) reject(w http.ResponseWriter, r *http.Request, e *gcsError) {
	// Read what the client is still sending before answering: a server that
	// answers early and closes makes many clients report a broken pipe
	// instead of this error (net/http closes after 256 KiB left unread).
	io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
	v.log.LogAttrs(r.Context(), slog.LevelInfo, "signed URL rejected",
		slog.String("method", r.Method), slog.String("path", r.URL.EscapedPath()),
		slog.Int("status", e.status), slog.String("code", e.Code), slog.String("details", e.Details))
	e.write(w)
}

// verify checks one signed request in the order Cloud Storage reports
// problems: malformed parameters and expiry (400), then the credential and the
// signature (403), then the upload size (400).
func (v *verifier) verify(r *http.Request, q url.Values) *gcsError {
	for _, k := range []string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature} {
		if q.Get(k) == "" {
			return errorf(http.StatusBadRequest, "InvalidArgument", "missing query parameter %s", k)
		}
	}
	if alg := q.Get(qAlgorithm); alg != algorithmRSA {
		return errorf(http.StatusBadRequest, "InvalidArgument", "unsupported %s %q (storagefake knows only %s)", qAlgorithm, alg, algorithmRSA)
	}
	date, err := time.Parse(dateFormat, q.Get(qDate))
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidArgument", "malformed %s %q", qDate, q.Get(qDate))
	}
	expires, err := strconv.Atoi(q.Get(qExpires))
	if err != nil || expires < 1 || expires > maxExpires {
		return errorf(http.StatusBadRequest, "InvalidArgument", "%s must be between 1 and %d seconds, got %q", qExpires, maxExpires, q.Get(qExpires))
	}
	accessID, scope, gerr := parseCredential(q.Get(qCredential), date)
	if gerr != nil {
		return gerr
	}
	now := v.now()
	if now.After(date.Add(time.Duration(expires) * time.Second)) {
		return errorf(http.StatusBadRequest, "ExpiredToken", "Request has expired: %s", date.Add(time.Duration(expires)*time.Second).UTC().Format(time.RFC3339))
	}
	if date.After(now.Add(maxClockSkew)) {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Request is not yet valid: %s is in the future", q.Get(qDate))
	}
	keys := v.keysFor(accessID)
	if len(keys) == 0 {
		return errorf(http.StatusForbidden, "AccessDenied", "no trusted key for %q (register it with Config.Signers or Server.TrustKey)", accessID)
	}
	sig, err := hex.DecodeString(q.Get(qSignature))
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidArgument", "%s is not hex", qSignature)
	}

	canonical, gerr := canonicalRequest(r, q)
	if gerr != nil {
		return gerr
	}
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := algorithmRSA + "\n" + q.Get(qDate) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	digest := sha256.Sum256([]byte(stringToSign))
	verified := false
	for _, key := range keys {
		if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		e := errorf(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.")
		e.StringToSign, e.CanonicalRequest = stringToSign, canonical
		return e
	}
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		return checkLengthRange(r)
	}
	return nil
}

// parseCredential splits "ACCESS_ID/YYYYMMDD/LOCATION/storage/goog4_request"
// into the access id and the credential scope (the part after it).
func parseCredential(cred string, date time.Time) (accessID, scope string, _ *gcsError) {
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "", "", errorf(http.StatusBadRequest, "InvalidArgument", "malformed %s %q", qCredential, cred)
	}
	n := len(parts)
	accessID = strings.Join(parts[:n-4], "/")
	day, service, terminator := parts[n-4], parts[n-2], parts[n-1]
	if accessID == "" || service != "storage" || terminator != "goog4_request" {
		return "", "", errorf(http.StatusBadRequest, "InvalidArgument", "malformed %s %q", qCredential, cred)
	}
	if day != date.Format("20060102") {
		return "", "", errorf(http.StatusBadRequest, "InvalidArgument", "credential date %s does not match %s", day, date.Format(dateFormat))
	}
	return accessID, strings.Join(parts[n-4:], "/"), nil
}

// canonicalRequest rebuilds the canonical request the way
// cloud.google.com/go/storage v1.70 signs it (storage.go, signedURLV4):
//
//	METHOD
//	/path, each segment query-escaped, "+" written %20
//	query without X-Goog-Signature, sorted, "+" written %20
//	name:value per signed header (host without port), blank line
//	signed header names
//	UNSIGNED-PAYLOAD (or the signed x-goog-content-sha256)
func canonicalRequest(r *http.Request, q url.Values) (string, *gcsError) {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(canonicalPath(r.URL.Path) + "\n")

	query := url.Values{}
	for k, vs := range q {
		if k != qSignature {
			query[k] = vs
		}
	}
	b.WriteString(strings.ReplaceAll(query.Encode(), "+", "%20") + "\n")

	signed := q.Get(qSignedHeaders)
	names := strings.Split(signed, ";")
	sort.Strings(names)
	hasHost := false
	payload := unsignedPayload
	for _, name := range names {
		value, ok := headerValue(r, name)
		if !ok {
			return "", errorf(http.StatusForbidden, "SignatureDoesNotMatch", "signed header %q is missing from the request", name)
		}
		switch name {
		case "host":
			hasHost = true
		case contentSHA256:
			payload = value
		}
		b.WriteString(name + ":" + value + "\n")
	}
	if !hasHost {
		return "", errorf(http.StatusBadRequest, "InvalidArgument", "%s must include host", qSignedHeaders)
	}
	b.WriteString("\n" + signed + "\n" + payload)
	return b.String(), nil
}

// canonicalPath re-encodes the decoded path as the Go SDK's pathEncodeV4
// does, so any equivalent escaping the client chose gives the same result.
func canonicalPath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.QueryEscape(s)
	}
	return strings.ReplaceAll(strings.Join(segs, "/"), "+", "%20")
}

// headerValue is the canonical value of a signed header: the Host without its
// port (the SDK signs u.Hostname()), other headers' values joined by commas,
// trimmed, inner whitespace collapsed.
func headerValue(r *http.Request, name string) (string, bool) {
	if name != strings.ToLower(name) || name == "" {
		return "", false
	}
	if name == "host" {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return strings.ToLower(host), host != ""
	}
	vals := r.Header.Values(name)
	if len(vals) == 0 && name == "content-length" && r.ContentLength >= 0 {
		vals = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	if len(vals) == 0 {
		return "", false
	}
	return strings.Join(strings.Fields(strings.Join(vals, ",")), " "), true
}

// checkLengthRange enforces x-goog-content-length-range ("min,max", bytes)
// against the body actually sent. A body of unknown length (chunked) is
// buffered, at most max+1 bytes, to measure it.
func checkLengthRange(r *http.Request) *gcsError {
	hdr := r.Header.Get(lengthRange)
	if hdr == "" {
		return nil
	}
	lo, hi, ok := parseRange(hdr)
	if !ok {
		return errorf(http.StatusBadRequest, "InvalidArgument", "malformed %s %q", lengthRange, hdr)
	}
	size := r.ContentLength
	if size < 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, hi+1))
		if err != nil {
			return errorf(http.StatusBadRequest, "IncompleteBody", "read upload body: %v", err)
		}
		size = int64(len(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = size
	}
	switch {
	case size > hi:
		e := errorf(http.StatusBadRequest, "EntityTooLarge", "Content-length exceeds upper bound on range")
		e.Message = "Your proposed upload is larger than the maximum object size specified in your Policy Document."
		return e
	case size < lo:
		e := errorf(http.StatusBadRequest, "EntityTooSmall", "Content-length is smaller than lower bound on range")
		e.Message = "Your proposed upload is smaller than the minimum object size specified in your Policy Document."
		return e
	}
	return nil
}

func parseRange(s string) (lo, hi int64, ok bool) {
	a, b, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	hi, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err1 != nil || err2 != nil || lo < 0 || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

// gcsError is a Cloud Storage XML API error body.
type gcsError struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string   `xml:"Code"`
	Message          string   `xml:"Message"`
	Details          string   `xml:"Details,omitempty"`
	StringToSign     string   `xml:"StringToSign,omitempty"`
	CanonicalRequest string   `xml:"CanonicalRequest,omitempty"`
	status           int
}

// errorf builds an error with Cloud Storage's generic message for the status
// ("Invalid argument." / "Access denied.") and the specifics in Details.
func errorf(status int, code, format string, args ...any) *gcsError {
	msg := "Invalid argument."
	if status == http.StatusForbidden {
		msg = "Access denied."
	}
	return &gcsError{status: status, Code: code, Message: msg, Details: fmt.Sprintf(format, args...)}
}

func (e *gcsError) Error() string { return e.Code + ": " + e.Details }

func (e *gcsError) write(w http.ResponseWriter) {
	body, err := xml.Marshal(e)
	if err != nil { // cannot happen for this struct
		http.Error(w, e.Error(), e.status)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(e.status)
	io.WriteString(w, "<?xml version='1.0' encoding='UTF-8'?>")
	w.Write(body)
}
