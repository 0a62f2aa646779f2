package firestoreevent

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// MaxBodyBytes bounds the request bodies FromHTTP reads. A Firestore document is at
// most 1 MiB; an update carries two, and base64 adds a third.
const MaxBodyBytes = 8 << 20

// FromHTTP decodes a Firestore CloudEvent from an HTTP request, in binary mode (ce-*
// headers; the body raw protobuf as Eventarc sends it, base64 text of it as the
// Firestore emulator sends it, or JSON) or in structured mode (Content-Type
// application/cloudevents+json, data in data_base64 or data). It reads the body but
// does not close it. Errors wrap ErrNotCloudEvent, ErrUnsupportedType or ErrBadPayload.
func FromHTTP(r *http.Request) (*Event, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/cloudevents+json" {
		body, err := readBody(r.Body)
		if err != nil {
			return nil, err
		}
		return fromStructured(body)
	}
	meta, err := metaFromHeaders(r.Header)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r.Body)
	if err != nil {
		return nil, err
	}
	return Decode(meta, body)
}

func readBody(body io.Reader) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read event body: %w", err)
	}
	if len(b) > MaxBodyBytes {
		return nil, fmt.Errorf("event body over %d bytes: %w", MaxBodyBytes, ErrBadPayload)
	}
	return b, nil
}

// metaFromHeaders reads binary-mode attributes. In that mode datacontenttype travels
// as Content-Type; the emulator sends ce-datacontenttype as well.
func metaFromHeaders(h http.Header) (Meta, error) {
	m := Meta{
		ID:              h.Get("Ce-Id"),
		Source:          h.Get("Ce-Source"),
		SpecVersion:     h.Get("Ce-Specversion"),
		Type:            h.Get("Ce-Type"),
		Subject:         h.Get("Ce-Subject"),
		DataContentType: firstNonEmpty(h.Get("Content-Type"), h.Get("Ce-Datacontenttype")),
		DataSchema:      h.Get("Ce-Dataschema"),
		Location:        h.Get("Ce-Location"),
		Project:         h.Get("Ce-Project"),
		Database:        h.Get("Ce-Database"),
		Namespace:       h.Get("Ce-Namespace"),
		Document:        h.Get("Ce-Document"),
		AuthType:        h.Get("Ce-Authtype"),
		AuthID:          h.Get("Ce-Authid"),
	}
	return m, checkMeta(&m, h.Get("Ce-Time"))
}

// checkMeta requires the attributes CloudEvents 1.0 makes mandatory and parses time.
func checkMeta(m *Meta, rawTime string) error {
	if m.SpecVersion == "" || m.ID == "" || m.Source == "" || m.Type == "" {
		return fmt.Errorf("missing specversion, id, source or type: %w", ErrNotCloudEvent)
	}
	if m.SpecVersion != "1.0" {
		return fmt.Errorf("specversion %q, want 1.0: %w", m.SpecVersion, ErrNotCloudEvent)
	}
	if rawTime != "" {
		t, err := time.Parse(time.RFC3339Nano, rawTime)
		if err != nil {
			return fmt.Errorf("event %s: time %q: %w", m.ID, rawTime, ErrNotCloudEvent)
		}
		m.Time = t
	}
	return nil
}

// structuredEvent is a CloudEvent in the JSON event format, with Firestore's
// extension attributes.
type structuredEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	DataSchema      string          `json:"dataschema"`
	Location        string          `json:"location"`
	Project         string          `json:"project"`
	Database        string          `json:"database"`
	Namespace       string          `json:"namespace"`
	Document        string          `json:"document"`
	AuthType        string          `json:"authtype"`
	AuthID          string          `json:"authid"`
	DataBase64      []byte          `json:"data_base64"`
	Data            json.RawMessage `json:"data"`
}

func fromStructured(body []byte) (*Event, error) {
	var s structuredEvent
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("structured CloudEvent: %w: %w", err, ErrNotCloudEvent)
	}
	m := Meta{
		ID: s.ID, Source: s.Source, SpecVersion: s.SpecVersion, Type: s.Type, Subject: s.Subject,
		DataContentType: s.DataContentType, DataSchema: s.DataSchema,
		Location: s.Location, Project: s.Project, Database: s.Database, Namespace: s.Namespace,
		Document: s.Document, AuthType: s.AuthType, AuthID: s.AuthID,
	}
	if err := checkMeta(&m, s.Time); err != nil {
		return nil, err
	}
	data := s.DataBase64
	if len(s.Data) > 0 && string(s.Data) != "null" {
		var text string
		if err := json.Unmarshal(s.Data, &text); err == nil {
			data = []byte(text) // a string: protobuf as base64 text
		} else {
			data = s.Data // an object: the JSON form
			if m.DataContentType == "" {
				m.DataContentType = "application/json"
			}
		}
	}
	return Decode(m, data)
}
