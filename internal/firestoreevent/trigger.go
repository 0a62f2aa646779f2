package firestoreevent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// MatchType says how a trigger's Document pattern is matched.
type MatchType string

// Match types of an Eventarc Firestore trigger.
const (
	MatchPathPattern MatchType = "PATH_PATTERN" // wildcards: {name}, {name=**}
	MatchExact       MatchType = "EXACT"        // one document
)

// Trigger is a v2 (Eventarc) Firestore trigger to register with the emulator.
type Trigger struct {
	// ID names the trigger; events arrive at DeliveryPath(project, ID). Registering
	// the same ID again replaces the trigger; there is no way to remove one.
	ID string
	// EventType is one of the Type* constants, optionally + WithAuthContext.
	EventType string
	// Document is the relative document pattern, e.g. "rooms/{roomId}/messages/{messageId}".
	Document string
	// MatchType defaults to MatchPathPattern when Document has a wildcard, else MatchExact.
	MatchType MatchType
	// Database defaults to "(default)".
	Database string
}

// eventarcTrigger is the emulator's registration body, as firebase-tools sends it.
type eventarcTrigger struct {
	EventType string `json:"eventType"`
	Database  string `json:"database"`
	Namespace string `json:"namespace"`
	Document  struct {
		Value     string    `json:"value"`
		MatchType MatchType `json:"matchType"`
	} `json:"document"`
}

// RegisterTrigger registers t with the Firestore emulator at emulatorHost (host:port,
// as in FIRESTORE_EMULATOR_HOST) for project. The emulator then posts matching events,
// in order and without retries, to DeliveryPath(project, t.ID) on the host named by its
// --functions_emulator flag, which is fixed at startup. A nil httpClient means
// http.DefaultClient. A non-2xx answer gives a *RegisterError.
func RegisterTrigger(ctx context.Context, httpClient *http.Client, emulatorHost, project string, t Trigger) error {
	if t.ID == "" || project == "" || t.Document == "" {
		return fmt.Errorf("register trigger %q: project, ID and Document are required", t.ID)
	}
	if KindOf(t.EventType) == KindUnknown {
		return fmt.Errorf("register trigger %s: event type %q: %w", t.ID, t.EventType, ErrUnsupportedType)
	}
	var body eventarcTrigger
	body.EventType = t.EventType
	body.Database = firstNonEmpty(t.Database, "(default)")
	body.Namespace = "(default)"
	body.Document.Value = t.Document
	body.Document.MatchType = t.MatchType
	if body.Document.MatchType == "" {
		body.Document.MatchType = MatchExact
		if strings.ContainsAny(t.Document, "{*") {
			body.Document.MatchType = MatchPathPattern
		}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("register trigger %s: %w", t.ID, err)
	}

	host := strings.TrimSuffix(emulatorHost, "/")
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u := host + "/emulator/v1/projects/" + url.PathEscape(project) +
		"/eventarcTrigger?eventarcTriggerId=" + url.QueryEscape(t.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("register trigger %s: %w", t.ID, err)
	}
	// Required: with a form content type (curl -d's default) the emulator answers 404.
	req.Header.Set("Content-Type", "application/json")
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("register trigger %s: %w", t.ID, err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &RegisterError{TriggerID: t.ID, StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(reply))}
	}
	return nil
}
