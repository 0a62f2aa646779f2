package firestoreevent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// registration is one request the fake emulator received.
type registration struct {
	method, path, query, contentType string
	body                             map[string]any
}

func fakeEmulator(t *testing.T, status int, reply string) (*httptest.Server, <-chan registration) {
	t.Helper()
	got := make(chan registration, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("registration body %q: %v", b, err)
		}
		got <- registration{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), body}
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestRegisterTrigger(t *testing.T) {
	tests := []struct {
		name      string
		trigger   Trigger
		wantMatch string
		wantDB    string
	}{
		{"pattern", Trigger{ID: "us-central1-onMessageWritten-0", EventType: TypeWritten, Document: "rooms/{roomId}/messages/{messageId}"}, "PATH_PATTERN", "(default)"},
		{"exact", Trigger{ID: "t2", EventType: TypeDeleted + WithAuthContext, Document: "config/app"}, "EXACT", "(default)"},
		{"explicit", Trigger{ID: "t3", EventType: TypeCreated, Document: "a/b", MatchType: MatchPathPattern, Database: "chat"}, "PATH_PATTERN", "chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeEmulator(t, http.StatusOK, "{}")
			host := strings.TrimPrefix(srv.URL, "http://")
			if err := RegisterTrigger(context.Background(), srv.Client(), host, "demo-hearth", tt.trigger); err != nil {
				t.Fatalf("RegisterTrigger error = %v", err)
			}
			r := <-got
			if r.method != http.MethodPost || r.path != "/emulator/v1/projects/demo-hearth/eventarcTrigger" ||
				r.query != "eventarcTriggerId="+tt.trigger.ID || r.contentType != "application/json" {
				t.Errorf("RegisterTrigger sent %s %s?%s (%s)", r.method, r.path, r.query, r.contentType)
			}
			want := map[string]any{
				"eventType": tt.trigger.EventType, "database": tt.wantDB, "namespace": "(default)",
				"document": map[string]any{"value": tt.trigger.Document, "matchType": tt.wantMatch},
			}
			gotJSON, _ := json.Marshal(r.body)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("RegisterTrigger body = %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestRegisterTriggerURLForms(t *testing.T) {
	srv, got := fakeEmulator(t, http.StatusOK, "{}")
	// A scheme is accepted, and a nil client means http.DefaultClient.
	if err := RegisterTrigger(context.Background(), nil, srv.URL+"/", "p", Trigger{ID: "a b", EventType: TypeCreated, Document: "c/d"}); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.path != "/emulator/v1/projects/p/eventarcTrigger" || r.query != "eventarcTriggerId=a+b" {
		t.Errorf("RegisterTrigger sent %s?%s", r.path, r.query)
	}
}

func TestRegisterTriggerErrors(t *testing.T) {
	srv, _ := fakeEmulator(t, http.StatusBadRequest, `{"error":{"message":"bad pattern"}}`)
	host := strings.TrimPrefix(srv.URL, "http://")
	ok := Trigger{ID: "t", EventType: TypeWritten, Document: "c/{id}"}

	err := RegisterTrigger(context.Background(), srv.Client(), host, "p", ok)
	var re *RegisterError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || !strings.Contains(re.Body, "bad pattern") || !strings.Contains(err.Error(), "bad pattern") {
		t.Errorf("RegisterTrigger(400) error = %v, want a *RegisterError with the reply", err)
	}

	bad := ok
	bad.EventType = "providers/cloud.firestore/eventTypes/document.write"
	if err := RegisterTrigger(context.Background(), srv.Client(), host, "p", bad); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("RegisterTrigger(v1 type) error = %v, want ErrUnsupportedType", err)
	}
	for _, tr := range []Trigger{{EventType: TypeWritten, Document: "c/d"}, {ID: "t", EventType: TypeWritten}} {
		if err := RegisterTrigger(context.Background(), srv.Client(), host, "p", tr); err == nil {
			t.Errorf("RegisterTrigger(%+v) error = nil, want one", tr)
		}
	}
	if err := RegisterTrigger(context.Background(), srv.Client(), host, "", ok); err == nil {
		t.Errorf("RegisterTrigger(no project) error = nil, want one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := RegisterTrigger(ctx, srv.Client(), host, "p", ok); !errors.Is(err, context.Canceled) {
		t.Errorf("RegisterTrigger(cancelled) error = %v, want context.Canceled", err)
	}
}
