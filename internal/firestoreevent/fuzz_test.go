package firestoreevent

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzMessage is what the triggers decode message documents into.
type fuzzMessage struct {
	SenderID  string         `firestore:"senderId"`
	Text      string         `firestore:"text"`
	Mentions  []string       `firestore:"mentions"`
	CreatedAt time.Time      `firestore:"createdAt"`
	Media     map[string]any `firestore:"media"`
	Count     int64          `firestore:"count"`
}

// FuzzFromHTTP: whatever the request, FromHTTP returns an event or an error that wraps
// one of its three sentinels (never a panic), reads at most MaxBodyBytes+1 bytes, and an
// event it returns can be inspected as the triggers do (Change, ChangedFields, Before,
// After, DataTo, Match) without a panic. mode picks the encoding: structured, binary with
// protobuf, binary with JSON, binary without content type.
func FuzzFromHTTP(f *testing.F) {
	raw, _ := base64.StdEncoding.DecodeString(capturedBody)
	structured := func(data string) string {
		return `{"specversion":"1.0","id":"s1","type":"` + TypeCreated + `","source":"//firestore.googleapis.com/projects/p/databases/(default)",` +
			`"subject":"documents/rooms/r1/messages/m2","time":"2026-11-27T04:56:24.5Z"` + data + `}`
	}
	seeds := []struct {
		mode   byte
		ceType string
		body   []byte
	}{
		{1, TypeCreated, []byte(capturedBody)},
		{1, TypeCreated, raw},
		{1, TypeWritten, raw[:len(raw)/2]},
		{1, TypeDeleted, nil},
		{1, TypeUpdated, []byte("AAAA")},
		{1, "providers/cloud.firestore/eventTypes/document.write", []byte(capturedBody)},
		{2, TypeWritten, []byte(`{"value":{"name":"projects/p/databases/(default)/documents/rooms/r1/messages/m2","fields":{"text":{"stringValue":"hi"},"createdAt":{"timestampValue":"2026-11-27T04:56:24Z"},"mentions":{"arrayValue":{"values":[{"stringValue":"bob"}]}}}},"updateMask":{"fieldPaths":["text"]}}`)},
		{2, TypeWritten, []byte(`{"value":{"name":"x","fields":{"media":{"mapValue":{"fields":{"a":{"mapValue":{}}}}},"count":{"integerValue":"99999999999999999999"}}}}`)},
		{2, TypeCreated, []byte(`{"value":5}`)},
		{2, TypeCreated, []byte(`{"oldValue":{"name":"projects/p/databases/(default)/documents/a/b"},"value":null}`)},
		{0, "", []byte(structured(`,"data":{"value":{"name":"projects/p/databases/(default)/documents/rooms/r1/messages/m2","fields":{"senderId":{"stringValue":"alice"},"text":{"stringValue":"FORGED"}}}}`))},
		{0, "", []byte(structured(`,"data_base64":"` + base64.StdEncoding.EncodeToString(raw) + `"`))},
		{0, "", []byte(structured(`,"data":"` + capturedBody + `"`))},
		{0, "", []byte(structured(`,"data":null`))},
		{0, "", []byte(structured(`,"data":[1,2,3]`))},
		{0, "", []byte(structured(`,"data_base64":"!!"`))},
		{0, "", []byte(`{"specversion":"1.0","id":"x","type":"t","source":"s","time":"not a time"}`)},
		{0, "", []byte(`{`)},
		{0, "", []byte(`null`)},
		{3, TypeCreated, []byte(strings.Repeat("{", 10000))},
		{2, TypeCreated, []byte(`{"value":{"fields":{"a":{"arrayValue":{"values":[` + strings.Repeat(`{"arrayValue":{"values":[`, 200) + strings.Repeat(`]}}`, 200) + `]}}}}}`)},
	}
	for _, s := range seeds {
		f.Add(s.mode, s.ceType, s.body)
	}
	f.Fuzz(func(t *testing.T, mode byte, ceType string, body []byte) {
		counter := &countingReader{r: bytes.NewReader(body)}
		req := httptest.NewRequest(http.MethodPost, "/events/x", counter)
		switch mode % 4 {
		case 0:
			req.Header.Set("Content-Type", "application/cloudevents+json")
		case 1:
			req.Header.Set("Content-Type", "application/protobuf")
		case 2:
			req.Header.Set("Content-Type", "application/json")
		}
		if mode%4 != 0 {
			req.Header.Set("Ce-Specversion", "1.0")
			req.Header.Set("Ce-Id", "fuzz")
			req.Header.Set("Ce-Source", "//firestore.googleapis.com/projects/p/databases/(default)")
			req.Header.Set("Ce-Type", ceType)
			req.Header.Set("Ce-Subject", "documents/rooms/r1/messages/m2")
		}
		ev, err := FromHTTP(req)
		if counter.n > MaxBodyBytes+1 {
			t.Fatalf("FromHTTP read %d bytes, limit %d", counter.n, MaxBodyBytes+1)
		}
		if err != nil {
			if ev != nil {
				t.Fatalf("FromHTTP() = %v and error %v", ev, err)
			}
			if !errors.Is(err, ErrNotCloudEvent) && !errors.Is(err, ErrUnsupportedType) && !errors.Is(err, ErrBadPayload) {
				t.Fatalf("FromHTTP() error %v wraps none of the sentinels", err)
			}
			return
		}
		if KindOf(ev.Type) == KindUnknown {
			t.Fatalf("FromHTTP() accepted type %q", ev.Type)
		}
		_ = ev.Change()
		_ = ev.ChangedFields()
		_, _ = ev.Before(), ev.After()
		var m fuzzMessage
		_ = DataTo(ev.Value, &m)
		_ = DataTo(ev.OldValue, &m)
		var anyMap map[string]any
		_ = DataTo(ev.Value, &anyMap)
		_, _ = Match("rooms/{roomId}/messages/{messageId}", ev.Document)
	})
}

type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
