package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/messaging"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/model"
)

// Sender is the part of the FCM client the notifier uses; *messaging.Client satisfies it.
// SendEach takes at most model.MaxPushBatch messages and answers one response per
// message, in order.
type Sender interface {
	SendEach(ctx context.Context, messages []*messaging.Message) (*messaging.BatchResponse, error)
}

// Deps are the notifier's collaborators.
type Deps struct {
	// Firestore is an admin client (it reads private memberships and devices, and owns
	// pushQueue). Required.
	Firestore *firestore.Client
	// Sender sends to FCM: a *messaging.Client (NewMessagingClient). Required.
	Sender Sender
	// Clock is the time source of digest windows, leases and retry backoff, so tests
	// drive them with a clock.Fake. Defaults to clock.System.
	Clock clock.Clock
	// Logger defaults to discarding; the notifier logs with component=push.
	Logger *slog.Logger
	// Registerer receives the hearth_push_* metrics; nil registers nowhere. A second
	// Notifier on the same Registerer shares the first one's collectors.
	Registerer prometheus.Registerer
}

// Notifier turns new messages into push notifications: the message trigger decides who
// is notified and sends first messages, mentions and direct messages at once; the
// flusher (Run) sends the digests that collect in pushQueue meanwhile. Several Notifiers
// (instances) may run against one database: the queue's leases keep them from sending
// the same notification twice.
type Notifier struct {
	cfg      Config
	db       *firestore.Client
	clock    clock.Clock
	log      *slog.Logger
	m        *metrics
	fan      *fanout
	instance string
	// badgeOf returns a recipient's badge number (inbox.Badge; replaced in tests).
	badgeOf func(ctx context.Context, uid string) (int, error)

	metricsMu sync.Mutex
	metricsAt time.Time // when FlushDue last set the queue gauges
}

// New returns a Notifier. It validates cfg (zero fields take the Default* values).
func New(cfg Config, deps Deps) (*Notifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if deps.Firestore == nil {
		return nil, errors.New("push: Deps.Firestore is required")
	}
	if deps.Sender == nil {
		return nil, errors.New("push: Deps.Sender is required")
	}
	if deps.Clock == nil {
		deps.Clock = clock.System{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("push: register metrics: %w", err)
	}
	if cfg.InstanceID == "" {
		cfg.InstanceID = defaultInstanceID()
	}
	log := deps.Logger.With("component", "push")
	n := &Notifier{
		cfg:      cfg,
		db:       deps.Firestore,
		clock:    deps.Clock,
		log:      log,
		m:        m,
		instance: cfg.InstanceID,
	}
	n.fan = &fanout{sender: deps.Sender, clock: deps.Clock, cfg: cfg, m: m, log: log}
	n.badgeOf = func(ctx context.Context, uid string) (int, error) {
		t, err := inbox.Badge(ctx, n.db, uid)
		return t.Unread, err
	}
	return n, nil
}

// Config returns the configuration in effect, defaults filled in.
func (n *Notifier) Config() Config { return n.cfg }

// now is the clock's time as Firestore stores it (UTC, microseconds), so times written
// and read back compare equal.
func (n *Notifier) now() time.Time {
	return n.clock.Now().UTC().Truncate(time.Microsecond)
}

// defaultInstanceID names this process in leases: host, pid and a random suffix (two
// Notifiers in one process are still different owners).
func defaultInstanceID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomID(4))
}

func randomID(nbytes int) string {
	b := make([]byte, nbytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var errShortResponse = errors.New("push: SendEach answered fewer responses than messages")

// Kinds of push, for metrics and logs: immediate pushes are sent by the message trigger,
// digests by the flusher.
const (
	KindImmediate = "immediate"
	KindDigest    = "digest"
)

// roomOf reads rooms/{roomID}; nil when it does not exist.
func (n *Notifier) roomOf(ctx context.Context, roomID string) (*model.Room, error) {
	snap, err := n.db.Doc(model.RoomPath(roomID)).Get(ctx)
	if firestoreerr.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get room %s: %w", roomID, err)
	}
	var r model.Room
	if err := snap.DataTo(&r); err != nil {
		return nil, fmt.Errorf("decode room %s: %w", roomID, err)
	}
	return &r, nil
}
