package functions

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/emulator/emutest"
)

// The REST bodies of the `make dev` walkthrough in docs/functions.md, verbatim but for
// the project id: alice writes a message in "Team", bob reads it.
const (
	walkSend = `{"writes":[{
  "update":{"name":"projects/demo-hearth/databases/(default)/documents/rooms/team/messages/hello-bob-1",
    "fields":{"senderId":{"stringValue":"alice"},"type":{"stringValue":"text"},
              "text":{"stringValue":"Hi Bob, lunch at 12:30?"},
              "mentions":{"arrayValue":{"values":[{"stringValue":"bob"}]}}}},
  "updateTransforms":[{"fieldPath":"createdAt","setToServerValue":"REQUEST_TIME"}],
  "currentDocument":{"exists":false}}]}`
	walkBadge = `{"structuredAggregationQuery":{
  "structuredQuery":{"from":[{"collectionId":"inbox"}]},
  "aggregations":[{"alias":"unread","sum":{"field":{"fieldPath":"unreadCount"}}}]}}`
	walkRead = `{"writes":[{
  "update":{"name":"projects/demo-hearth/databases/(default)/documents/users/bob/memberships/team",
    "fields":{"lastReadMessageId":{"stringValue":"hello-bob-1"}}},
  "updateMask":{"fieldPaths":["lastReadMessageId"]},
  "updateTransforms":[{"fieldPath":"lastReadAt","setToServerValue":"REQUEST_TIME"}]}]}`
)

// TestDevWalkthrough runs the documented walkthrough against the demo data of `hearth
// dev` (emulator.Seed) with the pipeline running: the REST calls of docs/functions.md
// work under the real security rules and give the documented answers.
func TestDevWalkthrough(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	// Seeded a minute ago: the seed's messages are stamped up to 3 s after its time, and
	// alice's message must be the newest, as it is in a dev stack started a while ago.
	if _, err := emulator.Seed(f.ctx, f.db, f.env.Auth(), time.Now().Add(-time.Minute)); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	base := "http://" + f.env.FirestoreHost + "/v1/projects/" + f.env.ProjectID + "/databases/(default)/documents"
	// request sends a REST request as uid and returns the status and body.
	request := func(uid, method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(f.ctx, method, base+path, strings.NewReader(strings.ReplaceAll(body, "demo-hearth", f.env.ProjectID)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+emutest.FakeIDToken(f.env.ProjectID, uid, nil))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, raw
	}
	call := func(uid, method, path, body string) map[string]any {
		t.Helper()
		status, raw := request(uid, method, path, body)
		if status != http.StatusOK {
			return map[string]any{"status": status, "body": string(raw)}
		}
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return out
	}
	// dig follows keys into decoded REST JSON: dig(doc, "fields", "unreadCount", "integerValue").
	dig := func(v any, path ...string) any {
		for _, k := range path {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	// badge is bob's badge as his app computes it: the sum of unreadCount over his
	// inbox entries, one aggregation query (under the rules, as bob). The REST answer is
	// a list of results.
	badge := func() any {
		t.Helper()
		status, raw := request("bob", http.MethodPost, "/users/bob:runAggregationQuery", walkBadge)
		var out []any
		if status != http.StatusOK || json.Unmarshal(raw, &out) != nil || len(out) != 1 {
			return fmt.Sprintf("HTTP %d: %s", status, raw)
		}
		return dig(out[0], "result", "aggregateFields", "unread", "integerValue")
	}
	state := func() (unread, mentions, total any, preview any) {
		e := call("bob", http.MethodGet, "/users/bob/inbox/team", "")
		return dig(e, "fields", "unreadCount", "integerValue"), dig(e, "fields", "mentionCount", "integerValue"),
			badge(), dig(e, "fields", "lastMessage", "mapValue", "fields", "preview", "stringValue")
	}
	// The seed: Team has one message each from alice, bob and carol; the direct room one
	// from alice and one from bob. Bob has 2 + 1 unread.
	f.eventually("seeded inbox", func() string {
		if u, _, total, _ := state(); u != "2" || total != "3" {
			return fmt.Sprintf("bob's Team unread %v, badge %v, want 2, 3", u, total)
		}
		return ""
	})
	if got := call("alice", http.MethodPost, ":commit", walkSend); got["status"] != nil {
		t.Fatalf("alice's message: %v", got)
	}
	f.eventually("alice's message in bob's inbox", func() string {
		if u, m, total, p := state(); u != "3" || m != "1" || total != "4" || p != "Hi Bob, lunch at 12:30?" {
			return fmt.Sprintf("bob: unread %v mentions %v badge %v preview %v, want 3 1 4 the message", u, m, total, p)
		}
		return ""
	})
	if got := call("bob", http.MethodPost, ":commit", walkRead); got["status"] != nil {
		t.Fatalf("bob's read pointer: %v", got)
	}
	f.eventually("bob read Team", func() string {
		if u, m, total, _ := state(); u != "0" || m != "0" || total != "1" {
			return fmt.Sprintf("bob: unread %v mentions %v badge %v, want 0 0 1 (the direct room)", u, m, total)
		}
		return ""
	})
	member := call("alice", http.MethodGet, "/rooms/team/members/bob", "")
	if got := dig(member, "fields", "readMessageId", "stringValue"); got != "hello-bob-1" {
		t.Errorf("bob's member doc readMessageId = %v, want hello-bob-1 (receipts are on by default)", got)
	}
}
