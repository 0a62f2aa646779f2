package firestoreevent

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/proto"
)

func TestFromHTTPCaptured(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, DeliveryPath("demo-hearth", "us-central1-onMessage-0"), strings.NewReader(capturedBody))
	for k, v := range capturedHeaders {
		req.Header.Set(k, v)
	}
	ev, err := FromHTTP(req)
	if err != nil {
		t.Fatalf("FromHTTP(captured) error = %v", err)
	}
	want := Meta{
		ID:              "d1714447-142c-456f-a565-82b461a89c19",
		Source:          "//firestore.googleapis.com/projects/projects/demo-hearth/databases/(default)",
		SpecVersion:     "1.0",
		Type:            TypeCreated,
		Subject:         "documents/rooms/r1/messages/m2",
		Time:            time.Date(2026, 11, 27, 4, 56, 24, 0, time.UTC),
		DataContentType: "application/protobuf",
		DataSchema:      DataSchema,
		Location:        "us-central1",
		Project:         "demo-hearth",
		Database:        "(default)",
		Namespace:       "(default)",
		Document:        "rooms/r1/messages/m2",
	}
	if !ev.Time.Equal(want.Time) {
		t.Errorf("FromHTTP(captured).Time = %v, want %v", ev.Time, want.Time)
	}
	ev.Time, want.Time = time.Time{}, time.Time{}
	if ev.Meta != want {
		t.Errorf("FromHTTP(captured).Meta = %+v, want %+v", ev.Meta, want)
	}
	if ev.Kind != KindCreated || ev.Change() != KindCreated || !ev.Exists() || ev.Existed() || ev.Empty() {
		t.Errorf("FromHTTP(captured) kind %v change %v exists %v existed %v empty %v, want created, created, true, false, false",
			ev.Kind, ev.Change(), ev.Exists(), ev.Existed(), ev.Empty())
	}
	if after := ev.After(); len(after) != 2 || after["text"] != "hi" || after["uid"] != "alice" {
		t.Errorf("FromHTTP(captured).After() = %v, want text hi, uid alice", after)
	}
	if ev.Before() != nil || ev.OldValue != nil {
		t.Errorf("FromHTTP(captured).Before() = %v, want nil", ev.Before())
	}
}

func TestFromHTTPEmptyEvent(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(capturedEmpty))
	for k, v := range capturedHeaders {
		req.Header.Set(k, v)
	}
	ev, err := FromHTTP(req)
	if err != nil {
		t.Fatalf("FromHTTP(GgA=) error = %v", err)
	}
	if !ev.Empty() || ev.Change() != KindUnknown || ev.Exists() || ev.Existed() || ev.After() != nil || ev.Before() != nil {
		t.Errorf("FromHTTP(GgA=) empty %v change %v, want an empty event", ev.Empty(), ev.Change())
	}
	if ev.Kind != KindCreated || ev.Document != "rooms/r1/messages/m2" {
		t.Errorf("FromHTTP(GgA=) kind, document = %v, %q; attributes should still decode", ev.Kind, ev.Document)
	}
}

// receiver is an httptest server that decodes every request with FromHTTP.
func receiver(t *testing.T) (*httptest.Server, <-chan *Event) {
	t.Helper()
	events := make(chan *Event, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := FromHTTP(r)
		if err != nil {
			t.Errorf("FromHTTP error = %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		events <- ev
	}))
	t.Cleanup(srv.Close)
	return srv, events
}

func TestEncodeFromHTTPRoundTrip(t *testing.T) {
	srv, events := receiver(t)
	t0 := time.Date(2026, 11, 27, 4, 56, 7, 0, time.UTC)
	t1 := t0.Add(time.Second)
	created, edited := message("hello", t0), message("edited", t1)
	tests := []struct {
		name            string
		ev              *Event
		change          Kind
		before, after   string // text, "" when no document
		wantChangedKeys string
	}{
		{"create", &Event{Meta: Meta{ID: "c1", Type: TypeCreated, Time: t0}, Value: created}, KindCreated, "", "hello", "n,text,uid"},
		{"update", &Event{Meta: Meta{ID: "u1", Time: t1}, Kind: KindUpdated, Value: edited, OldValue: created}, KindUpdated, "hello", "edited", "text"},
		{"delete", &Event{Meta: Meta{ID: "d1", Type: TypeWritten, Time: t1.Add(time.Second)}, OldValue: edited}, KindDeleted, "edited", "", "n,text,uid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := NewRequest(context.Background(), srv.URL+DeliveryPath("demo-hearth", "trig"), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := <-events

			if got.ID != tt.ev.ID || !got.Time.Equal(tt.ev.Time) || got.Change() != tt.change {
				t.Errorf("round trip id, time, change = %q, %v, %v, want %q, %v, %v", got.ID, got.Time, got.Change(), tt.ev.ID, tt.ev.Time, tt.change)
			}
			if got.Project != "demo-hearth" || got.Database != "(default)" || got.Document != "rooms/r1/messages/m1" ||
				got.Subject != "documents/rooms/r1/messages/m1" || got.Source != "//firestore.googleapis.com/projects/demo-hearth/databases/(default)" {
				t.Errorf("round trip resource = %+v", got.Meta)
			}
			if text, _ := got.Before()["text"].(string); text != tt.before {
				t.Errorf("round trip Before()[text] = %q, want %q", text, tt.before)
			}
			if text, _ := got.After()["text"].(string); text != tt.after {
				t.Errorf("round trip After()[text] = %q, want %q", text, tt.after)
			}
			if !proto.Equal(got.Value, tt.ev.Value) || !proto.Equal(got.OldValue, tt.ev.OldValue) {
				t.Errorf("round trip documents differ: got %v / %v", got.Value, got.OldValue)
			}
			if keys := strings.Join(got.ChangedFields(), ","); keys != tt.wantChangedKeys {
				t.Errorf("round trip ChangedFields() = %s, want %s", keys, tt.wantChangedKeys)
			}
		})
	}
}

func TestEncodeLikeEmulator(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(capturedBody)
	value, _, _, err := DecodeDocumentEventData(raw)
	if err != nil {
		t.Fatal(err)
	}
	ev := &Event{
		Meta: Meta{
			ID: capturedHeaders["ce-id"], Type: TypeCreated, Source: capturedHeaders["ce-source"],
			Time: time.Date(2026, 11, 27, 4, 56, 24, 0, time.UTC), Project: "demo-hearth",
		},
		Value: value,
	}
	h, body, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != capturedBody {
		t.Errorf("Encode body = %s, want the captured body", body)
	}
	for k, v := range capturedHeaders {
		if got := h.Get(k); got != v {
			t.Errorf("Encode header %s = %q, want %q", k, got, v)
		}
	}
	if len(h) != len(capturedHeaders) {
		t.Errorf("Encode sent %d headers, want %d: %v", len(h), len(capturedHeaders), h)
	}
	if ev.Location != "" || ev.Subject != "" {
		t.Errorf("Encode modified its argument: %+v", ev.Meta)
	}
}

func TestEncodeDefaults(t *testing.T) {
	h, body, err := Encode(&Event{Kind: KindWritten, Meta: Meta{Project: "p", Document: "rooms/r9"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != capturedEmpty {
		t.Errorf("Encode(no documents) body = %s, want %s", body, capturedEmpty)
	}
	if h.Get("Ce-Id") == "" || h.Get("Ce-Time") != "" || h.Get("Ce-Type") != TypeWritten || h.Get("Ce-Subject") != "documents/rooms/r9" {
		t.Errorf("Encode defaults: id %q, time %q, type %q, subject %q", h.Get("Ce-Id"), h.Get("Ce-Time"), h.Get("Ce-Type"), h.Get("Ce-Subject"))
	}
	_, _, err = Encode(&Event{Meta: Meta{ID: "x"}})
	if !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Encode(no type) error = %v, want ErrUnsupportedType", err)
	}
	bad := &Event{Kind: KindCreated, Value: &firestorepb.Document{Name: "\xff"}}
	if _, _, err := Encode(bad); err == nil {
		t.Errorf("Encode(document name not UTF-8) error = nil, want one")
	}
	if _, err := NewRequest(context.Background(), "://bad", &Event{Kind: KindCreated}); err == nil {
		t.Errorf("NewRequest(bad url) error = nil, want one")
	}
}

func TestFromHTTPRawProtobuf(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 4, 56, 7, 0, time.UTC)
	ev := &Event{Meta: Meta{ID: "r1", Type: TypeUpdated}, Value: message("b", t0.Add(time.Second)), OldValue: message("a", t0), UpdateMask: []string{"text"}}
	h, _, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := EncodeDocumentEventData(ev.Value, ev.OldValue, ev.UpdateMask)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(raw)) // as Eventarc sends it
	req.Header = h
	got, err := FromHTTP(req)
	if err != nil {
		t.Fatalf("FromHTTP(raw protobuf) error = %v", err)
	}
	if !proto.Equal(got.Value, ev.Value) || !proto.Equal(got.OldValue, ev.OldValue) || len(got.UpdateMask) != 1 {
		t.Errorf("FromHTTP(raw protobuf) = %v / %v / %v", got.Value, got.OldValue, got.UpdateMask)
	}
}

func TestFromHTTPStructured(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(capturedBody)
	attrs := map[string]any{
		"specversion": "1.0", "id": "s1", "type": TypeCreated, "time": "2026-11-27T04:56:24.5Z",
		"source":  "//firestore.googleapis.com/projects/p/databases/(default)",
		"subject": "documents/rooms/r1/messages/m2",
	}
	tests := []struct {
		name string
		data map[string]any
	}{
		{"data_base64", map[string]any{"data_base64": base64.StdEncoding.EncodeToString(raw), "datacontenttype": "application/protobuf"}},
		{"data as base64 string", map[string]any{"data": capturedBody}},
		{"data as JSON", map[string]any{"data": map[string]any{"value": map[string]any{
			"name":   "projects/p/databases/(default)/documents/rooms/r1/messages/m2",
			"fields": map[string]any{"text": map[string]any{"stringValue": "hi"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range attrs {
				m[k] = v
			}
			for k, v := range tt.data {
				m[k] = v
			}
			body, _ := json.Marshal(m)
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/cloudevents+json; charset=UTF-8")
			ev, err := FromHTTP(req)
			if err != nil {
				t.Fatalf("FromHTTP(structured) error = %v", err)
			}
			if ev.ID != "s1" || ev.Project != "p" || ev.Document != "rooms/r1/messages/m2" || ev.Time.Nanosecond() != 5e8 {
				t.Errorf("FromHTTP(structured) meta = %+v", ev.Meta)
			}
			if ev.Change() != KindCreated || ev.After()["text"] != "hi" {
				t.Errorf("FromHTTP(structured) change, after = %v, %v, want created, text hi", ev.Change(), ev.After())
			}
		})
	}
}

func TestFromHTTPErrors(t *testing.T) {
	header := func(drop string, set ...string) http.Header {
		h := make(http.Header)
		for k, v := range capturedHeaders {
			h.Set(k, v)
		}
		h.Del(drop)
		for i := 0; i+1 < len(set); i += 2 {
			h.Set(set[i], set[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		header http.Header
		body   string
		want   error
	}{
		{"no headers", http.Header{}, capturedBody, ErrNotCloudEvent},
		{"no id", header("ce-id"), capturedBody, ErrNotCloudEvent},
		{"no source", header("ce-source"), capturedBody, ErrNotCloudEvent},
		{"no type", header("ce-type"), capturedBody, ErrNotCloudEvent},
		{"no specversion", header("ce-specversion"), capturedBody, ErrNotCloudEvent},
		{"specversion 0.3", header("", "ce-specversion", "0.3"), capturedBody, ErrNotCloudEvent},
		{"bad time", header("", "ce-time", "yesterday"), capturedBody, ErrNotCloudEvent},
		{"v1 legacy type", header("", "ce-type", "providers/cloud.firestore/eventTypes/document.write"), capturedBody, ErrUnsupportedType},
		{"garbage body", header(""), "{not protobuf}", ErrBadPayload},
		{"truncated base64", header(""), capturedBody[:40], ErrBadPayload},
		{"too large", header(""), strings.Repeat("A", MaxBodyBytes+1), ErrBadPayload},
		{"structured bad JSON", header("", "Content-Type", "application/cloudevents+json"), "{", ErrNotCloudEvent},
		{"structured no id", header("", "Content-Type", "application/cloudevents+json"), `{"specversion":"1.0","type":"` + TypeCreated + `","source":"s"}`, ErrNotCloudEvent},
		{"structured bad data", header("", "Content-Type", "application/cloudevents+json"),
			`{"specversion":"1.0","id":"i","type":"` + TypeCreated + `","source":"s","data":{"value":5}}`, ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			req.Header = tt.header
			ev, err := FromHTTP(req)
			if !errors.Is(err, tt.want) {
				t.Errorf("FromHTTP() = %v, %v, want error %v", ev, err, tt.want)
			}
		})
	}
}
