package fcmfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"firebase.google.com/go/v4/messaging"
)

// Sent is one message the fake accepted for delivery. Message holds the message object
// exactly as received; the other fields are flattened from it for convenient assertions.
// A Sent shares its Data map and Message bytes with the fake's log: treat it as read-only.
type Sent struct {
	// Index is the position of the send in the log since the last reset, from 0.
	Index int `json:"index"`
	// Name is the message name returned to the sender, "projects/{p}/messages/{Index+1}".
	Name string `json:"name"`
	// Time is when the send was accepted, from Config.Now.
	Time time.Time `json:"time"`
	// Project is the project id from the request path.
	Project string `json:"project"`

	// Token, Topic and Condition are the message target; exactly one is set.
	Token     string `json:"token,omitempty"`
	Topic     string `json:"topic,omitempty"`
	Condition string `json:"condition,omitempty"`

	// Title and Body come from message.notification.
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	// Data is message.data.
	Data map[string]string `json:"data,omitempty"`

	// AndroidCollapseKey, AndroidPriority and AndroidTTL come from message.android;
	// AndroidTag and AndroidChannelID from message.android.notification.
	AndroidCollapseKey string `json:"androidCollapseKey,omitempty"`
	AndroidPriority    string `json:"androidPriority,omitempty"`
	AndroidTTL         string `json:"androidTtl,omitempty"`
	AndroidTag         string `json:"androidTag,omitempty"`
	AndroidChannelID   string `json:"androidChannelId,omitempty"`

	// APNSCollapseID is the apns-collapse-id header; the others come from apns.payload.aps.
	// APNSSound is set only when sound is a plain string.
	APNSCollapseID     string `json:"apnsCollapseId,omitempty"`
	APNSThreadID       string `json:"apnsThreadId,omitempty"`
	APNSBadge          *int   `json:"apnsBadge,omitempty"`
	APNSSound          string `json:"apnsSound,omitempty"`
	APNSMutableContent bool   `json:"apnsMutableContent,omitempty"`

	// Message is the "message" object of the request, byte for byte.
	Message json.RawMessage `json:"message"`
}

// SDKMessage decodes the received message into the Admin SDK's type, so a test can compare
// every field with the *messaging.Message it sent.
func (s Sent) SDKMessage() (*messaging.Message, error) {
	var m messaging.Message
	if err := json.Unmarshal(s.Message, &m); err != nil {
		return nil, fmt.Errorf("decode sent message %d: %w", s.Index, err)
	}
	return &m, nil
}

// Attempt is one request to messages:send, whatever its outcome: retries show up as several
// attempts for one message, and validate_only requests appear here but never in Sent.
type Attempt struct {
	// Index is the position of the attempt in the log since the last reset, from 0.
	Index int `json:"index"`
	// Time is when the request was answered, from Config.Now.
	Time time.Time `json:"time"`
	// Project is the project id from the request path.
	Project string `json:"project"`
	// Token, Topic and Condition are the target, when the body could be parsed.
	Token     string `json:"token,omitempty"`
	Topic     string `json:"topic,omitempty"`
	Condition string `json:"condition,omitempty"`
	// ValidateOnly is the request's validate_only flag (a dry run).
	ValidateOnly bool `json:"validateOnly,omitempty"`
	// Status is the HTTP status of the response.
	Status int `json:"status"`
	// ErrorCode is the FcmError code of a failed attempt (UNREGISTERED, QUOTA_EXCEEDED, ...),
	// "" on success and for errors without one.
	ErrorCode string `json:"errorCode,omitempty"`
	// Name is the message name returned on success.
	Name string `json:"name,omitempty"`
}

// handleListSent serves GET /v1/sent, optionally filtered by ?token=, ?topic= and ?project=.
func (s *Server) handleListSent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token, topic, project := q.Get("token"), q.Get("topic"), q.Get("project")
	all := s.Sent()
	out := all[:0]
	for _, m := range all {
		if (token == "" || m.Token == token) && (topic == "" || m.Topic == topic) && (project == "" || m.Project == project) {
			out = append(out, m)
		}
	}
	writeList(w, out)
}

// handleListAttempts serves GET /v1/attempts, optionally filtered by ?token= and ?status=.
func (s *Server) handleListAttempts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token, status := q.Get("token"), q.Get("status")
	all := s.Attempts()
	out := all[:0]
	for _, a := range all {
		if (token == "" || a.Token == token) && (status == "" || status == fmt.Sprint(a.Status)) {
			out = append(out, a)
		}
	}
	writeList(w, out)
}

// handleClearSent serves DELETE /v1/sent.
func (s *Server) handleClearSent(w http.ResponseWriter, _ *http.Request) {
	s.ClearSent()
	w.WriteHeader(http.StatusNoContent)
}

// writeList encodes a snapshot outside any lock; an empty list is [] rather than null.
func writeList[T any](w http.ResponseWriter, list []T) {
	if list == nil {
		list = []T{}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(list) // the client went away; nothing to do
}
