package firestoreevent

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// DataSchema is the ce-dataschema of Firestore document events.
const DataSchema = "https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto"

// Encode renders an event as the Firestore emulator posts it: CloudEvents binary mode,
// Content-Type application/protobuf, and a body of base64 text of the protobuf
// DocumentEventData (with an update mask, empty if UpdateMask is). Tests use it to
// send handlers synthetic events, duplicates (same ID) and reorderings.
//
// Attributes left empty are filled in: SpecVersion "1.0"; Type from Kind; ID a random
// UUID, as the emulator makes one per delivery; Project, Database and Document from the
// documents' names, Database and Namespace "(default)", Location "us-central1";
// Subject and Source from those (Source in its production form, without the emulator's
// doubled "projects/"). A zero Time is left out. ev is not modified.
func Encode(ev *Event) (http.Header, []byte, error) {
	m := ev.Meta
	if m.Type == "" && ev.Kind != KindUnknown {
		m.Type = typePrefix + ev.Kind.String()
	}
	if KindOf(m.Type) == KindUnknown {
		return nil, nil, fmt.Errorf("encode event %s: type %q: %w", m.ID, m.Type, ErrUnsupportedType)
	}
	full := Event{Meta: m, Value: ev.Value, OldValue: ev.OldValue}
	full.fillResource()
	m = full.Meta
	m.SpecVersion = firstNonEmpty(m.SpecVersion, "1.0")
	m.ID = firstNonEmpty(m.ID, uuid.NewString())
	m.Database = firstNonEmpty(m.Database, "(default)")
	m.Namespace = firstNonEmpty(m.Namespace, "(default)")
	m.Location = firstNonEmpty(m.Location, "us-central1")
	m.Subject = firstNonEmpty(m.Subject, "documents/"+m.Document)
	m.Source = firstNonEmpty(m.Source, "//firestore.googleapis.com/projects/"+m.Project+"/databases/"+m.Database)
	m.DataContentType = firstNonEmpty(m.DataContentType, "application/protobuf")
	m.DataSchema = firstNonEmpty(m.DataSchema, DataSchema)

	data, err := EncodeDocumentEventData(ev.Value, ev.OldValue, ev.UpdateMask)
	if err != nil {
		return nil, nil, fmt.Errorf("encode event %s: %w", m.ID, err)
	}
	h := make(http.Header)
	set := func(key, v string) {
		if v != "" {
			h.Set(key, v)
		}
	}
	set("Ce-Specversion", m.SpecVersion)
	set("Ce-Type", m.Type)
	set("Ce-Source", m.Source)
	set("Ce-Id", m.ID)
	set("Ce-Subject", m.Subject)
	if !m.Time.IsZero() {
		set("Ce-Time", m.Time.UTC().Format(time.RFC3339Nano))
	}
	set("Ce-Datacontenttype", m.DataContentType)
	set("Ce-Dataschema", m.DataSchema)
	set("Ce-Location", m.Location)
	set("Ce-Project", m.Project)
	set("Ce-Database", m.Database)
	set("Ce-Namespace", m.Namespace)
	set("Ce-Document", m.Document)
	set("Ce-Authtype", m.AuthType)
	set("Ce-Authid", m.AuthID)
	set("Content-Type", m.DataContentType)
	return h, []byte(base64.StdEncoding.EncodeToString(data)), nil
}

// NewRequest returns a POST of Encode(ev) to url, such as a receiver's
// DeliveryPath. Errors are Encode's or a bad url.
func NewRequest(ctx context.Context, url string, ev *Event) (*http.Request, error) {
	h, body, err := Encode(ev)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("new event request: %w", err)
	}
	req.Header = h
	return req, nil
}

// EncodeDocumentEventData marshals a DocumentEventData, the inverse of
// DecodeDocumentEventData. Nil documents are left out; the update mask is always
// written, as the emulator does, so an event with neither document encodes to the
// emulator's empty event (base64 "GgA=").
func EncodeDocumentEventData(value, oldValue *firestorepb.Document, mask []string) ([]byte, error) {
	opts := proto.MarshalOptions{Deterministic: true}
	var b []byte
	for _, f := range []struct {
		num protowire.Number
		msg proto.Message
	}{
		{fieldValue, value},
		{fieldOldValue, oldValue},
		{fieldUpdateMask, &firestorepb.DocumentMask{FieldPaths: mask}},
	} {
		if doc, ok := f.msg.(*firestorepb.Document); ok && doc == nil {
			continue
		}
		raw, err := opts.Marshal(f.msg)
		if err != nil {
			return nil, fmt.Errorf("marshal DocumentEventData field %d: %w", f.num, err)
		}
		b = protowire.AppendTag(b, f.num, protowire.BytesType)
		b = protowire.AppendBytes(b, raw)
	}
	return b, nil
}

// DeliveryPath is the path the Firestore emulator posts a trigger's events to, on the
// host given by its --functions_emulator flag: /functions/projects/{project}/triggers/{id}.
func DeliveryPath(project, triggerID string) string {
	return "/functions/projects/" + url.PathEscape(project) + "/triggers/" + url.PathEscape(triggerID)
}
