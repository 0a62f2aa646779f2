package storagefake_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

// eventWait bounds how long a test waits for a notification; publishing
// normally takes a few tens of milliseconds.
const eventWait = 10 * time.Second

// withEvents turns notifications on, on a free port, for objects under media/.
func withEvents(c *storagefake.Config) {
	c.PubSubAddr = "127.0.0.1:0"
	c.EventPrefix = "media/"
}

// receive subscribes name and forwards events to the returned channel until
// the test ends. handle, when set, decides each event's ack (nil) or nack.
func receive(t *testing.T, e *env, name string, handle func(storagefake.FinalizeEvent) error) <-chan storagefake.FinalizeEvent {
	t.Helper()
	sub, err := e.srv.Subscribe(t.Context(), name)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", name, err)
	}
	events := make(chan storagefake.FinalizeEvent, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- sub.Receive(ctx, func(ctx context.Context, ev storagefake.FinalizeEvent) error {
			events <- ev
			if handle != nil {
				return handle(ev)
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Receive: %v", err)
		}
	})
	return events
}

func next(t *testing.T, events <-chan storagefake.FinalizeEvent) storagefake.FinalizeEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(eventWait):
		t.Fatalf("no finalize event within %s", eventWait)
		return storagefake.FinalizeEvent{}
	}
}

func TestFinalizeEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		upload func(t *testing.T, e *env, object string, body []byte)
	}{
		{name: "signed upload", upload: func(t *testing.T, e *env, object string, body []byte) {
			u := e.signPut(t, object, "image/png", "0,1024")
			if status, ge := put(t, u, body, uploadHeaders("image/png", "0,1024")); status != http.StatusOK {
				t.Fatalf("PUT %s = %d %s", object, status, ge.Code)
			}
		}},
		{name: "single-use signed upload", upload: func(t *testing.T, e *env, object string, body []byte) {
			u, h := e.signPutIf(t, object, "image/png", "0,1024", "0")
			if status, ge := put(t, u, body, h); status != http.StatusOK {
				t.Fatalf("PUT %s = %d %s", object, status, ge.Code)
			}
		}},
		{name: "admin write", upload: func(t *testing.T, e *env, object string, body []byte) {
			e.writeObject(t, object, "image/png", body)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withEvents)
			events := receive(t, e, "thumbnailer", nil)

			// Outside the prefix: filtered before publishing, so never delivered,
			// and published (if at all) before the media/ object below.
			tc.upload(t, e, "thumbs/r1/u1/cat.png", []byte("thumb"))
			body := []byte("\x89PNG fake image")
			const object = "media/r1/u1/cat ü.png"
			tc.upload(t, e, object, body)

			ev := next(t, events)
			if ev.Name != object || ev.Bucket != testBucket {
				t.Fatalf("event for %s/%s, want %s/%s", ev.Bucket, ev.Name, testBucket, object)
			}
			if ev.ContentType != "image/png" || ev.Size != int64(len(body)) {
				t.Errorf("event ContentType, Size = %q, %d; want image/png, %d", ev.ContentType, ev.Size, len(body))
			}
			attrs, _ := e.readObject(t, object)
			if ev.Generation == 0 || ev.Generation != attrs.Generation {
				t.Errorf("event Generation = %d, object's = %d", ev.Generation, attrs.Generation)
			}
			if ev.Attributes["eventType"] != storagefake.EventFinalize || ev.EventTime.IsZero() {
				t.Errorf("event attributes = %v", ev.Attributes)
			}
		})
	}
}

func TestFinalizeEventRedeliveredAfterError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withEvents)
	var calls atomic.Int32
	events := receive(t, e, "flaky", func(storagefake.FinalizeEvent) error {
		if calls.Add(1) == 1 {
			return errors.New("transient failure")
		}
		return nil
	})
	e.writeObject(t, "media/r1/u1/retry.jpg", "image/jpeg", []byte("x"))
	first, second := next(t, events), next(t, events)
	if first.Name != second.Name || first.Generation != second.Generation {
		t.Errorf("redelivered %s#%d, want %s#%d again", second.Name, second.Generation, first.Name, first.Generation)
	}
}

func TestSubscribeWithoutPubSub(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.srv.Subscribe(t.Context(), "x"); !errors.Is(err, storagefake.ErrEventsDisabled) {
		t.Errorf("Subscribe err = %v, want ErrEventsDisabled", err)
	}
	if got := e.srv.PubSubAddr(); got != "" {
		t.Errorf("PubSubAddr() = %q, want empty", got)
	}
}

func TestParseFinalizeEvent(t *testing.T) {
	t.Parallel()
	attrs := map[string]string{
		"bucketId": "b", "objectId": "media/x.jpg", "eventType": "OBJECT_FINALIZE",
		"eventTime": "2026-11-27T05:05:31Z", "objectGeneration": "1795755931966887",
	}
	tests := []struct {
		name    string
		data    string
		want    storagefake.FinalizeEvent
		wantErr bool
	}{
		{
			name: "cloud storage payload, numbers as strings",
			data: `{"kind":"storage#object","name":"media/x.jpg","bucket":"b","generation":"1795755931966887","contentType":"image/jpeg","size":"643","md5Hash":"bWQ1","crc32c":"AAAAAA==","timeCreated":"2026-11-27T05:05:31.123456Z","metadata":{"k":"v"}}`,
			want: storagefake.FinalizeEvent{Bucket: "b", Name: "media/x.jpg", Generation: 1795755931966887, ContentType: "image/jpeg", Size: 643, MD5Hash: "bWQ1", CRC32C: "AAAAAA=="},
		},
		{name: "names from attributes", data: `{"size":"1"}`, want: storagefake.FinalizeEvent{Bucket: "b", Name: "media/x.jpg", Size: 1}},
		{name: "number instead of string", data: `{"name":"a","bucket":"b","size":643}`, wantErr: true},
		{name: "not json", data: `nope`, wantErr: true},
		{name: "bad time", data: `{"name":"a","bucket":"b","timeCreated":"yesterday"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storagefake.ParseFinalizeEvent([]byte(tc.data), attrs)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseFinalizeEvent(%s) err = %v, wantErr %v", tc.data, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got.Bucket != tc.want.Bucket || got.Name != tc.want.Name || got.Generation != tc.want.Generation ||
				got.ContentType != tc.want.ContentType || got.Size != tc.want.Size || got.MD5Hash != tc.want.MD5Hash || got.CRC32C != tc.want.CRC32C {
				t.Errorf("ParseFinalizeEvent(%s) = %+v, want %+v", tc.data, got, tc.want)
			}
			if got.EventTime.IsZero() {
				t.Errorf("EventTime not parsed from attributes")
			}
		})
	}
}

// TestRefusedReplayPublishesNothing: a PUT refused by its precondition stores
// nothing and so announces nothing; the next event is for the next write.
func TestRefusedReplayPublishesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withEvents)
	events := receive(t, e, "checker", nil)
	const object = "media/r1/u1/once.png"
	u, h := e.signPutIf(t, object, "image/png", "0,1024", "0")
	if status, ge := put(t, u, []byte("first"), h); status != http.StatusOK {
		t.Fatalf("PUT = %d %s", status, ge.Code)
	}
	if ev := next(t, events); ev.Name != object {
		t.Fatalf("event for %s, want %s", ev.Name, object)
	}
	if status, ge := put(t, u, []byte("again"), h); status != http.StatusPreconditionFailed {
		t.Fatalf("replayed PUT = %d %s, want 412", status, ge.Code)
	}
	const marker = "media/r1/u1/marker.png"
	e.writeObject(t, marker, "image/png", []byte("marker"))
	if ev := next(t, events); ev.Name != marker {
		t.Errorf("event for %s (generation %d) after a refused replay, want the marker's", ev.Name, ev.Generation)
	}
}
