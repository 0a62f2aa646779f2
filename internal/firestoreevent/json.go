package firestoreevent

import (
	"encoding/json"
	"fmt"
	"mime"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/encoding/protojson"
)

// isJSON reports whether a content type is JSON data (not a structured CloudEvent).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || mt == "text/json")
}

// jsonEventData is the JSON form of DocumentEventData: proto3 JSON, where Document
// matches firestorepb.Document's.
type jsonEventData struct {
	Value      json.RawMessage `json:"value"`
	OldValue   json.RawMessage `json:"oldValue"`
	UpdateMask *struct {
		FieldPaths []string `json:"fieldPaths"`
	} `json:"updateMask"`
}

func decodeJSONPayload(data []byte) (value, oldValue *firestorepb.Document, mask []string, err error) {
	var d jsonEventData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, nil, nil, fmt.Errorf("DocumentEventData JSON: %w: %w", err, ErrBadPayload)
	}
	if value, err = jsonDocument(d.Value); err != nil {
		return nil, nil, nil, fmt.Errorf("DocumentEventData JSON value: %w: %w", err, ErrBadPayload)
	}
	if oldValue, err = jsonDocument(d.OldValue); err != nil {
		return nil, nil, nil, fmt.Errorf("DocumentEventData JSON oldValue: %w: %w", err, ErrBadPayload)
	}
	if d.UpdateMask != nil {
		mask = d.UpdateMask.FieldPaths
	}
	return value, oldValue, mask, nil
}

func jsonDocument(raw json.RawMessage) (*firestorepb.Document, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	doc := new(firestorepb.Document)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, doc); err != nil {
		return nil, err
	}
	return doc, nil
}
