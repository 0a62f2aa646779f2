package media

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
)

// Storage event types.
const (
	// CloudEventFinalized is the Eventarc CloudEvent type of a finalized object.
	CloudEventFinalized = "google.cloud.storage.object.v1.finalized"
	// PubSubFinalize is the eventType attribute of a Cloud Storage Pub/Sub
	// notification (and of the local storage's) for a finalized object.
	PubSubFinalize = "OBJECT_FINALIZE"
)

// maxEventBytes bounds an event body: an object resource is a few KB.
const maxEventBytes = 1 << 20

// ErrNotFinalize is returned by the decoders for events of another type.
var ErrNotFinalize = errors.New("not an object-finalized event")

// objectJSON is the object resource in the JSON API form that both the Pub/Sub
// notifications (JSON_API_V1) and Eventarc's StorageObjectData use. Its int64 fields
// are JSON strings (proto3 JSON and the JSON API agree on that); plain numbers are
// accepted too.
type objectJSON struct {
	Bucket      string    `json:"bucket"`
	Name        string    `json:"name"`
	Generation  flexInt64 `json:"generation"`
	ContentType string    `json:"contentType"`
	Size        flexInt64 `json:"size"`
	MD5Hash     string    `json:"md5Hash"`
}

// flexInt64 decodes a JSON string or number holding an int64.
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("int64 field %s: %w", b, err)
	}
	*f = flexInt64(n)
	return nil
}

// DecodeObject decodes an object resource (the data of a storage notification or
// of an Eventarc storage CloudEvent).
func DecodeObject(data []byte) (Object, error) {
	var o objectJSON
	if err := json.Unmarshal(data, &o); err != nil {
		return Object{}, fmt.Errorf("decode storage object: %w", err)
	}
	if o.Bucket == "" || o.Name == "" {
		return Object{}, errors.New("decode storage object: no bucket or name")
	}
	return Object{
		Bucket:      o.Bucket,
		Name:        o.Name,
		Generation:  int64(o.Generation),
		ContentType: o.ContentType,
		Size:        int64(o.Size),
		MD5Hash:     o.MD5Hash,
	}, nil
}

// DecodePubSub decodes a Cloud Storage Pub/Sub notification (its data and
// attributes). Events other than OBJECT_FINALIZE give ErrNotFinalize.
func DecodePubSub(data []byte, attrs map[string]string) (Object, error) {
	if t := attrs["eventType"]; t != PubSubFinalize {
		return Object{}, fmt.Errorf("event type %q: %w", t, ErrNotFinalize)
	}
	obj, err := DecodeObject(data)
	if err != nil && attrs["bucketId"] != "" && attrs["objectId"] != "" {
		// payloadFormat NONE: the attributes say which object.
		gen, _ := strconv.ParseInt(attrs["objectGeneration"], 10, 64)
		return Object{Bucket: attrs["bucketId"], Name: attrs["objectId"], Generation: gen}, errNoPayload
	}
	return obj, err
}

// errNoPayload: a notification without object metadata (payloadFormat NONE).
var errNoPayload = errors.New("notification without payload")

// DecodeCloudEvent decodes a storage CloudEvent from an HTTP request as Eventarc
// sends it: binary mode (ce-* headers, JSON body) or structured mode
// (application/cloudevents+json). A Pub/Sub push envelope ({"message": {"data",
// "attributes"}}) of a storage notification is accepted too. Events of other types
// give ErrNotFinalize.
func DecodeCloudEvent(r *http.Request) (Object, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBytes+1))
	if err != nil {
		return Object{}, fmt.Errorf("read event: %w", err)
	}
	if len(body) > maxEventBytes {
		return Object{}, fmt.Errorf("event body over %d bytes", maxEventBytes)
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mediaType == "application/cloudevents+json":
		var ev struct {
			Type       string          `json:"type"`
			Data       json.RawMessage `json:"data"`
			DataBase64 string          `json:"data_base64"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			return Object{}, fmt.Errorf("decode cloudevent: %w", err)
		}
		if ev.Type != CloudEventFinalized {
			return Object{}, fmt.Errorf("event type %q: %w", ev.Type, ErrNotFinalize)
		}
		data := []byte(ev.Data)
		if ev.DataBase64 != "" {
			if data, err = base64.StdEncoding.DecodeString(ev.DataBase64); err != nil {
				return Object{}, fmt.Errorf("decode cloudevent data_base64: %w", err)
			}
		}
		return DecodeObject(data)
	case r.Header.Get("Ce-Type") != "":
		if t := r.Header.Get("Ce-Type"); t != CloudEventFinalized {
			return Object{}, fmt.Errorf("event type %q: %w", t, ErrNotFinalize)
		}
		return DecodeObject(body)
	default:
		var push struct {
			Message struct {
				Data       string            `json:"data"`
				Attributes map[string]string `json:"attributes"`
			} `json:"message"`
		}
		if err := json.Unmarshal(body, &push); err != nil || push.Message.Attributes == nil {
			return Object{}, errors.New("decode storage event: neither a CloudEvent nor a Pub/Sub push message")
		}
		data, err := base64.StdEncoding.DecodeString(push.Message.Data)
		if err != nil {
			return Object{}, fmt.Errorf("decode push data: %w", err)
		}
		return DecodePubSub(data, push.Message.Attributes)
	}
}

// Handler returns the HTTP endpoint for storage events in production: point an
// Eventarc trigger for google.cloud.storage.object.v1.finalized on the bucket at it
// (or a Pub/Sub push subscription of the bucket's notifications). 2xx acknowledges;
// 500 asks Eventarc to retry. Malformed or foreign events are acknowledged (400 would
// be retried forever by some senders, so they get 204 and a log line). An event is
// only a hint of which object to look at: HandleFinalize reads that object back from
// storage and acts on what is stored, so a forged event can at most cause a recheck.
func (p *Processor) Handler() http.Handler {
	log := p.log.With("door", "http")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST storage events here", http.StatusMethodNotAllowed)
			return
		}
		obj, err := DecodeCloudEvent(r)
		if p.handleEvent(r.Context(), log, obj, err) {
			http.Error(w, "retry", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleEvent handles one decoded storage event (obj, err as a decoder returns them)
// for either door, Handler or Service.Run, and reports whether the sender should
// deliver it again. Events of other types, objects already gone and undecodable
// events are acknowledged; a failed object lookup or check asks for a redelivery.
func (p *Processor) handleEvent(ctx context.Context, log *slog.Logger, obj Object, err error) (retry bool) {
	switch {
	case errors.Is(err, ErrNotFinalize):
		return false
	case errors.Is(err, errNoPayload):
		obj, err = p.completeObject(ctx, obj)
		if errors.Is(err, storage.ErrObjectNotExist) {
			return false // gone already: nothing to check
		}
		if err != nil {
			log.WarnContext(ctx, "storage event: object lookup failed; redelivering", "object", obj.Name, "err", err)
			return true
		}
	case err != nil:
		log.WarnContext(ctx, "undecodable storage event acknowledged", "err", err)
		return false
	}
	if err := p.HandleFinalize(ctx, obj); err != nil {
		log.ErrorContext(ctx, "storage event failed; redelivering", "object", obj.Name, "err", err)
		return true
	}
	return false
}
