package firestoreevent

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of google.events.cloud.firestore.v1.DocumentEventData.
const (
	fieldValue      protowire.Number = 1
	fieldOldValue   protowire.Number = 2
	fieldUpdateMask protowire.Number = 3
)

// Decode builds an Event from CloudEvent attributes and the event data. data is the
// protobuf DocumentEventData, raw (Eventarc) or as base64 text (the Firestore
// emulator); both are accepted so that every door can call Decode with what it got.
// When meta.DataContentType is application/json (Eventarc triggers created with
// --event-data-content-type=application/json), data is its JSON form instead.
// Errors wrap ErrUnsupportedType or ErrBadPayload.
func Decode(meta Meta, data []byte) (*Event, error) {
	kind := KindOf(meta.Type)
	if kind == KindUnknown {
		return nil, fmt.Errorf("decode event %s: type %q: %w", meta.ID, meta.Type, ErrUnsupportedType)
	}
	decode := decodePayload
	if isJSON(meta.DataContentType) {
		decode = decodeJSONPayload
	}
	value, oldValue, mask, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode event %s: %w", meta.ID, err)
	}
	ev := &Event{Meta: meta, Kind: kind, Value: value, OldValue: oldValue, UpdateMask: mask}
	ev.fillResource()
	return ev, nil
}

// decodePayload accepts DocumentEventData as raw protobuf or as base64 text of it. Text
// that is all base64 and decodes to a valid DocumentEventData is taken as base64: a raw
// message with content starts with a tag byte (0x0a, 0x12, 0x1a) outside that alphabet.
func decodePayload(data []byte) (value, oldValue *firestorepb.Document, mask []string, err error) {
	if text := bytes.TrimSpace(data); len(text) > 0 && isBase64(text) {
		if raw, ok := decodeBase64(text); ok {
			if value, oldValue, mask, err := DecodeDocumentEventData(raw); err == nil {
				return value, oldValue, mask, nil
			}
		}
	}
	return DecodeDocumentEventData(data)
}

func isBase64(b []byte) bool {
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

func decodeBase64(text []byte) ([]byte, bool) {
	enc := base64.StdEncoding
	if !bytes.HasSuffix(text, []byte("=")) && len(text)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	raw := make([]byte, enc.DecodedLen(len(text)))
	n, err := enc.Decode(raw, text)
	return raw[:n], err == nil
}

// DecodeDocumentEventData decodes the protobuf google.events.cloud.firestore.v1.DocumentEventData
// (value = 1, old_value = 2, update_mask = 3), whose Document and DocumentMask messages
// are wire-compatible with firestorepb. Absent documents are nil; the emulator's empty
// events ("GgA=" in base64) decode to nil, nil. Errors wrap ErrBadPayload.
func DecodeDocumentEventData(data []byte) (value, oldValue *firestorepb.Document, mask []string, err error) {
	var m *firestorepb.DocumentMask
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, nil, nil, fmt.Errorf("DocumentEventData: %w: %w", protowire.ParseError(n), ErrBadPayload)
		}
		data = data[n:]
		if num < fieldValue || num > fieldUpdateMask {
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return nil, nil, nil, fmt.Errorf("DocumentEventData field %d: %w: %w", num, protowire.ParseError(n), ErrBadPayload)
			}
			data = data[n:]
			continue
		}
		if typ != protowire.BytesType {
			return nil, nil, nil, fmt.Errorf("DocumentEventData field %d: wire type %d, want bytes: %w", num, typ, ErrBadPayload)
		}
		b, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return nil, nil, nil, fmt.Errorf("DocumentEventData field %d: %w: %w", num, protowire.ParseError(n), ErrBadPayload)
		}
		data = data[n:]
		var msg proto.Message
		switch num {
		case fieldValue:
			if value == nil {
				value = new(firestorepb.Document)
			}
			msg = value
		case fieldOldValue:
			if oldValue == nil {
				oldValue = new(firestorepb.Document)
			}
			msg = oldValue
		default:
			if m == nil {
				m = new(firestorepb.DocumentMask)
			}
			msg = m
		}
		// Merge: a repeated embedded message is merged, as proto.Unmarshal would.
		if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(b, msg); err != nil {
			return nil, nil, nil, fmt.Errorf("DocumentEventData field %d: %w: %w", num, err, ErrBadPayload)
		}
	}
	return value, oldValue, m.GetFieldPaths(), nil
}

// fillResource completes Project, Database and Document from Source, Subject and the
// documents' names when the sender left the extension attributes out.
func (e *Event) fillResource() {
	srcProject, srcDatabase := parseSource(e.Source)
	var docProject, docDatabase, docPath string
	for _, d := range []*firestorepb.Document{e.Value, e.OldValue} {
		if d != nil {
			docProject, docDatabase, docPath, _ = parseName(d.GetName())
			break
		}
	}
	e.Project = firstNonEmpty(e.Project, srcProject, docProject)
	e.Database = firstNonEmpty(e.Database, srcDatabase, docDatabase)
	subjectPath, _ := strings.CutPrefix(e.Subject, "documents/")
	if subjectPath == e.Subject {
		subjectPath = ""
	}
	e.Document = firstNonEmpty(e.Document, subjectPath, docPath)
}

// parseSource reads project and database from a ce-source such as
// "//firestore.googleapis.com/projects/P/databases/D", or the emulator's
// ".../projects/projects/P/databases/D".
func parseSource(source string) (project, database string) {
	parts := strings.Split(source, "/")
	for i := 1; i+1 < len(parts); i++ {
		if parts[i] == "databases" && parts[i-1] != "" {
			return parts[i-1], parts[i+1]
		}
	}
	return "", ""
}

// parseName splits a resource name "projects/P/databases/D/documents/REL".
func parseName(name string) (project, database, path string, ok bool) {
	parts := strings.SplitN(name, "/", 6)
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "databases" || parts[4] != "documents" {
		return "", "", "", false
	}
	return parts[1], parts[3], parts[5], true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
