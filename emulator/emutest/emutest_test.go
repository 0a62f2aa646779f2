package emutest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const ownerOnlyRules = `rules_version = '2';
service cloud.firestore {
  match /databases/{database}/documents {
    match /users/{uid} {
      allow read, write: if request.auth != null && request.auth.uid == uid;
    }
  }
}`

func TestRulesEnforcedForUsersBypassedForAdmin(t *testing.T) {
	env := emutest.New(t)
	env.LoadRules(ownerOnlyRules)
	ctx := env.Context()
	alice := env.UserClient("alice", nil)
	anon := env.UserClient("", nil)

	tests := []struct {
		name   string
		client *firestore.Client
		doc    string
		want   codes.Code
	}{
		{"owner writes own doc", alice, "users/alice", codes.OK},
		{"user writes another's doc", alice, "users/bob", codes.PermissionDenied},
		{"unauthenticated write", anon, "users/alice", codes.PermissionDenied},
		{"admin client bypasses rules", env.Firestore(), "users/bob", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Doc(tt.doc).Set(ctx, map[string]any{"displayName": "x"})
			if got := status.Code(err); got != tt.want {
				t.Errorf("Set(%s) = %v (%v), want %v", tt.doc, got, err, tt.want)
			}
		})
	}
}

func TestTriggerDeliversDecodedEvents(t *testing.T) {
	env := emutest.New(t)
	events := env.Events(firestoreevent.TypeWritten, model.MessagePattern)
	ctx := env.Context()
	doc := env.Firestore().Doc("rooms/r1/messages/m1")
	if _, err := doc.Set(ctx, map[string]any{"text": "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, err := doc.Set(ctx, map[string]any{"text": "edited"}); err != nil {
		t.Fatal(err)
	}
	if _, err := doc.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		change       firestoreevent.Kind
		after, befor any
	}{
		{firestoreevent.KindCreated, "hello", nil},
		{firestoreevent.KindUpdated, "edited", "hello"},
		{firestoreevent.KindDeleted, nil, "edited"},
	}
	for i, w := range want {
		select {
		case ev := <-events:
			if ev.Document != "rooms/r1/messages/m1" || ev.Change() != w.change {
				t.Errorf("event %d = %s %v, want rooms/r1/messages/m1 %v", i, ev.Document, ev.Change(), w.change)
			}
			if got := ev.After()["text"]; w.after != nil && got != w.after {
				t.Errorf("event %d after.text = %v, want %v", i, got, w.after)
			}
			if got := ev.Before()["text"]; w.befor != nil && got != w.befor {
				t.Errorf("event %d before.text = %v, want %v", i, got, w.befor)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%v) not delivered within 10s", i, w.change)
		}
	}
}

func TestAuthEmulatorTokenVerifies(t *testing.T) {
	env := emutest.New(t)
	u := env.NewUser("alice")
	tok, err := env.Auth().VerifyIDToken(env.Context(), u.IDToken)
	if err != nil {
		t.Fatalf("VerifyIDToken(new user's token) = %v, want nil", err)
	}
	if tok.UID != u.UID {
		t.Errorf("VerifyIDToken().UID = %q, want %q", tok.UID, u.UID)
	}
	for _, bad := range []string{"", "not-a-jwt", "a.b.c"} {
		if _, err := env.Auth().VerifyIDToken(env.Context(), bad); err == nil {
			t.Errorf("VerifyIDToken(%q) = nil error, want an error", bad)
		}
	}
}

func TestSignedUploadAgainstLocalStorage(t *testing.T) {
	env := emutest.New(t)
	signer := env.Signer()
	const object = "media/r1/alice/photo.jpg"
	sign := func(t *testing.T, object string, ttl time.Duration) string {
		u, err := signer.SignedURL(env.Bucket, object, storage.SignedURLOptions{
			Method: http.MethodPut, Expires: time.Now().Add(ttl),
			ContentType: "image/jpeg", Headers: []string{"x-goog-content-length-range:1,100"},
			Hostname: env.StorageHost, Insecure: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	put := func(u, contentType, lengthRange string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("x-goog-content-length-range", lengthRange)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := sign(t, object, 15*time.Minute)
	body := []byte("0123456789")

	tests := []struct {
		name, url, contentType, lengthRange string
		body                                []byte
		want                                int
	}{
		{"right headers", good, "image/jpeg", "1,100", body, http.StatusOK},
		{"tampered signature", strings.Replace(good, "X-Goog-Signature=", "X-Goog-Signature=00", 1), "image/jpeg", "1,100", body, http.StatusForbidden},
		{"wrong content type", good, "image/png", "1,100", body, http.StatusForbidden},
		{"oversize body", good, "image/jpeg", "1,100", bytes.Repeat([]byte("x"), 101), http.StatusBadRequest},
		{"other path", strings.Replace(good, "photo.jpg", "other.jpg", 1), "image/jpeg", "1,100", body, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := put(tt.url, tt.contentType, tt.lengthRange, tt.body); got != tt.want {
				t.Errorf("PUT = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("stored object reads back", func(t *testing.T) {
		attrs, err := env.Storage().Bucket(env.Bucket).Object(object).Attrs(env.Context())
		if err != nil {
			t.Fatalf("Attrs(%s) = %v", object, err)
		}
		if attrs.ContentType != "image/jpeg" || attrs.Size != int64(len(body)) {
			t.Errorf("Attrs = %s %d bytes, want image/jpeg %d bytes", attrs.ContentType, attrs.Size, len(body))
		}
	})
	t.Run("expired", func(t *testing.T) {
		u := sign(t, "media/r1/alice/late.jpg", time.Second)
		// Wait for the URL's own expiry (the suite's clock is the real one here).
		emutest.Eventually(t, 5*time.Second, func() error {
			if got := put(u, "image/jpeg", "1,100", body); got != http.StatusBadRequest {
				return errors.New("expired URL still accepted")
			}
			return nil
		})
	})
}

func TestFakeFCMErrorsMatchSDKHelpers(t *testing.T) {
	env := emutest.New(t)
	env.FCMControl("/fake/tokens/gone-"+env.ProjectID+"/unregistered", nil)
	env.FCMControl("/fake/tokens/bad-"+env.ProjectID+"/invalid", nil)
	tokens := []string{"ok-" + env.ProjectID, "gone-" + env.ProjectID, "bad-" + env.ProjectID}
	br, err := env.Messaging().SendEachForMulticast(env.Context(), &messaging.MulticastMessage{
		Tokens: tokens, Data: map[string]string{"roomId": "r1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"ok token delivered", br.Responses[0].Success},
		{"IsUnregistered", messaging.IsUnregistered(br.Responses[1].Error)},
		{"IsInvalidArgument", messaging.IsInvalidArgument(br.Responses[2].Error)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s = false, want true (responses %+v)", c.name, br.Responses)
		}
	}
	if sent := env.Sent(); len(sent) != 1 || sent[0].Token != tokens[0] {
		t.Errorf("Sent() = %+v, want one push to %s", sent, tokens[0])
	}
}

// TestListenerEndsBeforeSync: a listener the rules refuse ends with an error before its
// first snapshot; waiting for that snapshot returns the error at once instead of hanging.
func TestListenerEndsBeforeSync(t *testing.T) {
	env := emutest.New(t)
	env.LoadRules(ownerOnlyRules)
	mallory := env.UserClient("mallory", nil)
	l := emutest.Listen(t.Context(), mallory.Collection("users").Query, func(*firestore.QuerySnapshot, time.Time) {
		t.Error("a refused listener got a snapshot")
	})
	start := time.Now()
	err := l.WaitSynced(time.Minute)
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("WaitSynced of a refused listener = %v, want PermissionDenied", err)
	}
	if waited := time.Since(start); waited >= time.Minute {
		t.Errorf("WaitSynced returned after %v: it waited for its timeout, not for the listener's end", waited)
	}
	select {
	case <-l.Done():
	default:
		t.Error("Done is open after the listener ended")
	}
	if status.Code(l.Err()) != codes.PermissionDenied {
		t.Errorf("Err() = %v, want PermissionDenied", l.Err())
	}
}

// fatalRecorder is a testing.TB whose Fatalf reports its message on a channel and ends
// the calling goroutine, as t.Fatalf does, without failing the test.
type fatalRecorder struct {
	testing.TB
	fatal chan string
}

func (r fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestControlCallsFailFast: a fake FCM that accepts a connection and never answers makes
// Sent fail the test within emutest.ControlTimeout, with the reason, instead of hanging.
func TestControlCallsFailFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	rec := fatalRecorder{TB: t, fatal: make(chan string, 1)}
	env := emutest.New(rec)
	env.FCMHost = ln.Addr().String()
	go env.Sent()
	select {
	case msg := <-rec.fatal:
		if !strings.Contains(msg, "fake FCM") || !strings.Contains(msg, "Timeout") {
			t.Errorf("Sent against a silent fake FCM failed with %q, want the call and its timeout", msg)
		}
	case <-time.After(emutest.ControlTimeout + 20*time.Second):
		t.Fatalf("Sent against a silent fake FCM still waiting after %s", emutest.ControlTimeout+20*time.Second)
	}
}
