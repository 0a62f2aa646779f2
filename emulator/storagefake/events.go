package storagefake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// EventFinalize is the eventType attribute of an object-finalize notification.
const EventFinalize = "OBJECT_FINALIZE"

const pubsubEmulatorEnv = "PUBSUB_EMULATOR_HOST"

// pubsubEnvMu serialises the one process-wide side effect of this package.
// fake-gcs-server v1.56.1 builds its event publisher inside
// NewServerWithOptions with pubsub.NewClient(ctx, project) and no options
// (internal/notification/event.go), so the only way to aim it at our pstest is
// PUBSUB_EMULATOR_HOST, which the pubsub library reads during NewClient only.
// newFakeGCS sets it under this lock and restores it at once; the built client
// keeps the address. The mutex holds no data.
var pubsubEnvMu sync.Mutex

// newFakeGCS builds fake-gcs-server; with pubsubAddr set, its publisher dials
// that address.
func newFakeGCS(opts fakestorage.Options, pubsubAddr string) (*fakestorage.Server, error) {
	if pubsubAddr == "" {
		return fakestorage.NewServerWithOptions(opts)
	}
	pubsubEnvMu.Lock()
	defer pubsubEnvMu.Unlock()
	old, had := os.LookupEnv(pubsubEmulatorEnv)
	if err := os.Setenv(pubsubEmulatorEnv, pubsubAddr); err != nil {
		return nil, fmt.Errorf("set %s: %w", pubsubEmulatorEnv, err)
	}
	defer func() {
		if had {
			os.Setenv(pubsubEmulatorEnv, old)
		} else {
			os.Unsetenv(pubsubEmulatorEnv)
		}
	}()
	return fakestorage.NewServerWithOptions(opts)
}

// startPubSub starts pstest, creates the topic (before fake-gcs can publish:
// publishing to a missing topic fails and is only logged) and a client for
// subscriptions.
func (s *Server) startPubSub() error {
	ps, err := newPubSubFake(s.cfg.PubSubAddr)
	if err != nil {
		return err
	}
	s.ps = ps
	// In-process call: pstest ignores the context and there is no network hop.
	if _, err := ps.GServer.CreateTopic(context.Background(), &pubsubpb.Topic{Name: s.Topic()}); err != nil {
		return fmt.Errorf("create topic %s: %w", s.Topic(), err)
	}
	// Explicit options instead of PUBSUB_EMULATOR_HOST: no global state, and
	// they take precedence over the variable if the process has it set.
	client, err := pubsub.NewClient(context.Background(), s.cfg.ProjectID,
		option.WithEndpoint(s.PubSubAddr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled(),
	)
	if err != nil {
		return fmt.Errorf("pubsub client for %s: %w", s.PubSubAddr(), err)
	}
	s.psClient = client
	return nil
}

// newPubSubFake starts pstest on addr. pstest panics when it cannot listen;
// that becomes an error here.
func newPubSubFake(addr string) (ps *pstest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("start pubsub fake on %s: %w", addr, e)
			} else {
				err = fmt.Errorf("start pubsub fake on %s: %v", addr, r)
			}
		}
	}()
	return pstest.NewServerWithAddress(addr), nil
}

// PubSubAddr is the host:port of the Pub/Sub fake (for PUBSUB_EMULATOR_HOST),
// or "" when notifications are off.
func (s *Server) PubSubAddr() string {
	if s.ps == nil {
		return ""
	}
	host, port, err := net.SplitHostPort(s.ps.Addr)
	if err != nil {
		return s.ps.Addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// ProjectID is the Pub/Sub project that owns Topic.
func (s *Server) ProjectID() string { return s.cfg.ProjectID }

// Topic is the full name of the notification topic,
// "projects/{project}/topics/{topic}".
func (s *Server) Topic() string {
	return "projects/" + s.cfg.ProjectID + "/topics/" + s.cfg.Topic
}

// ErrEventsDisabled is returned by Subscribe when Config.PubSubAddr was empty.
var ErrEventsDisabled = errors.New("storagefake: notifications are off (Config.PubSubAddr is empty)")

// Subscribe creates (or reuses) the subscription name on the notification
// topic. Events published after Subscribe returns are kept for it, so call it
// before the upload you wait for, then Receive.
func (s *Server) Subscribe(ctx context.Context, name string) (*Subscription, error) {
	if s.psClient == nil {
		return nil, ErrEventsDisabled
	}
	full := "projects/" + s.cfg.ProjectID + "/subscriptions/" + name
	_, err := s.psClient.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               full,
		Topic:              s.Topic(),
		AckDeadlineSeconds: 10,
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return nil, fmt.Errorf("create subscription %s: %w", full, err)
	}
	return &Subscription{name: full, sub: s.psClient.Subscriber(full), log: s.log}, nil
}

// Subscription delivers the finalize events of one Pub/Sub subscription.
type Subscription struct {
	name string
	sub  *pubsub.Subscriber
	log  *slog.Logger
}

// Name is the full subscription name, "projects/{project}/subscriptions/{name}".
func (sub *Subscription) Name() string { return sub.name }

// Receive calls fn for every OBJECT_FINALIZE event until ctx is done, then
// returns nil; it returns an error if receiving fails before that (e.g. the
// Server was closed). fn may run concurrently. A nil result acks the message; an error
// nacks it, so it is delivered again (as Cloud Storage triggers retry). Other
// event types and undecodable messages are acked and skipped.
func (sub *Subscription) Receive(ctx context.Context, fn func(ctx context.Context, ev FinalizeEvent) error) error {
	err := sub.sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		if m.Attributes["eventType"] != EventFinalize {
			m.Ack()
			return
		}
		ev, err := ParseFinalizeEvent(m.Data, m.Attributes)
		if err != nil {
			sub.log.Warn("undecodable storage event dropped", "subscription", sub.name, "err", err)
			m.Ack()
			return
		}
		if err := fn(ctx, ev); err != nil {
			sub.log.Info("storage event handler failed; redelivering", "object", ev.Name, "err", err)
			m.Nack()
			return
		}
		m.Ack()
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("receive %s: %w", sub.name, err)
	}
	// Once ctx is done any error is the cancellation itself (sometimes a gRPC
	// Canceled status rather than context.Canceled, when the server is closed
	// at the same time).
	return nil
}

// FinalizeEvent is an OBJECT_FINALIZE notification: the object that was
// written, decoded from the JSON_API_V1 payload and the message attributes.
type FinalizeEvent struct {
	Bucket      string
	Name        string
	Generation  int64
	ContentType string
	Size        int64
	MD5Hash     string // base64, as in the JSON API
	CRC32C      string // base64, as in the JSON API
	Metadata    map[string]string
	TimeCreated time.Time // zero when the payload has none
	EventTime   time.Time // zero when the attributes have none
	// Attributes are the raw Pub/Sub attributes (bucketId, objectId,
	// objectGeneration, eventType, eventTime, payloadFormat, ...).
	Attributes map[string]string
}

// objectPayload is the JSON_API_V1 object resource; Cloud Storage and
// fake-gcs both send its numbers as strings.
type objectPayload struct {
	Name        string            `json:"name"`
	Bucket      string            `json:"bucket"`
	Generation  int64             `json:"generation,string"`
	ContentType string            `json:"contentType"`
	Size        int64             `json:"size,string"`
	MD5Hash     string            `json:"md5Hash"`
	CRC32C      string            `json:"crc32c"`
	TimeCreated string            `json:"timeCreated"`
	Metadata    map[string]string `json:"metadata"`
}

// ParseFinalizeEvent decodes a storage notification message (its data and
// attributes). It does not check the event type.
func ParseFinalizeEvent(data []byte, attrs map[string]string) (FinalizeEvent, error) {
	var p objectPayload
	if err := json.Unmarshal(data, &p); err != nil {
		return FinalizeEvent{}, fmt.Errorf("decode storage event payload: %w", err)
	}
	ev := FinalizeEvent{
		Bucket:      p.Bucket,
		Name:        p.Name,
		Generation:  p.Generation,
		ContentType: p.ContentType,
		Size:        p.Size,
		MD5Hash:     p.MD5Hash,
		CRC32C:      p.CRC32C,
		Metadata:    p.Metadata,
		Attributes:  attrs,
	}
	if ev.Bucket == "" {
		ev.Bucket = attrs["bucketId"]
	}
	if ev.Name == "" {
		ev.Name = attrs["objectId"]
	}
	if ev.Name == "" || ev.Bucket == "" {
		return FinalizeEvent{}, errors.New("decode storage event: no bucket or object name")
	}
	if p.TimeCreated != "" {
		t, err := time.Parse(time.RFC3339Nano, p.TimeCreated)
		if err != nil {
			return FinalizeEvent{}, fmt.Errorf("decode storage event timeCreated: %w", err)
		}
		ev.TimeCreated = t
	}
	if v := attrs["eventTime"]; v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return FinalizeEvent{}, fmt.Errorf("decode storage event eventTime: %w", err)
		}
		ev.EventTime = t
	}
	return ev, nil
}
