package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/emulator/emutest"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "Usage: hearth"},
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"emulators", "exec"}, 2, "no command given"},
	}
	for _, tt := range tests {
		var out emutest.Buffer
		if code := run(t.Context(), tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("run(%q) = %d, %q; want %d and output containing %q", tt.args, code, out.String(), tt.code, tt.out)
		}
	}
}

// TestDevStartsAndStops runs `hearth dev` (on free ports), waits for its table, checks that
// the endpoints it prints answer, then stops it as Ctrl-C would and checks the ports are free.
func TestDevStartsAndStops(t *testing.T) {
	t.Setenv("HEARTH_PUSH_WINDOW", "8s") // longer than the burst takes to process, even under -race
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut emutest.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"dev", "--free-ports"}, &out, &errOut) }()

	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		select {
		case code := <-done:
			t.Fatalf("hearth dev exited with %d before it was ready:\n%s\n%s", code, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("hearth dev not ready after 3 minutes:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	table := out.String()
	for _, want := range []string{"alice@example.com", "Demo rooms", "export FIRESTORE_EMULATOR_HOST="} {
		if !strings.Contains(table, want) {
			t.Errorf("dev output lacks %q:\n%s", want, table)
		}
	}
	urls := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindAllString(table, -1)
	if len(urls) < 5 {
		t.Fatalf("dev output has %d endpoint URLs, want at least 5:\n%s", len(urls), table)
	}
	var hosts []string
	for _, u := range urls {
		resp, err := http.Get(u + "/")
		if err != nil {
			t.Errorf("GET %s/ = %v, want an answer", u, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		hosts = append(hosts, strings.TrimPrefix(u, "http://"))
	}
	t.Run("the web console is served with its CSP and signs in at the Auth emulator", func(t *testing.T) {
		checkConsole(t, table)
	})
	t.Run("forged events on the API port are not served", func(t *testing.T) {
		defer func() {
			if t.Failed() {
				t.Logf("hearth dev log:\n%s", errOut.String())
			}
		}()
		checkForgedEvents(t, table)
	})
	t.Run("burst of 20 gives one push and one digest per member", func(t *testing.T) {
		defer func() { // deferred: the check stops the subtest with t.Fatal
			if t.Failed() {
				t.Logf("hearth dev log:\n%s", errOut.String())
			}
		}()
		checkPushBurst(t, table)
	})
	t.Run("a deleted message's photo is removed", func(t *testing.T) {
		defer func() {
			if t.Failed() {
				t.Logf("hearth dev log:\n%s", errOut.String())
			}
		}()
		checkMediaRemoval(t, table)
	})
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("hearth dev exit code after Ctrl-C = %d, want 0\n%s", code, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("hearth dev did not stop within a minute of Ctrl-C")
	}
	for _, h := range hosts {
		ln, err := net.Listen("tcp", h)
		if err != nil {
			t.Errorf("%s still taken after hearth dev stopped: %v", h, err)
			continue
		}
		ln.Close()
	}
}

// checkConsole: the console row of the table serves the console, and its
// config points the page at the suite's Auth emulator.
func checkConsole(t *testing.T, table string) {
	m := regexp.MustCompile(`(?m)^\s+Web console\s+(http://127\.0\.0\.1:\d+/console/)`).FindStringSubmatch(table)
	if m == nil {
		t.Fatalf("no Web console row in:\n%s", table)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("GET %s = %d, CSP %q", m[1], resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	resp, err = http.Get(m[1] + "config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg struct{ IdentityToolkit string }
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if want := "http://" + addrOf(t, table, "Auth emulator") + "/identitytoolkit.googleapis.com"; cfg.IdentityToolkit != want {
		t.Errorf("console signs in at %q, want %q", cfg.IdentityToolkit, want)
	}
}

// addrOf returns the host:port printed on the table row that starts with service.
func addrOf(t *testing.T, table, service string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(service) + `\s+http://(127\.0\.0\.1:\d+)`).FindStringSubmatch(table)
	if m == nil {
		t.Fatalf("no %s address in:\n%s", service, table)
	}
	return m[1]
}

// checkPushBurst is the notifications promise of `make dev`: alice creates a group with
// bob and carol through the API and sends 20 messages in a burst; each of the others gets
// one immediate push and then one digest of the rest, at the fake FCM.
func checkPushBurst(t *testing.T, table string) {
	ctx := t.Context()
	api, authHost := addrOf(t, table, "API (hearth serve)"), addrOf(t, table, "Auth emulator")
	fsHost, fcmHost := addrOf(t, table, "Firestore emulator"), addrOf(t, table, "FCM (fake)")
	alice, err := emulator.AuthREST{Host: authHost}.SignInWithPassword(ctx, "alice@example.com", emulator.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+api+"/v1/rooms",
		strings.NewReader(`{"title":"Burst","memberIds":["bob","carol"]}`))
	req.Header.Set("Authorization", "Bearer "+alice.IDToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || room.ID == "" {
		t.Fatalf("POST /v1/rooms = %s, id %q; want 201 and an id", resp.Status, room.ID)
	}
	db, err := emutest.NewUserClient(ctx, fsHost, "demo-hearth", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 20 { // as alice's phone writes them: through the rules
		_, err := db.Collection("rooms/"+room.ID+"/messages").Doc(fmt.Sprintf("burst-%02d", i)).Create(ctx, map[string]any{
			"senderId": "alice", "type": "text", "text": fmt.Sprintf("message %d", i), "createdAt": firestore.ServerTimestamp,
		})
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// The first message processed goes out at once; the rest are aggregated into digests.
	// Which message is first and how many digests follow depend on how fast the triggers
	// process the burst relative to the window (one digest with `make dev`; under -race on
	// a loaded machine, events arrive out of order and late), so the test checks what must
	// hold regardless: a single-message push first, and every one of the 20 messages
	// notified exactly once, in fewer pushes than messages.
	counted := regexp.MustCompile(`^(\d+) new messages in Burst$`)
	messages := func(bodies []string) (n int, ok bool) {
		for _, b := range bodies {
			if m := counted.FindStringSubmatch(b); m != nil {
				k, _ := strconv.Atoi(m[1])
				n += k
			} else if strings.HasPrefix(b, "Alice: message ") {
				n++
			} else {
				return 0, false
			}
		}
		return n, true
	}
	var got map[string][]string
	emutest.Eventually(t, 45*time.Second, func() error {
		got = map[string][]string{}
		resp, err := http.Get("http://" + fcmHost + "/v1/sent")
		if err != nil {
			t.Fatal(err)
		}
		var sent []struct {
			Token string            `json:"token"`
			Body  string            `json:"body"`
			Data  map[string]string `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&sent)
		resp.Body.Close()
		for _, s := range sent {
			if s.Data["roomId"] == room.ID {
				got[s.Token] = append(got[s.Token], s.Body)
			}
		}
		if len(got) != 2 {
			return fmt.Errorf("pushes for room %s = %q; want pushes to bob and carol", room.ID, got)
		}
		for _, uid := range []string{"bob", "carol"} {
			bodies := got[emulator.DemoDeviceToken(uid)]
			n, ok := messages(bodies)
			if !ok || n > 20 || (len(bodies) > 0 && !strings.HasPrefix(bodies[0], "Alice: message ")) {
				t.Fatalf("pushes to %s = %q: want one message pushed first, then digests, 20 messages in all", uid, bodies)
			}
			if n < 20 || len(bodies) < 2 || len(bodies) >= 20 {
				return fmt.Errorf("pushes for room %s = %q; want for bob and carol an immediate push and digests covering all 20 messages", room.ID, got)
			}
		}
		return nil
	})
	t.Logf("pushes per member: %v", got)
}

// forgedEvent is a hand-written Firestore CloudEvent in structured mode: the "created"
// event of a message alice never wrote in the demo group.
func forgedEvent(id, eventType, messageID string) string {
	name := "projects/demo-hearth/databases/(default)/documents/rooms/" + emulator.DemoGroupRoomID + "/messages/" + messageID
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "type": eventType,
		"source":  "//firestore.googleapis.com/projects/demo-hearth/databases/(default)",
		"subject": "documents/rooms/" + emulator.DemoGroupRoomID + "/messages/" + messageID,
		"time":    time.Now().UTC().Format(time.RFC3339Nano),
		"data": map[string]any{"value": map[string]any{
			"name": name,
			"fields": map[string]any{
				"senderId":  map[string]any{"stringValue": "alice"},
				"type":      map[string]any{"stringValue": "text"},
				"text":      map[string]any{"stringValue": "FORGED: send me your password"},
				"createdAt": map[string]any{"timestampValue": time.Now().UTC().Format(time.RFC3339Nano)},
			},
			"createTime": time.Now().UTC().Format(time.RFC3339Nano),
			"updateTime": time.Now().UTC().Format(time.RFC3339Nano),
		}},
	})
	return string(b)
}

// checkForgedEvents posts, without any credentials, forged message events to the API
// port's /events routes and to /schedulers: `hearth dev` must not serve them there (the
// emulator delivers to the functions port only), and nothing may be pushed.
func checkForgedEvents(t *testing.T, table string) {
	api, fcmHost := addrOf(t, table, "API (hearth serve)"), addrOf(t, table, "FCM (fake)")
	for _, tt := range []struct{ path, typ string }{
		{"/events/onMembershipWritten", "google.cloud.firestore.document.v1.written"},
		{"/events/onMessageWritten", "google.cloud.firestore.document.v1.written"},
		{"/events", "google.cloud.firestore.document.v1.created"},
		{"/schedulers/presence-sweeper", ""},
		{"/schedulers/push-flusher", ""},
	} {
		body := forgedEvent("forged-"+tt.path, tt.typ, "forged1")
		resp, err := http.Post("http://"+api+tt.path, "application/cloudevents+json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("anonymous POST %s on the API port = %s, want 404 (not served in hearth dev)", tt.path, resp.Status)
		}
	}
	resp, err := http.Get("http://" + fcmHost + "/v1/sent")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sent []struct {
		Body string `json:"body"`
	}
	json.NewDecoder(resp.Body).Decode(&sent)
	for _, s := range sent {
		if strings.Contains(s.Body, "FORGED") {
			t.Errorf("the fake FCM received a push of the forged message: %q", s.Body)
		}
	}
}
