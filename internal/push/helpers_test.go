package push

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"firebase.google.com/go/v4/messaging"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/emulator/fcmfake"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// harness is one test's world: a fresh emulator project, an in-process fake FCM (so the
// test can inject failures and read exactly its own sends), a fake clock and a registry.
type harness struct {
	t      *testing.T
	ctx    context.Context
	env    *emutest.Env
	db     *firestore.Client
	fcm    *fcmfake.Server
	client *messaging.Client
	clock  *testClock
	reg    *prometheus.Registry
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := emutest.New(t)
	fcm := fcmfake.New(fcmfake.Config{})
	if err := fcm.Start(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fcm.Close() })
	client, err := fcmfake.NewMessagingClient(t.Context(), fcm.Addr(), env.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{
		t:      t,
		ctx:    t.Context(),
		env:    env,
		db:     env.Firestore(),
		fcm:    fcm,
		client: client,
		clock:  &testClock{Fake: clock.NewFake(time.Now().UTC().Truncate(time.Second))},
		reg:    prometheus.NewRegistry(),
	}
}

// testClock is internal/clock's Fake plus what the retry tests need: every After call's
// duration is recorded (Waits), and in auto mode (SetAuto) After moves the clock by its
// duration and fires at once, so code that backs off runs without waiting.
type testClock struct {
	*clock.Fake
	mu    sync.Mutex
	auto  bool
	waits []time.Duration
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	auto := c.auto
	c.mu.Unlock()
	if auto && d > 0 {
		c.Advance(d)
		return c.Fake.After(0)
	}
	return c.Fake.After(d)
}

// SetAuto switches auto mode on or off.
func (c *testClock) SetAuto(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auto = on
}

// Waits returns the durations passed to After so far, in call order.
func (c *testClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// notifier returns a Notifier on the harness's clock, fake FCM and registry.
func (h *harness) notifier(cfg Config) *Notifier {
	h.t.Helper()
	return h.notifierWith(cfg, h.clock)
}

func (h *harness) notifierWith(cfg Config, clk clock.Clock) *Notifier {
	h.t.Helper()
	n, err := New(cfg, Deps{
		Firestore:  h.db,
		Sender:     h.client,
		Clock:      clk,
		Logger:     slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: h.reg,
	})
	if err != nil {
		h.t.Fatalf("New() = %v", err)
	}
	return n
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

func (h *harness) set(path string, v any) {
	h.t.Helper()
	if _, err := h.db.Doc(path).Set(h.ctx, v); err != nil {
		h.t.Fatalf("set %s: %v", path, err)
	}
}

func (h *harness) user(uid, name string, previews bool) {
	h.set(model.UserPath(uid), model.User{DisplayName: name, Settings: model.UserSettings{NotificationPreviews: &previews}, CreatedAt: h.clock.Now()})
}

// room creates a room with profiles for its members (names: "Alice" for "alice").
func (h *harness) room(id string, typ model.RoomType, title string, members ...string) {
	h.t.Helper()
	for _, uid := range members {
		h.user(uid, displayName(uid), true)
	}
	h.set(model.RoomPath(id), model.Room{Type: typ, Title: title, CreatedBy: members[0], CreatedAt: h.clock.Now(),
		MemberIDs: members, MemberCount: len(members), LastMessageAt: h.clock.Now()})
}

func displayName(uid string) string {
	if uid == "" {
		return ""
	}
	return string(uid[0]-'a'+'A') + uid[1:]
}

func (h *harness) device(uid, id, token string, platform model.Platform, updated time.Time) {
	h.set(model.DevicePath(uid, id), model.Device{Token: token, Platform: platform, UpdatedAt: updated})
}

func (h *harness) membership(uid, roomID string, m model.Membership) {
	h.set(model.MembershipPath(uid, roomID), m)
}

// message writes a message created now (fake clock) and returns it.
func (h *harness) message(roomID, id, sender, text string, mentions ...string) model.Message {
	h.t.Helper()
	m := model.Message{SenderID: sender, Type: model.MessageText, Text: text, Mentions: mentions, CreatedAt: h.clock.Now().UTC()}
	h.set(model.MessagePath(roomID, id), m)
	return m
}

// say writes a message and runs the message trigger for it.
func (h *harness) say(n *Notifier, roomID, id, sender, text string, mentions ...string) model.Message {
	h.t.Helper()
	m := h.message(roomID, id, sender, text, mentions...)
	h.notify(n, roomID, id, m)
	return m
}

// sayReply writes a reply to message root, created now, and runs the message trigger
// for it.
func (h *harness) sayReply(n *Notifier, roomID, id, sender, text, root string) model.Message {
	h.t.Helper()
	m := model.Message{SenderID: sender, Type: model.MessageText, Text: text, ReplyTo: root, CreatedAt: h.clock.Now().UTC()}
	h.set(model.MessagePath(roomID, id), m)
	h.notify(n, roomID, id, m)
	return m
}

// notify runs the message trigger for m, stored as roomID/id.
func (h *harness) notify(n *Notifier, roomID, id string, m model.Message) {
	h.t.Helper()
	if err := n.NotifyMessage(h.ctx, roomID, id, m); err != nil {
		h.t.Fatalf("NotifyMessage(%s) = %v", id, err)
	}
}

func (h *harness) flush(n *Notifier) int {
	h.t.Helper()
	c, err := n.Flush(h.ctx)
	if err != nil {
		h.t.Fatalf("Flush() = %v", err)
	}
	return c
}

// tokens returns the tokens of the fake's sends, in order.
func tokens(sent []fcmfake.Sent) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		out[i] = s.Token
	}
	return out
}

func (h *harness) entry(uid, roomID string) *entry {
	h.t.Helper()
	snap, err := h.db.Doc(model.PushQueuePath(uid, roomID)).Get(h.ctx)
	if firestoreerr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var e entry
	if err := snap.DataTo(&e); err != nil {
		h.t.Fatal(err)
	}
	return &e
}

func (h *harness) deviceExists(uid, id string) bool {
	h.t.Helper()
	_, err := h.db.Doc(model.DevicePath(uid, id)).Get(h.ctx)
	if firestoreerr.IsNotFound(err) {
		return false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return true
}

func counter(v *prometheus.CounterVec, label string) float64 {
	return testutil.ToFloat64(v.WithLabelValues(label))
}

// event builds the CloudEvent the emulator would deliver for a write of fields at path
// (nil fields: a delete), as the trigger handlers receive it.
func event(project, kind, path string, old, fields map[string]any) *firestoreevent.Event {
	name := "projects/" + project + "/databases/(default)/documents/" + path
	doc := func(f map[string]any) *firestorepb.Document {
		if f == nil {
			return nil
		}
		d := &firestorepb.Document{Name: name, Fields: map[string]*firestorepb.Value{}}
		for k, v := range f {
			d.Fields[k] = pbValue(v)
		}
		return d
	}
	return &firestoreevent.Event{
		Meta:     firestoreevent.Meta{Type: kind, Project: project, Document: path},
		Kind:     firestoreevent.KindOf(kind),
		Value:    doc(fields),
		OldValue: doc(old),
	}
}

func pbValue(v any) *firestorepb.Value {
	switch x := v.(type) {
	case string:
		return &firestorepb.Value{ValueType: &firestorepb.Value_StringValue{StringValue: x}}
	case bool:
		return &firestorepb.Value{ValueType: &firestorepb.Value_BooleanValue{BooleanValue: x}}
	case int:
		return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: int64(x)}}
	case time.Time:
		return &firestorepb.Value{ValueType: &firestorepb.Value_TimestampValue{TimestampValue: timestamppb.New(x)}}
	case []string:
		vals := make([]*firestorepb.Value, len(x))
		for i, s := range x {
			vals[i] = pbValue(s)
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_ArrayValue{ArrayValue: &firestorepb.ArrayValue{Values: vals}}}
	}
	panic(fmt.Sprintf("pbValue: unsupported %T", v))
}

// messageFields renders a message as event fields.
func messageFields(m model.Message) map[string]any {
	f := map[string]any{"senderId": m.SenderID, "type": string(m.Type), "text": m.Text, "createdAt": m.CreatedAt}
	if len(m.Mentions) > 0 {
		f["mentions"] = slices.Clone(m.Mentions)
	}
	return f
}
