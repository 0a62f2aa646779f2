package admin

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/model"
)

// FuzzDecodeBody: whatever the body, decoding returns nil or a 400 API
// error (never a panic, never another error), and a body it accepts
// round-trips through the request type.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"title":"Team","memberIds":["a","b"]}`, `{"userId":"u1"}`, `{"token":"t","platform":"ios","locale":"en-US"}`,
		`{"claims":{"admin":true},"reason":"x"}`, `{}`, ``, ` `, `null`, `[]`, `"x"`, `1`, `{`, `}`, `{"title":}`,
		`{"title":"a"} {"title":"b"}`, `{"title":"a"}x`, `{"Title":"a"}`, `{"title":5}`, `{"memberIds":"a"}`,
		`{"memberIds":[1,2]}`, `{"claims":[1]}`, `{"title":"\u0000"}`, "{\"title\":\"\xff\"}", `{"a":{"b":{"c":[[[[]]]]}}}`,
		`{"title":"x","title":"y"}`, `{"reason":null}`, `{"userId":"` + strings.Repeat("a", 300) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []func() any{
			func() any { return &createRoomRequest{} }, func() any { return &directRoomRequest{} },
			func() any { return &addMembersRequest{} }, func() any { return &roleRequest{} },
			func() any { return &deviceRequest{} }, func() any { return &claimsRequest{} },
			func() any { return &reasonRequest{} },
		}
		for _, newDst := range targets {
			dst := newDst()
			err := decodeBody(body, dst)
			if err == nil {
				raw, merr := json.Marshal(dst)
				if merr != nil {
					t.Fatalf("decodeBody(%q) accepted a value that does not marshal: %v", body, merr)
				}
				if err := decodeBody(raw, newDst()); err != nil {
					t.Fatalf("decodeBody(%q) = nil, but its re-encoding %s fails: %v", body, raw, err)
				}
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 || ae.code != CodeInvalidArgument || ae.message == "" {
				t.Fatalf("decodeBody(%q, %T) = %v, want a 400 INVALID_ARGUMENT", body, dst, err)
			}
		}
	})
}

// FuzzRoomIDPath sends any string as the roomId of a route through the
// real router: a valid room id is 404 (no such room), anything else 400 —
// or 404 when it holds a '/' and so no longer matches the route — and
// never a 5xx.
func FuzzRoomIDPath(f *testing.F) {
	for _, s := range []string{
		"r1", "", ".", "..", "../admin", "a/b", "a_b", "__x__", "___", "dm-0123", "%2e%2e", "a b", "a\x00b", "ü",
		strings.Repeat("a", model.MaxIDLen), strings.Repeat("a", model.MaxIDLen+1), "a?b=c", "a#b", "-", "A-z09",
	} {
		f.Add(s)
	}
	// No rate limit: the fuzzer calls far faster than any user.
	ts := newTestServer(f, func(c *Config, d *Deps) { c.RateLimit = 0 })
	alice := ts.newUser("Alice")
	f.Fuzz(func(t *testing.T, id string) {
		tt := *ts
		tt.t = t
		path := "/v1/rooms/" + url.PathEscape(id) + "/messages"
		resp := tt.do(req{method: "GET", path: path, token: alice.Token})
		valid := model.ValidateRoomID("roomId", id) == nil
		switch {
		case resp.Code >= 500:
			t.Fatalf("GET %s = %s, want no 5xx", path, resp)
		case valid && resp.Code != 404:
			t.Fatalf("GET %s (valid id) = %s, want 404 room not found", path, resp)
		case !valid && resp.Code != 400 && !(resp.Code == 404 && strings.Contains(id, "/")):
			t.Fatalf("GET %s (invalid id) = %s, want 400", path, resp)
		}
		if resp.errorBody().Code == "" {
			t.Fatalf("GET %s: body %q is not the error shape", path, resp.Body)
		}
	})
}
