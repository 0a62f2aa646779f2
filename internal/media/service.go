package media

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/clock"
)

// Service is the media pipeline built from one Config: the Issuer behind
// POST /v1/uploads and GET /v1/media/..., the Processor behind storage events, and
// Run, which feeds the Processor from Pub/Sub and sweeps expired uploads.
type Service struct {
	Issuer    *Issuer
	Processor *Processor

	cfg    Config
	pubsub *pubsub.Client // optional, from Deps
	clock  clock.Clock
	log    *slog.Logger
}

// New validates cfg and deps and builds the pipeline.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.validate(); err != nil { // fills in the defaults Run reads
		return nil, err
	}
	if err := deps.validate(); err != nil { // fills in the clock and logger Run uses
		return nil, err
	}
	is, err := NewIssuer(cfg, deps)
	if err != nil {
		return nil, err
	}
	p, err := NewProcessor(cfg, deps)
	if err != nil {
		return nil, err
	}
	return &Service{Issuer: is, Processor: p, cfg: cfg, clock: deps.Clock, log: deps.Logger.With("component", "media")}, nil
}

// WithPubSub makes Run use client (for example one with explicit endpoint options)
// instead of building its own with pubsub.NewClient, which honours
// PUBSUB_EMULATOR_HOST. It returns s.
func (s *Service) WithPubSub(client *pubsub.Client) *Service {
	s.pubsub = client
	return s
}

// Run runs the pipeline's background work until ctx ends (then it returns nil): every
// Config.ExpireInterval (unless negative) it sweeps expired uploads
// (Processor.ExpireUploads), and it receives storage notifications from Pub/Sub. When
// it has neither to do it returns nil at once. An error of the Pub/Sub receiver stops
// both and is returned.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	if s.cfg.ExpireInterval > 0 {
		g.Go(func() error {
			s.expireLoop(ctx)
			return nil
		})
	}
	g.Go(func() error { return s.receive(ctx) })
	return g.Wait()
}

// Receive hands storage notifications from Pub/Sub to the Processor until ctx ends
// (see Run); the expiry sweep is left to the caller's scheduler (ExpireUploads every
// ExpireInterval: package functions' registry runs it as media-expiry).
func (s *Service) Receive(ctx context.Context) error { return s.receive(ctx) }

// ExpireInterval is Config.ExpireInterval in effect: how often ExpireUploads should
// run; zero or less when the sweep is off.
func (s *Service) ExpireInterval() time.Duration { return s.cfg.ExpireInterval }

// ExpireUploads is the expiry sweep (Processor.ExpireUploads): one run, which
// several processes may do at once.
func (s *Service) ExpireUploads(ctx context.Context) (int, error) {
	return s.Processor.ExpireUploads(ctx)
}

// expireLoop runs Processor.ExpireUploads every Config.ExpireInterval until ctx ends.
// Sweeps in several processes at once are safe, so there is no lease.
func (s *Service) expireLoop(ctx context.Context) {
	s.log.InfoContext(ctx, "sweeping expired uploads", "every", s.cfg.ExpireInterval, "grace", s.cfg.ExpireGrace)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.cfg.ExpireInterval):
		}
		n, err := s.Processor.ExpireUploads(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.WarnContext(ctx, "expiry sweep failed; next sweep retries", "settled", n, "err", err)
		case n > 0:
			s.log.InfoContext(ctx, "expiry sweep settled uploads", "settled", n)
		}
	}
}

// receive hands object-finalized events from Pub/Sub to the Processor until ctx ends
// (then it returns nil). It does so only when Config.PubSubEnabled (LoadConfig sets it
// under PUBSUB_EMULATOR_HOST, where the local storage publishes its notifications, or
// when HEARTH_MEDIA_SUBSCRIPTION names a production subscription); otherwise it
// returns nil at once: in production the same events arrive over HTTP through
// Processor.Handler.
//
// The subscription Config.Subscription on Config.Topic is created when missing (the
// local case); an existing one is reused, so undelivered events survive a restart.
func (s *Service) receive(ctx context.Context) error {
	if !s.cfg.PubSubEnabled {
		s.log.InfoContext(ctx, "storage events come over HTTP (Eventarc); no Pub/Sub subscription")
		return nil
	}
	client := s.pubsub
	if client == nil {
		c, err := pubsub.NewClient(ctx, s.cfg.PubSubProject)
		if err != nil {
			return fmt.Errorf("media: pubsub client: %w", err)
		}
		defer c.Close()
		client = c
	}
	subName := "projects/" + s.cfg.PubSubProject + "/subscriptions/" + s.cfg.Subscription
	topic := s.cfg.Topic
	if !strings.HasPrefix(topic, "projects/") {
		topic = "projects/" + s.cfg.PubSubProject + "/topics/" + topic
	}
	_, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               subName,
		Topic:              topic,
		AckDeadlineSeconds: 60,
	})
	switch status.Code(err) {
	case codes.OK, codes.AlreadyExists:
	case codes.PermissionDenied: // production: the subscription is managed elsewhere
		s.log.InfoContext(ctx, "cannot create the subscription; using it as it is", "subscription", subName)
	default:
		return fmt.Errorf("media: create subscription %s on %s: %w", subName, topic, err)
	}
	sub := client.Subscriber(subName)
	sub.ReceiveSettings.MaxOutstandingMessages = 4 * s.cfg.Workers
	s.log.InfoContext(ctx, "receiving storage events", "subscription", subName, "topic", topic)
	err = sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		obj, err := DecodePubSub(m.Data, m.Attributes)
		if s.Processor.handleEvent(ctx, s.log, obj, err) {
			m.Nack()
			return
		}
		m.Ack()
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("media: receive %s: %w", subName, err)
	}
	return nil
}

// completeObject fills in a payload-less notification's object from its attributes.
func (p *Processor) completeObject(ctx context.Context, obj Object) (Object, error) {
	h := p.bucket.Object(obj.Name)
	if obj.Generation != 0 {
		h = h.Generation(obj.Generation)
	}
	attrs, err := h.Attrs(ctx)
	if err != nil {
		return obj, fmt.Errorf("object %s: %w", obj.Name, err)
	}
	obj.Generation = attrs.Generation
	obj.ContentType = attrs.ContentType
	obj.Size = attrs.Size
	obj.MD5Hash = base64.StdEncoding.EncodeToString(attrs.MD5)
	return obj, nil
}
