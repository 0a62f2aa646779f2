package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// EventarcForwarder stands in for Eventarc in front of a separate events service
// (`hearth serve --role=events`): it takes the Firestore emulator's trigger deliveries
// (POST /functions/projects/{project}/triggers/{name}, route a project to it with
// Receiver.Route or emutest's Env.Route) and delivers each to the events service as
// Eventarc delivers to Cloud Run: POST {Target}/events/{name}, a CloudEvent in binary
// mode (ce-* headers, the body the raw protobuf DocumentEventData, Content-Type
// application/protobuf), with "Authorization: Bearer" an OIDC ID token of the
// trigger's service account for the service URL. For the local suite and tests only.
//
// Like Eventarc, it retries an answer of 429 or 5xx (and a failed connection) with
// exponential backoff, here a bounded number of times while the emulator waits; a
// refusal (401, 403, any other 4xx) is passed back to the emulator, which logs it, and
// not retried. Eventarc would go on retrying those too until its retention ends: the
// difference only shortens a test that is failing anyway.
type EventarcForwarder struct {
	cfg EventarcConfig
}

// EventarcConfig configures an EventarcForwarder.
type EventarcConfig struct {
	// Target is the events service's base URL, e.g. http://127.0.0.1:8081. Required.
	Target string
	// Audience is the audience of the tokens: Eventarc uses the service URL. Default
	// Target.
	Audience string
	// Token returns an OIDC ID token for audience, as Google mints for the trigger's
	// service account (a local issuer's in tests). Required.
	Token func(ctx context.Context, audience string) (string, error)
	// Client sends the deliveries; default a client with a 60 s timeout.
	Client *http.Client
	// Attempts is how many times a delivery is tried; default 5.
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next one; default
	// 100 ms.
	Backoff time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// NewEventarcForwarder validates cfg and returns a forwarder.
func NewEventarcForwarder(cfg EventarcConfig) (*EventarcForwarder, error) {
	u, err := url.Parse(cfg.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("eventarc forwarder: target %q is not a service's base URL", cfg.Target)
	}
	cfg.Target = strings.TrimSuffix(cfg.Target, "/")
	if cfg.Token == nil {
		return nil, errors.New("eventarc forwarder: a token source is required")
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.Target
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("component", "eventarc-forwarder")
	return &EventarcForwarder{cfg: cfg}, nil
}

// EventarcRequest returns the request Eventarc sends for ev to the events service at
// target (a base URL) for the trigger named name, without its Authorization header:
// POST {target}/events/{name}, binary mode, the raw protobuf body. ev's ID is kept (a
// redelivery carries the same one); its source is written in production form.
func EventarcRequest(ctx context.Context, target, name string, ev *firestoreevent.Event) (*http.Request, error) {
	e := *ev
	e.Source = "" // Encode writes the production form, not the emulator's doubled "projects/"
	h, _, err := firestoreevent.Encode(&e)
	if err != nil {
		return nil, err
	}
	// The emulator's body is base64 text of the protobuf; Eventarc's is the protobuf.
	data, err := firestoreevent.EncodeDocumentEventData(ev.Value, ev.OldValue, ev.UpdateMask)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		strings.TrimSuffix(target, "/")+"/events/"+url.PathEscape(name), bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("eventarc request: %w", err)
	}
	h.Del("Ce-Datacontenttype") // in binary mode it travels as Content-Type
	req.Header = h
	return req, nil
}

// ServeHTTP takes one delivery of the Firestore emulator and forwards it.
func (f *EventarcForwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	_, name, ok := strings.Cut(r.URL.Path, "/triggers/")
	if !ok || name == "" || !strings.HasPrefix(r.URL.Path, "/functions/projects/") {
		http.Error(w, "want POST /functions/projects/{project}/triggers/{name}", http.StatusNotFound)
		return
	}
	ev, err := firestoreevent.FromHTTP(r)
	if err != nil {
		f.cfg.Logger.Warn("undecodable trigger event", "trigger", name, "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Empty() {
		// The emulator's "delete of a missing document": Eventarc sends no such event.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	code, err := f.Deliver(r.Context(), name, ev)
	if err != nil {
		f.cfg.Logger.Warn("event not delivered", "trigger", name, "document", ev.Document, "event", ev.ID, "status", code, "err", err)
		if code == 0 {
			code = http.StatusBadGateway
		}
		http.Error(w, err.Error(), code)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Deliver sends ev to the trigger named name with a fresh token, retrying as the type
// says. It returns the last status (0 when no answer came) and an error unless the
// service answered 2xx.
func (f *EventarcForwarder) Deliver(ctx context.Context, name string, ev *firestoreevent.Event) (int, error) {
	wait := f.cfg.Backoff
	var code int
	var err error
	for attempt := 1; ; attempt++ {
		code, err = f.deliverOnce(ctx, name, ev)
		if err == nil || !retryable(code) || attempt == f.cfg.Attempts {
			return code, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return code, fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

func (f *EventarcForwarder) deliverOnce(ctx context.Context, name string, ev *firestoreevent.Event) (int, error) {
	req, err := EventarcRequest(ctx, f.cfg.Target, name, ev)
	if err != nil {
		return http.StatusBadRequest, err
	}
	token, err := f.cfg.Token(ctx, f.cfg.Audience)
	if err != nil {
		return http.StatusInternalServerError, fmt.Errorf("eventarc forwarder: token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("deliver to %s: %s: %s", req.URL.Redacted(), resp.Status, bytes.TrimSpace(body))
	}
	return resp.StatusCode, nil
}

// retryable reports whether Eventarc's backoff can help: no answer, 408, 429 or 5xx.
func retryable(code int) bool {
	return code == 0 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}
