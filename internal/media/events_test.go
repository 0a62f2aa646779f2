package media

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/model"
)

// objectData is a StorageObjectData / JSON API object resource as Cloud Storage sends
// it (int64 fields as strings).
const objectData = `{"kind":"storage#object","id":"b/media/r/u/x.jpg/1700000000000001","name":"media/r/u/x.jpg",
"bucket":"b","generation":"1700000000000001","metageneration":"1","contentType":"image/jpeg",
"timeCreated":"2026-01-02T03:04:05.678Z","updated":"2026-01-02T03:04:05.678Z","storageClass":"STANDARD",
"size":"12345","md5Hash":"q2o3XJ5N1Y8dKx3nW7Vmjw==","crc32c":"AAAAAA==","etag":"CAE="}`

var wantObject = Object{Bucket: "b", Name: "media/r/u/x.jpg", Generation: 1700000000000001,
	ContentType: "image/jpeg", Size: 12345, MD5Hash: "q2o3XJ5N1Y8dKx3nW7Vmjw=="}

func TestDecodeCloudEvent(t *testing.T) {
	binary := func(typ string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(objectData))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Ce-Id", "1")
		r.Header.Set("Ce-Specversion", "1.0")
		r.Header.Set("Ce-Source", "//storage.googleapis.com/projects/_/buckets/b")
		r.Header.Set("Ce-Subject", "objects/media/r/u/x.jpg")
		r.Header.Set("Ce-Type", typ)
		return r
	}
	structured := func(typ string, b64 bool) *http.Request {
		ev := map[string]any{"specversion": "1.0", "id": "1", "type": typ, "source": "//storage.googleapis.com/projects/_/buckets/b"}
		if b64 {
			ev["data_base64"] = base64.StdEncoding.EncodeToString([]byte(objectData))
		} else {
			ev["data"] = json.RawMessage(objectData)
		}
		body, _ := json.Marshal(ev)
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
		return r
	}
	push := func(eventType string) *http.Request {
		body, _ := json.Marshal(map[string]any{"message": map[string]any{
			"data":       base64.StdEncoding.EncodeToString([]byte(objectData)),
			"attributes": map[string]string{"eventType": eventType, "bucketId": "b", "objectId": "media/r/u/x.jpg", "payloadFormat": "JSON_API_V1"},
		}, "subscription": "projects/p/subscriptions/s"})
		return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	}
	cases := []struct {
		name    string
		req     *http.Request
		wantErr error
	}{
		{"binary", binary(CloudEventFinalized), nil},
		{"structured", structured(CloudEventFinalized, false), nil},
		{"structured base64", structured(CloudEventFinalized, true), nil},
		{"pubsub push", push(PubSubFinalize), nil},
		{"binary delete", binary("google.cloud.storage.object.v1.deleted"), ErrNotFinalize},
		{"structured metadata update", structured("google.cloud.storage.object.v1.metadataUpdated", false), ErrNotFinalize},
		{"pubsub delete", push("OBJECT_DELETE"), ErrNotFinalize},
		{"garbage", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{")), errAny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeCloudEvent(c.req)
			switch {
			case c.wantErr == errAny:
				if err == nil {
					t.Fatalf("DecodeCloudEvent() = %+v, want an error", got)
				}
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("DecodeCloudEvent() = %v, want %v", err, c.wantErr)
				}
			case err != nil:
				t.Fatalf("DecodeCloudEvent() = %v", err)
			case got != wantObject:
				t.Errorf("DecodeCloudEvent() = %+v, want %+v", got, wantObject)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestHandler delivers an uploaded photo's finalize event through the HTTP door, as
// Eventarc would.
func TestHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(f.svc.Processor.Handler())
	t.Cleanup(srv.Close)
	body := encodeJPEG(t, quadrantImage(100, 50))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))

	data, _ := json.Marshal(map[string]string{
		"bucket": obj.Bucket, "name": obj.Name, "generation": itoa(obj.Generation),
		"contentType": obj.ContentType, "size": itoa(obj.Size), "md5Hash": obj.MD5Hash,
	})
	post := func(typ, payload string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Id", "abc")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Source", "//storage.googleapis.com/projects/_/buckets/"+obj.Bucket)
		req.Header.Set("Ce-Type", typ)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(CloudEventFinalized, string(data)); code != http.StatusNoContent {
		t.Fatalf("POST finalized = %d, want 204", code)
	}
	if got := f.message("m").Media.Status; got != model.MediaReady {
		t.Errorf("message status = %s, want ready", got)
	}
	if code := post("google.cloud.storage.object.v1.deleted", string(data)); code != http.StatusNoContent {
		t.Errorf("POST deleted = %d, want 204 (acknowledged, ignored)", code)
	}
	if code := post(CloudEventFinalized, "not json"); code != http.StatusNoContent {
		t.Errorf("POST garbage = %d, want 204 (acknowledged, never retried)", code)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d, want 405", resp.StatusCode)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestRunLocalNotifications is the `hearth dev` path: the suite's storage publishes
// OBJECT_FINALIZE to its Pub/Sub (PUBSUB_EMULATOR_HOST), Run receives it, and the
// message turns ready without anyone calling the processor.
func TestRunLocalNotifications(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	cfg := configFromEnv(t)
	var err error
	cfg.Subscription = "media-" + env.ProjectID // this test's own copy of the events
	f := &fixture{t: t, env: env, fs: env.Firestore(), gcs: env.Storage(), bucket: env.Bucket,
		alice: "alice", bob: "bob", banned: "eve", roomID: "run-" + strings.TrimPrefix(env.ProjectID, "demo-t")}
	f.svc, err = New(cfg, Deps{Firestore: f.fs, Storage: f.gcs, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f.seedRoom(f.roomID, false, f.alice, f.bob)

	// Create the subscription before the upload (Pub/Sub keeps only what is published
	// after a subscription exists); Run then reuses it.
	ps, err := pubsub.NewClient(t.Context(), cfg.PubSubProject)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(t.Context(), &pubsubpb.Subscription{
		Name:  "projects/" + cfg.PubSubProject + "/subscriptions/" + cfg.Subscription,
		Topic: "projects/" + cfg.PubSubProject + "/topics/" + DefaultTopic,
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()

	body := withEXIF(encodeJPEG(t, quadrantImage(120, 60)), exifTIFF(OrientRotate270CW, true))
	tk, _ := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))
	emutest.Eventually(t, 30*time.Second, func() error {
		if st := f.message("m").Media.Status; st != model.MediaReady {
			return errors.New("status " + string(st))
		}
		return nil
	})
	if m := f.message("m").Media; m.Width != 60 || m.Height != 120 || m.ThumbnailPath == "" {
		t.Errorf("media = %+v, want 60×120 with thumbnail", *m)
	}
	stopRun(t, cancel, done)
}

// TestRunDisabled: without Pub/Sub and with the expiry sweep off, Run returns at once.
func TestRunDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.ExpireInterval = -1 })
	if err := f.svc.Run(t.Context()); err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
}

func TestDecodePubSub(t *testing.T) {
	attrs := map[string]string{"eventType": PubSubFinalize, "bucketId": "b", "objectId": "media/r/u/x.jpg",
		"objectGeneration": "1700000000000001", "payloadFormat": "JSON_API_V1"}
	if got, err := DecodePubSub([]byte(objectData), attrs); err != nil || got != wantObject {
		t.Errorf("DecodePubSub(JSON_API_V1) = %+v, %v; want %+v", got, err, wantObject)
	}
	// payloadFormat NONE: only the attributes say which object; the caller looks it up.
	got, err := DecodePubSub(nil, attrs)
	if !errors.Is(err, errNoPayload) || got.Name != "media/r/u/x.jpg" || got.Generation != 1700000000000001 {
		t.Errorf("DecodePubSub(NONE) = %+v, %v; want the object named by the attributes and errNoPayload", got, err)
	}
	attrs["eventType"] = "OBJECT_DELETE"
	if _, err := DecodePubSub([]byte(objectData), attrs); !errors.Is(err, ErrNotFinalize) {
		t.Errorf("DecodePubSub(OBJECT_DELETE) = %v, want ErrNotFinalize", err)
	}
}

// stopRun cancels a running Service.Run (as Ctrl-C would) and checks it returns nil.
func stopRun(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
