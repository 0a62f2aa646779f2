package fcmfake

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const sendPath = "/v1/projects/demo-hearth/messages:send"

// do sends one request to the fake's handler over a real connection.
func do(t *testing.T, ts *httptest.Server, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// decodedError is the part of an error body the assertions look at.
type decodedError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

func TestBadPayloads(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		errorCode string // FcmError code, "" when the front end refuses the JSON
		field     string
	}{
		{"token and topic", `{"message":{"token":"a","topic":"b"}}`, "", "message"},
		{"no target", `{"message":{"data":{"k":"v"}}}`, "INVALID_ARGUMENT", "message"},
		{"no message", `{"validate_only":true}`, "INVALID_ARGUMENT", "message"},
		{"not JSON", `{"message":`, "", "message"},
		{"trailing data", `{"message":{"token":"a"}} x`, "", "message"},
		{"unknown top-level name", `{"message":{"token":"a"},"dry_run":true}`, "", "message"},
		{"unknown message name", `{"message":{"token":"a","priority":"high"}}`, "", "message"},
		{"unknown notification name", `{"message":{"token":"a","notification":{"title":"t","sound":"x"}}}`, "", "message"},
		{"data value not a string", `{"message":{"token":"a","data":{"n":1}}}`, "", "message.data"},
		{"reserved data key", `{"message":{"token":"a","data":{"from":"x"}}}`, "INVALID_ARGUMENT", "message.data"},
		{"google data key", `{"message":{"token":"a","data":{"google.x":"y"}}}`, "INVALID_ARGUMENT", "message.data"},
		{"topic with prefix", `{"message":{"topic":"/topics/room"}}`, "INVALID_ARGUMENT", "message.topic"},
		{"android not an object", `{"message":{"token":"a","android":"x"}}`, "", "message.android"},
		{"android priority", `{"message":{"token":"a","android":{"priority":"urgent"}}}`, "", "message.android.priority"},
		{"android ttl", `{"message":{"token":"a","android":{"ttl":"3600"}}}`, "", "message.android.ttl"},
		{"android data value", `{"message":{"token":"a","android":{"data":{"k":true}}}}`, "", "message.android.data"},
		{"apns badge", `{"message":{"token":"a","apns":{"payload":{"aps":{"badge":"one"}}}}}`, "INVALID_ARGUMENT", "message.apns"},
		{"too big", `{"message":{"token":"a","data":{"k":"` + strings.Repeat("x", 4096) + `"}}}`, "INVALID_ARGUMENT", "message"},
	}
	s, ts := newTestServer(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, ts, http.MethodPost, sendPath, tt.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("POST %s = %d %s, want 400", tt.body, resp.StatusCode, body)
			}
			var e decodedError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %s: %v", body, err)
			}
			if e.Error.Code != 400 || e.Error.Status != "INVALID_ARGUMENT" || e.Error.Message == "" {
				t.Errorf("error = %s, want code 400, status INVALID_ARGUMENT and a message", body)
			}
			var code, field string
			for _, d := range e.Error.Details {
				switch d.Type {
				case fcmErrorType:
					code = d.ErrorCode
				case badRequestType:
					if len(d.FieldViolations) == 1 {
						field = d.FieldViolations[0].Field
					}
				}
			}
			if code != tt.errorCode || field != tt.field {
				t.Errorf("error = %s\nwant errorCode %q and field %q", body, tt.errorCode, tt.field)
			}
		})
	}
	if got := len(s.Sent()); got != 0 {
		t.Errorf("len(Sent()) = %d after bad payloads, want 0", got)
	}
	if got := len(s.Attempts()); got != len(tests) {
		t.Errorf("len(Attempts()) = %d, want %d", got, len(tests))
	}
}

func TestGoodRawPayloads(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"camelCase names", `{"validateOnly":false,"message":{"token":"a","fcmOptions":{"analyticsLabel":"x"},"android":{"collapseKey":"c","ttl":"1.5s","notification":{"channelId":"ch"}}}}`},
		{"condition", `{"message":{"condition":"'a' in topics && 'b' in topics"}}`},
		{"apns alert string and sound object", `{"message":{"token":"a","apns":{"payload":{"aps":{"alert":"hi","sound":{"critical":1,"name":"x"}},"custom":{"k":1}}}}}`},
		{"webpush", `{"message":{"token":"a","webpush":{"notification":{"title":"t","anything":[1,2]}}}}`},
		{"size check is limited to 4096", `{"message":{"token":"a","data":{"k":"` + strings.Repeat("x", 4095) + `"}}}`},
	}
	s, ts := newTestServer(t, Config{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, ts, http.MethodPost, sendPath, tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST %s = %d %s, want 200", tt.body, resp.StatusCode, body)
			}
			var got struct{ Name string }
			if err := json.Unmarshal(body, &got); err != nil || !strings.HasPrefix(got.Name, "projects/demo-hearth/messages/") {
				t.Errorf("response = %s, want a message name", body)
			}
			sent := s.Sent()
			if len(sent) != i+1 {
				t.Fatalf("len(Sent()) = %d, want %d", len(sent), i+1)
			}
			var req struct{ Message json.RawMessage }
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			if string(sent[i].Message) != string(req.Message) {
				t.Errorf("Sent()[%d].Message = %s, want %s", i, sent[i].Message, req.Message)
			}
		})
	}
	if got := s.Sent()[0]; got.AndroidCollapseKey != "c" || got.AndroidChannelID != "ch" || got.AndroidTTL != "1.5s" {
		t.Errorf("camelCase send = %+v, want collapse key c, channel ch, ttl 1.5s", got)
	}
}

// TestOddProjectName checks a project id that needs escaping still yields valid JSON.
func TestOddProjectName(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	resp, body := do(t, ts, http.MethodPost, "/v1/projects/a%22b%5Cc/messages:send", `{"message":{"token":"t"}}`)
	var got struct{ Name string }
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST = %d %s, %v", resp.StatusCode, body, err)
	}
	if want := `projects/a"b\c/messages/1`; got.Name != want || s.Sent()[0].Project != `a"b\c` {
		t.Errorf("name = %q, project = %q; want %q", got.Name, s.Sent()[0].Project, want)
	}
}

// TestErrorBodies checks the bodies byte for byte against the real FCM v1 API's.
func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *Server)
		code  int
		body  string
	}{
		{"unregistered", func(s *Server) { s.Unregister("t") }, 404,
			`{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`},
		{"invalid", func(s *Server) { s.Invalidate("t") }, 400,
			`{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"The registration token is not a valid FCM registration token"}]}]}}`},
		{"sender id mismatch", func(s *Server) { s.MismatchSender("t") }, 403,
			`{"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}`},
		{"internal", func(s *Server) { s.FailNext(1, 500, 0) }, 500,
			`{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INTERNAL"}]}}`},
		{"unavailable", func(s *Server) { s.FailNext(1, 503, 0) }, 503,
			`{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNAVAILABLE"}]}}`},
		{"bad gateway has no FCM code", func(s *Server) { s.FailNext(1, 502, 0) }, 502,
			`{"error":{"code":502,"message":"Bad Gateway","status":"UNKNOWN"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := newTestServer(t, Config{})
			tt.setup(s)
			resp, body := do(t, ts, http.MethodPost, sendPath, `{"message":{"token":"t"}}`)
			if resp.StatusCode != tt.code || string(body) != tt.body {
				t.Errorf("POST = %d %s\nwant %d %s", resp.StatusCode, body, tt.code, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

func TestSentOverHTTP(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, ts := newTestServer(t, Config{Now: func() time.Time { return now }})
	for _, body := range []string{
		`{"message":{"token":"a","notification":{"title":"T","body":"B"},"data":{"k":"v"}}}`,
		`{"message":{"token":"b","apns":{"headers":{"apns-collapse-id":"c"},"payload":{"aps":{"badge":2,"thread-id":"r"}}}}}`,
		`{"message":{"topic":"room-1"}}`,
	} {
		if resp, b := do(t, ts, http.MethodPost, sendPath, body); resp.StatusCode != 200 {
			t.Fatalf("POST %s = %d %s", body, resp.StatusCode, b)
		}
	}

	tests := []struct {
		query string
		want  []string // message names
	}{
		{"", []string{"projects/demo-hearth/messages/1", "projects/demo-hearth/messages/2", "projects/demo-hearth/messages/3"}},
		{"?token=b", []string{"projects/demo-hearth/messages/2"}},
		{"?topic=room-1", []string{"projects/demo-hearth/messages/3"}},
		{"?project=other", []string{}},
	}
	for _, tt := range tests {
		t.Run("GET /v1/sent"+tt.query, func(t *testing.T) {
			resp, body := do(t, ts, http.MethodGet, "/v1/sent"+tt.query, "")
			if resp.StatusCode != 200 {
				t.Fatalf("GET = %d %s", resp.StatusCode, body)
			}
			var got []Sent
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("GET body %s: %v", body, err)
			}
			names := []string{}
			for _, m := range got {
				names = append(names, m.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("GET names = %v, want %v", names, tt.want)
			}
		})
	}

	// The wire names of the flattened fields are part of the dev tooling's contract.
	_, body := do(t, ts, http.MethodGet, "/v1/sent?token=b", "")
	var raw []map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("GET /v1/sent?token=b = %s", body)
	}
	for k, want := range map[string]any{
		"index": 1.0, "project": "demo-hearth", "token": "b", "time": "2026-01-02T03:04:05Z",
		"apnsCollapseId": "c", "apnsThreadId": "r", "apnsBadge": 2.0,
	} {
		if raw[0][k] != want {
			t.Errorf("GET /v1/sent?token=b [%q] = %v, want %v", k, raw[0][k], want)
		}
	}
	if _, ok := raw[0]["message"].(map[string]any); !ok {
		t.Errorf("GET /v1/sent?token=b has message %v, want the JSON object", raw[0]["message"])
	}

	if resp, b := do(t, ts, http.MethodDelete, "/v1/sent", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /v1/sent = %d %s", resp.StatusCode, b)
	}
	if _, b := do(t, ts, http.MethodGet, "/v1/sent", ""); strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("GET /v1/sent after DELETE = %s, want []", b)
	}
	if got := s.Attempts(); len(got) != 0 {
		t.Errorf("Attempts() after DELETE = %v, want none", got)
	}
}

func TestControlOverHTTP(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	send := func(token string) *http.Response {
		resp, _ := do(t, ts, http.MethodPost, sendPath, `{"message":{"token":"`+token+`"}}`)
		return resp
	}
	steps := []struct {
		name       string
		method     string
		path, body string
		wantCode   int // of the control call
		sendTo     string
		wantSend   int
		retryAfter string
	}{
		{"unregister", "POST", "/fake/tokens/dead:1/unregistered", "", 204, "dead:1", 404, ""},
		{"restore", "DELETE", "/fake/tokens/dead:1", "", 204, "dead:1", 200, ""},
		{"invalidate", "POST", "/fake/tokens/bad/invalid", "", 204, "bad", 400, ""},
		{"sender mismatch", "POST", "/fake/tokens/other/sender-id-mismatch", "", 204, "other", 403, ""},
		{"fail twice with retry-after", "POST", "/fake/fail", `{"status":429,"count":2,"retryAfter":"1"}`, 204, "x", 429, "1"},
		{"second failure", "", "", "", 0, "x", 429, "1"},
		{"failures used up", "", "", "", 0, "x", 200, ""},
		{"fail one token", "POST", "/fake/fail", `{"status":503,"token":"y","retryAfter":"1500ms"}`, 204, "x", 200, ""},
		{"the token fails", "", "", "", 0, "y", 503, "2"},
		{"numeric retry-after", "POST", "/fake/fail", `{"status":500,"retryAfter":3}`, 204, "z", 500, "3"},
		{"bad status", "POST", "/fake/fail", `{"status":200}`, 400, "z", 200, ""},
		{"bad count", "POST", "/fake/fail", `{"status":500,"count":-1}`, 400, "z", 200, ""},
		{"unknown name", "POST", "/fake/fail", `{"status":500,"times":2}`, 400, "z", 200, ""},
		{"bad retry-after", "POST", "/fake/fail", `{"status":500,"retryAfter":"soon"}`, 400, "z", 200, ""},
		{"reset", "POST", "/fake/reset", "", 204, "bad", 200, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.method != "" {
				resp, b := do(t, ts, st.method, st.path, st.body)
				if resp.StatusCode != st.wantCode {
					t.Fatalf("%s %s %s = %d %s, want %d", st.method, st.path, st.body, resp.StatusCode, b, st.wantCode)
				}
			}
			resp := send(st.sendTo)
			if resp.StatusCode != st.wantSend {
				t.Errorf("send to %s = %d, want %d", st.sendTo, resp.StatusCode, st.wantSend)
			}
			if got := resp.Header.Get("Retry-After"); got != st.retryAfter {
				t.Errorf("send to %s: Retry-After = %q, want %q", st.sendTo, got, st.retryAfter)
			}
		})
	}
	if st := s.State(); len(st.Tokens) != 0 || len(st.Failures) != 0 {
		t.Errorf("State() after reset = %+v, want empty", st)
	}
	// Reset forgot the earlier sends and restarted the numbering: only the last one is left.
	if got := s.Sent(); len(got) != 1 || got[0].Name != "projects/demo-hearth/messages/1" || got[0].Token != "bad" {
		t.Errorf("Sent() after reset = %+v, want only the send to bad, numbered 1", got)
	}
}

func TestStateOverHTTP(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	s.Unregister("a")
	s.FailNextFor("b", 2, 429, 2*time.Second)
	resp, body := do(t, ts, http.MethodGet, "/fake/state", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /fake/state = %d %s", resp.StatusCode, body)
	}
	want := `{"tokens":{"a":"UNREGISTERED"},"failures":[{"token":"b","remaining":2,"status":429,"retryAfter":"2s"}]}`
	if string(body) != want {
		t.Errorf("GET /fake/state = %s, want %s", body, want)
	}
	resp, body = do(t, ts, http.MethodGet, "/v1/attempts?status=404", "")
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET /v1/attempts?status=404 = %d %s, want []", resp.StatusCode, body)
	}
}

func TestLifecycle(t *testing.T) {
	s := New(Config{})
	if s.Addr() != "" || s.URL() != "" {
		t.Errorf("Addr(), URL() before Start = %q, %q; want empty", s.Addr(), s.URL())
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() before Start = %v", err)
	}
	if err := s.Start(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	if err := s.Start(t.Context(), "127.0.0.1:0"); err == nil {
		t.Error("second Start() = nil, want an error")
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q", s.URL())
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if resp, err := http.Get(s.URL() + "/v1/sent"); err == nil {
		resp.Body.Close()
		t.Error("GET after Close() succeeded, want a connection error")
	}

	if err := New(Config{}).Start(t.Context(), "256.0.0.1:0"); err == nil {
		t.Error("Start(bad address) = nil, want an error")
	}
}

// TestRunStopsWithContext serves a request under Run, then cancels its context. The
// "listening" log line says when Run is up, so the test needs no polling.
func TestRunStopsWithContext(t *testing.T) {
	lines := make(chan slog.Record, 16)
	s := New(Config{Logger: slog.New(chanHandler(lines))})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, "127.0.0.1:0") }()
	for r := range lines {
		if r.Message == "listening" {
			break
		}
	}
	resp, err := http.Post(s.URL()+sendPath, "application/json", strings.NewReader(`{"message":{"topic":"t"}}`))
	if err != nil {
		t.Fatalf("POST under Run: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST under Run = %d, want 200", resp.StatusCode)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
}

// chanHandler is a slog.Handler that passes every record to a channel, dropping records
// when nobody reads.
type chanHandler chan slog.Record

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h chanHandler) WithGroup(string) slog.Handler            { return h }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r:
	default:
	}
	return nil
}
