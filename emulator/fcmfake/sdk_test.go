package fcmfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"
)

const testProject = "demo-hearth"

// startFake starts a fake on a free port and returns it with an SDK client pointed at it.
func startFake(t *testing.T) (*Server, *messaging.Client) {
	t.Helper()
	s := New(Config{})
	if err := s.Start(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	client, err := NewMessagingClient(t.Context(), s.Addr(), testProject)
	if err != nil {
		t.Fatalf("NewMessagingClient() = %v", err)
	}
	return s, client
}

// TestSendWireFormat checks that a message the SDK sends arrives in FCM v1's wire format.
func TestSendWireFormat(t *testing.T) {
	s, client := startFake(t)
	hour := time.Hour
	name, err := client.Send(t.Context(), &messaging.Message{
		Token:        "ok-device-1",
		Notification: &messaging.Notification{Title: "Alice", Body: "hi there"},
		Data:         map[string]string{"chatId": "c1", "msgId": "m42"},
		Android:      &messaging.AndroidConfig{Priority: "high", CollapseKey: "c1", TTL: &hour},
		APNS: &messaging.APNSConfig{
			Headers: map[string]string{"apns-priority": "10"},
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{Sound: "default", MutableContent: true, ThreadID: "c1"}},
		},
	})
	if err != nil {
		t.Fatalf("Send() = %v", err)
	}
	if want := "projects/demo-hearth/messages/1"; name != want {
		t.Errorf("Send() = %q, want %q", name, want)
	}
	const documented = `{"android":{"collapse_key":"c1","priority":"high","ttl":"3600s"},
	 "apns":{"headers":{"apns-priority":"10"},"payload":{"aps":{"mutable-content":1,"sound":"default","thread-id":"c1"}}},
	 "data":{"chatId":"c1","msgId":"m42"},"notification":{"body":"hi there","title":"Alice"},"token":"ok-device-1"}`
	sent := s.Sent()
	if len(sent) != 1 {
		t.Fatalf("Sent() has %d messages, want 1", len(sent))
	}
	var got, want any
	if err := json.Unmarshal(sent[0].Message, &got); err != nil {
		t.Fatalf("Sent()[0].Message is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(documented), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Sent()[0].Message = %s, want %s", sent[0].Message, documented)
	}
}

// TestSendFlattenedFields sends every field Hearth uses and checks both the flattened
// record and the full message decoded back into the SDK's type.
func TestSendFlattenedFields(t *testing.T) {
	s, client := startFake(t)
	ttl, badge := 90*time.Second, 3
	msg := &messaging.Message{
		Token:        "ios-and-android",
		Notification: &messaging.Notification{Title: "Alice", Body: "hi there", ImageURL: "https://example.com/a.png"},
		Data:         map[string]string{"roomId": "r1", "msgId": "m1"},
		Android: &messaging.AndroidConfig{
			CollapseKey: "r1",
			Priority:    "high",
			TTL:         &ttl,
			Notification: &messaging.AndroidNotification{
				Tag:          "r1",
				ChannelID:    "messages",
				TitleLocKey:  "new_message_title",
				TitleLocArgs: []string{"Alice"},
				BodyLocKey:   "new_message_body",
				BodyLocArgs:  []string{"Alice", "Room"},
			},
		},
		APNS: &messaging.APNSConfig{
			Headers: map[string]string{"apns-collapse-id": "r1", "apns-priority": "10"},
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{
				Alert: &messaging.ApsAlert{
					Title: "Alice", Body: "hi there",
					LocKey: "new_message_body", LocArgs: []string{"Alice", "Room"},
					TitleLocKey: "new_message_title", TitleLocArgs: []string{"Alice"},
				},
				Badge:          &badge,
				Sound:          "default",
				ThreadID:       "r1",
				MutableContent: true,
			}},
		},
		Webpush:    &messaging.WebpushConfig{Data: map[string]string{"k": "v"}},
		FCMOptions: &messaging.FCMOptions{AnalyticsLabel: "chat"},
	}
	if _, err := client.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	sent := s.Sent()
	if len(sent) != 1 {
		t.Fatalf("Sent() has %d messages, want 1", len(sent))
	}
	got := sent[0]
	for _, c := range []struct{ field, got, want string }{
		{"Name", got.Name, "projects/demo-hearth/messages/1"},
		{"Project", got.Project, testProject},
		{"Token", got.Token, "ios-and-android"},
		{"Title", got.Title, "Alice"},
		{"Body", got.Body, "hi there"},
		{"AndroidCollapseKey", got.AndroidCollapseKey, "r1"},
		{"AndroidPriority", got.AndroidPriority, "high"},
		{"AndroidTTL", got.AndroidTTL, "90s"},
		{"AndroidTag", got.AndroidTag, "r1"},
		{"AndroidChannelID", got.AndroidChannelID, "messages"},
		{"APNSCollapseID", got.APNSCollapseID, "r1"},
		{"APNSThreadID", got.APNSThreadID, "r1"},
		{"APNSSound", got.APNSSound, "default"},
	} {
		if c.got != c.want {
			t.Errorf("Sent()[0].%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if got.APNSBadge == nil || *got.APNSBadge != 3 {
		t.Errorf("Sent()[0].APNSBadge = %v, want 3", got.APNSBadge)
	}
	if !got.APNSMutableContent {
		t.Error("Sent()[0].APNSMutableContent = false, want true")
	}
	if !reflect.DeepEqual(got.Data, msg.Data) {
		t.Errorf("Sent()[0].Data = %v, want %v", got.Data, msg.Data)
	}
	if got.Time.IsZero() {
		t.Error("Sent()[0].Time is zero")
	}

	back, err := got.SDKMessage()
	if err != nil {
		t.Fatalf("SDKMessage() = %v", err)
	}
	if !reflect.DeepEqual(back, msg) {
		a, _ := json.Marshal(back)
		b, _ := json.Marshal(msg)
		t.Errorf("SDKMessage() = %s, want %s", a, b)
	}
}

func TestMulticastTokenErrors(t *testing.T) {
	s, client := startFake(t)
	s.Unregister("unregistered-b")
	s.Invalidate("invalid-c")
	s.MismatchSender("senderid-e")

	tests := []struct {
		token  string
		check  func(error) bool // nil: the send succeeds
		status int
	}{
		{"ok-a", nil, http.StatusOK},
		{"unregistered-b", messaging.IsUnregistered, http.StatusNotFound},
		{"invalid-c", messaging.IsInvalidArgument, http.StatusBadRequest},
		{"ok-d", nil, http.StatusOK},
		{"senderid-e", messaging.IsSenderIDMismatch, http.StatusForbidden},
	}
	tokens := make([]string, len(tests))
	for i, tt := range tests {
		tokens[i] = tt.token
	}
	br, err := client.SendEachForMulticast(t.Context(), &messaging.MulticastMessage{
		Tokens: tokens,
		Data:   map[string]string{"roomId": "r1"},
	})
	if err != nil {
		t.Fatalf("SendEachForMulticast() = %v", err)
	}
	if br.SuccessCount != 2 || br.FailureCount != 3 {
		t.Errorf("SendEachForMulticast() success=%d failure=%d, want 2 and 3", br.SuccessCount, br.FailureCount)
	}
	for i, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			r := br.Responses[i]
			if tt.check == nil {
				if !r.Success || r.Error != nil {
					t.Fatalf("response = %v, %v; want success", r.Success, r.Error)
				}
				return
			}
			if r.Success || !tt.check(r.Error) {
				t.Fatalf("response error = %v, want the %d error", r.Error, tt.status)
			}
			if got := errorutils.HTTPResponse(r.Error).StatusCode; got != tt.status {
				t.Errorf("HTTPResponse(err).StatusCode = %d, want %d", got, tt.status)
			}
		})
	}
	// Hearth prunes a token on INVALID_ARGUMENT only when the message is about the token.
	if msg := br.Responses[2].Error.Error(); msg != invalidTokenMessage {
		t.Errorf("invalid token error = %q, want %q", msg, invalidTokenMessage)
	}
	if got := len(s.Sent()); got != 2 {
		t.Errorf("len(Sent()) = %d, want 2", got)
	}
	if got := len(s.Attempts()); got != len(tests) {
		t.Errorf("len(Attempts()) = %d, want %d", got, len(tests))
	}
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		count    int
		check    func(error) bool // nil: the SDK's retry succeeds
		attempts []int            // statuses the fake answered, in order
	}{
		{"429 quota", http.StatusTooManyRequests, 1, messaging.IsQuotaExceeded, []int{429}},
		{"500 internal", http.StatusInternalServerError, 1, messaging.IsInternal, []int{500}},
		{"401 third party auth", http.StatusUnauthorized, 1, messaging.IsThirdPartyAuthError, []int{401}},
		{"404 unregistered", http.StatusNotFound, 1, messaging.IsUnregistered, []int{404}},
		// The SDK retries 503 at once the first time, so this is fast.
		{"503 retried", http.StatusServiceUnavailable, 1, nil, []int{503, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, client := startFake(t)
			s.FailNext(tt.count, tt.status, 0)
			_, err := client.Send(t.Context(), &messaging.Message{Token: "t1", Data: map[string]string{"k": "v"}})
			switch {
			case tt.check == nil && err != nil:
				t.Fatalf("Send() = %v, want success after a retry", err)
			case tt.check != nil && !tt.check(err):
				t.Fatalf("Send() = %v, want the %d error", err, tt.status)
			}
			var got []int
			for _, a := range s.Attempts() {
				got = append(got, a.Status)
			}
			if !reflect.DeepEqual(got, tt.attempts) {
				t.Errorf("attempt statuses = %v, want %v", got, tt.attempts)
			}
			// The failure is used up: the next send goes through.
			if _, err := client.Send(t.Context(), &messaging.Message{Token: "t1"}); err != nil {
				t.Errorf("second Send() = %v, want success", err)
			}
		})
	}
}

func TestFailNextForOneToken(t *testing.T) {
	s, client := startFake(t)
	s.FailNextFor("slow", 1, http.StatusInternalServerError, 0)
	br, err := client.SendEachForMulticast(t.Context(), &messaging.MulticastMessage{Tokens: []string{"a", "slow", "b"}})
	if err != nil {
		t.Fatalf("SendEachForMulticast() = %v", err)
	}
	for i, r := range br.Responses {
		if wantFail := i == 1; r.Success == wantFail {
			t.Errorf("Responses[%d] = %v, %v; want failure %v", i, r.Success, r.Error, wantFail)
		}
	}
	if !messaging.IsInternal(br.Responses[1].Error) {
		t.Errorf("Responses[1].Error = %v, want IsInternal", br.Responses[1].Error)
	}
}

func TestSendDryRunIsNotRecorded(t *testing.T) {
	s, client := startFake(t)
	name, err := client.SendDryRun(t.Context(), &messaging.Message{Topic: "room-c1", Data: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("SendDryRun() = %v", err)
	}
	if want := "projects/demo-hearth/messages/fake_message_id"; name != want {
		t.Errorf("SendDryRun() = %q, want %q", name, want)
	}
	if got := s.Sent(); len(got) != 0 {
		t.Errorf("Sent() = %v, want none", got)
	}
	att := s.Attempts()
	if len(att) != 1 || !att[0].ValidateOnly || att[0].Topic != "room-c1" {
		t.Errorf("Attempts() = %+v, want one validate-only attempt to room-c1", att)
	}
	// A dry run to an unregistered token reports the token's state, as FCM does.
	s.Unregister("gone")
	if _, err := client.SendDryRun(t.Context(), &messaging.Message{Token: "gone"}); !messaging.IsUnregistered(err) {
		t.Errorf("SendDryRun(unregistered) = %v, want IsUnregistered", err)
	}
}

// TestClientOptions checks the ways of pointing the SDK at the fake: MessagingOptions with
// a bare host or a URL, and a static token source.
func TestClientOptions(t *testing.T) {
	s, _ := startFake(t)
	tests := []struct {
		name string
		opts []option.ClientOption
	}{
		{"host:port", MessagingOptions(s.Addr())},
		{"URL", MessagingOptions(s.URL() + "/")},
		{"static token", []option.ClientOption{
			option.WithEndpoint(s.URL() + "/v1"),
			option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "test-token"})),
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := firebase.NewApp(t.Context(), &firebase.Config{ProjectID: testProject}, tt.opts...)
			if err != nil {
				t.Fatalf("NewApp() = %v", err)
			}
			client, err := app.Messaging(t.Context())
			if err != nil {
				t.Fatalf("Messaging() = %v", err)
			}
			token := fmt.Sprintf("device-%d", i)
			if _, err := client.Send(t.Context(), &messaging.Message{Token: token}); err != nil {
				t.Fatalf("Send() = %v", err)
			}
			if got := s.SentTo(token); len(got) != 1 {
				t.Errorf("SentTo(%q) = %v, want one send", token, got)
			}
		})
	}
}

func TestWaitSent(t *testing.T) {
	s, client := startFake(t)
	const n = 3
	errc := make(chan error, 1)
	go func() {
		var errs []error
		for i := range n {
			_, err := client.Send(t.Context(), &messaging.Message{Token: fmt.Sprintf("w%d", i)})
			errs = append(errs, err)
		}
		errc <- errors.Join(errs...)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := s.WaitSent(ctx, n)
	if err != nil {
		t.Fatalf("WaitSent(%d) = %v", n, err)
	}
	if len(got) < n {
		t.Errorf("WaitSent(%d) returned %d sends", n, len(got))
	}
	if err := <-errc; err != nil {
		t.Errorf("Send() = %v", err)
	}
	if _, err := s.WaitAttempts(ctx, n); err != nil {
		t.Errorf("WaitAttempts(%d) = %v", n, err)
	}
}

func TestWaitSentContextDone(t *testing.T) {
	s := New(Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got, err := s.WaitSent(ctx, 1)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WaitSent(cancelled) error = %v, want context.Canceled", err)
	}
	if len(got) != 0 {
		t.Errorf("WaitSent(cancelled) = %v, want none", got)
	}
}

// TestConcurrentFanOut sends 500 tokens through the SDK's 50 workers, a tenth unregistered.
func TestConcurrentFanOut(t *testing.T) {
	s, client := startFake(t)
	tokens := make([]string, 500)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%03d", i)
		if i%10 == 0 {
			s.Unregister(tokens[i])
		}
	}
	var wg sync.WaitGroup
	var waitErr error
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, waitErr = s.WaitSent(ctx, 450)
	})
	br, err := client.SendEachForMulticast(t.Context(), &messaging.MulticastMessage{
		Tokens:       tokens,
		Notification: &messaging.Notification{Title: "t", Body: "b"},
	})
	if err != nil {
		t.Fatalf("SendEachForMulticast() = %v", err)
	}
	wg.Wait()
	if waitErr != nil {
		t.Errorf("WaitSent(450) = %v", waitErr)
	}
	if br.SuccessCount != 450 || br.FailureCount != 50 {
		t.Errorf("SendEachForMulticast() success=%d failure=%d, want 450 and 50", br.SuccessCount, br.FailureCount)
	}
	for i, r := range br.Responses {
		if unreg := i%10 == 0; unreg != messaging.IsUnregistered(r.Error) {
			t.Errorf("Responses[%d].Error = %v, want unregistered %v", i, r.Error, unreg)
		}
	}
	sent := s.Sent()
	names := make(map[string]bool, len(sent))
	for i, m := range sent {
		if m.Index != i {
			t.Errorf("Sent()[%d].Index = %d", i, m.Index)
		}
		names[m.Name] = true
	}
	if len(names) != 450 {
		t.Errorf("%d distinct message names, want 450", len(names))
	}
}
