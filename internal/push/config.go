package push

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config. Zero fields of a Config take these values in New.
const (
	DefaultWindow               = 10 * time.Second
	DefaultLease                = 60 * time.Second
	DefaultPollInterval         = time.Second
	DefaultFlushLimit           = 200
	DefaultMaxConcurrentBatches = 4
	DefaultConcurrency          = 32
	DefaultMaxRetries           = 3
	DefaultRetryBase            = 500 * time.Millisecond
	DefaultRetryMax             = 15 * time.Second
	DefaultMaxAttempts          = 8
	DefaultTokenMaxAge          = 270 * 24 * time.Hour
	DefaultMaxMessageAge        = time.Hour
	DefaultTTL                  = 24 * time.Hour
	DefaultQueueMetricsInterval = 15 * time.Second
	DefaultMentionsPerMinute    = 10
	DefaultAndroidChannelDirect = "hearth_direct"
	DefaultAndroidChannelGroup  = "hearth_group"
	DefaultAPNSCategory         = "HEARTH_MESSAGE"
)

// Config configures a Notifier. Every field has a default (the Default* constants) that a
// zero value selects; the env tags name the HEARTH_PUSH_* variables app.LoadConfig reads
// (docs/configuration.md is generated from them).
type Config struct {
	// Window is the aggregation window: after a push for a (recipient, room), further
	// messages of the room within Window are collected and sent as one digest when it ends.
	// A negative value turns digests off (every message is pushed).
	Window time.Duration `env:"HEARTH_PUSH_WINDOW" envDefault:"10s" doc:"aggregation window of push digests per recipient and room; negative (-1s) turns digests off"`
	// Lease is how long a claimed queue entry belongs to the instance that claimed it. It
	// must be longer than one send with its retries; when it expires without the send being
	// recorded (a crash), another instance sends the entry again.
	Lease time.Duration `env:"HEARTH_PUSH_LEASE" envDefault:"60s" doc:"how long a claimed push queue entry belongs to its instance; must exceed the longest in-process retry"`
	// PollInterval is how often the flusher looks for due digests.
	PollInterval time.Duration `env:"HEARTH_PUSH_POLL" envDefault:"1s" doc:"how often the flusher looks for due digests"`
	// FlushLimit is the most queue entries one flush claims.
	FlushLimit int
	// MaxConcurrentBatches is how many SendEach calls (of up to 500 messages each, sent by
	// the SDK with 50 workers) run at once.
	MaxConcurrentBatches int `env:"HEARTH_PUSH_CONCURRENCY" envDefault:"4" doc:"FCM SendEach calls (up to 500 messages each) in flight at once"`
	// Concurrency bounds the parallel Firestore work of one fan-out (queue commits,
	// device queries).
	Concurrency int
	// MaxRetries is how often a message that failed with 429 or 5xx is resent within one
	// send, with exponential backoff and jitter from RetryBase up to RetryMax, or after the
	// Retry-After the server asked for. A longer Retry-After, or failures left after
	// MaxRetries, put the notification back in the queue (due after the wait).
	MaxRetries int
	RetryBase  time.Duration
	RetryMax   time.Duration
	// MaxAttempts is how many failed sends of a queue entry are tried before it is dropped.
	MaxAttempts int
	// TokenMaxAge drops (and deletes) a device whose updatedAt is older, before sending:
	// FCM considers tokens inactive for 270 days stale.
	TokenMaxAge time.Duration `env:"HEARTH_PUSH_TOKEN_MAX_AGE" envDefault:"6480h" doc:"a device token not refreshed for this long is dropped before sending (FCM: stale after 270 days)"`
	// MaxMessageAge: a message event that arrives later than this after the message was
	// created pushes nothing (a redelivered or very late event must not buzz a phone).
	MaxMessageAge time.Duration
	// TTL is how long FCM keeps an undelivered notification (android.ttl).
	TTL time.Duration
	// QueueMetricsInterval is how often Run refreshes the queue depth and age gauges.
	QueueMetricsInterval time.Duration
	// AndroidChannelDirect and AndroidChannelGroup are the Android notification channel ids
	// of direct and group rooms; the app creates the channels (docs/notifications.md).
	AndroidChannelDirect string
	AndroidChannelGroup  string
	// APNSCategory is the aps.category of every notification, for iOS actions.
	APNSCategory string
	// InstanceID names this instance in queue leases; empty picks host-pid-random.
	InstanceID string
	// MentionsPerMinute is how many messages with mentions one sender may have pushed
	// as mentions per clock minute (UTC), across all rooms and instances; further
	// messages of that minute notify as if they mentioned nobody (no immediate push,
	// nothing for "mentions"-only members). Negative: no limit.
	MentionsPerMinute int `env:"HEARTH_PUSH_MENTIONS_PER_MINUTE" envDefault:"10" doc:"messages with mentions per sender and clock minute that push as mentions; later ones of that minute notify as plain messages; negative: no limit"`
	// LogEachPush logs one Info line per push (recipient, room, kind, count, tokens): the
	// dev-mode view of what Hearth sent.
	LogEachPush bool `env:"HEARTH_PUSH_LOG" envDefault:"off" doc:"log one line per push (recipient, room, kind, count, tokens); hearth dev turns it on"`
}

// Validate reports every invalid field (New checks the same).
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults returns c with defaults in place of zero values, or an error for values
// that cannot work.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Window", &c.Window, DefaultWindow},
		{"HEARTH_PUSH_LEASE (Lease)", &c.Lease, DefaultLease},
		{"HEARTH_PUSH_POLL (PollInterval)", &c.PollInterval, DefaultPollInterval},
		{"RetryBase", &c.RetryBase, DefaultRetryBase},
		{"RetryMax", &c.RetryMax, DefaultRetryMax},
		{"HEARTH_PUSH_TOKEN_MAX_AGE (TokenMaxAge)", &c.TokenMaxAge, DefaultTokenMaxAge},
		{"MaxMessageAge", &c.MaxMessageAge, DefaultMaxMessageAge},
		{"TTL", &c.TTL, DefaultTTL},
		{"QueueMetricsInterval", &c.QueueMetricsInterval, DefaultQueueMetricsInterval},
	}
	for _, d := range durations {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0 && d.name != "Window":
			errs = append(errs, fmt.Errorf("%s %s is negative", d.name, *d.v))
		}
	}
	if c.Window < 0 {
		c.Window = 0
	}
	ints := []struct {
		name string
		v    *int
		def  int
	}{
		{"FlushLimit", &c.FlushLimit, DefaultFlushLimit},
		{"HEARTH_PUSH_CONCURRENCY (MaxConcurrentBatches)", &c.MaxConcurrentBatches, DefaultMaxConcurrentBatches},
		{"Concurrency", &c.Concurrency, DefaultConcurrency},
		{"MaxRetries", &c.MaxRetries, DefaultMaxRetries},
		{"MaxAttempts", &c.MaxAttempts, DefaultMaxAttempts},
	}
	for _, i := range ints {
		switch {
		case *i.v == 0:
			*i.v = i.def
		case *i.v < 0:
			errs = append(errs, fmt.Errorf("%s %d is negative", i.name, *i.v))
		}
	}
	if c.MentionsPerMinute == 0 {
		c.MentionsPerMinute = DefaultMentionsPerMinute
	}
	if c.RetryMax < c.RetryBase {
		errs = append(errs, fmt.Errorf("RetryMax %s is below RetryBase %s", c.RetryMax, c.RetryBase))
	}
	if worst := time.Duration(c.MaxRetries) * c.RetryMax; len(errs) == 0 && c.Lease <= worst {
		// A send that is still retrying when its lease ends would be sent again by
		// another instance.
		errs = append(errs, fmt.Errorf("HEARTH_PUSH_LEASE (Lease) %s must exceed the longest in-process retry, MaxRetries × RetryMax = %s", c.Lease, worst))
	}
	if c.AndroidChannelDirect == "" {
		c.AndroidChannelDirect = DefaultAndroidChannelDirect
	}
	if c.AndroidChannelGroup == "" {
		c.AndroidChannelGroup = DefaultAndroidChannelGroup
	}
	if c.APNSCategory == "" {
		c.APNSCategory = DefaultAPNSCategory
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("push config: %w", err)
	}
	return c, nil
}
