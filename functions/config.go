package functions

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Config configures a Pipeline. Zero fields take the defaults below; negative values
// are errors. The limits of presence and typing themselves (model.OfflineAfter,
// model.TypingStaleAfter) are constants of the data model, shared with the rules and
// the clients, not settings.
type Config struct {
	// Workers is how many events the local door handles at once (HEARTH_FUNCTIONS_WORKERS).
	// Default 8.
	Workers int
	// QueueSize bounds the events the local door has acknowledged but not yet handled;
	// when it is full the door makes the emulator wait (HEARTH_FUNCTIONS_QUEUE). Default 10000.
	QueueSize int
	// Retry is the local door's retry policy. In production Eventarc retries (with the
	// trigger's retry setting); the local door imitates it because the emulator never
	// retries.
	Retry RetryPolicy
	// HandlerTimeout bounds one attempt of one handler (HEARTH_FUNCTIONS_TIMEOUT). Default 60s.
	HandlerTimeout time.Duration
	// DrainTimeout bounds how long Run keeps handling queued events after its context
	// ends. Default 5s, so that a stop fits Cloud Run's 10 s after SIGTERM.
	DrainTimeout time.Duration
	// FanoutConcurrency bounds the parallel per-member updates of one event (a message
	// fans out to every member's inbox). Default 16.
	FanoutConcurrency int
	// FanoutWindow spaces the fan-outs of the writes a client can repeat at will: the
	// edits of one room's messages (into every member's inbox entry), the renames and
	// profile changes of one user, and the presence changes of one user (into the
	// member docs of all their rooms). The first write of a burst fans out at once,
	// the rest together once the window since the previous fan-out has passed, so a
	// derived document is rewritten for them at most once per window, plus one.
	// Default DefaultFanoutWindow.
	FanoutWindow time.Duration

	// PresenceSweepInterval is how often the presence sweeper looks for users without a
	// heartbeat for model.OfflineAfter (HEARTH_PRESENCE_SWEEP). Default 15s: a user shows
	// offline 70-85 s after their last heartbeat.
	PresenceSweepInterval time.Duration
	// TypingCleanupInterval is how often stale typing docs (older than
	// model.TypingStaleAfter) are deleted (HEARTH_TYPING_CLEANUP). Default 30s. Clients
	// already ignore stale docs; the cleanup only keeps the collection small.
	TypingCleanupInterval time.Duration
	// LeaseTTL is how long a scheduler's lease (leases/{name}) outlives its last renewal,
	// so another instance takes over after a crash. Default: twice the scheduler's interval.
	LeaseTTL time.Duration
	// DisableSchedulers stops Run from running the schedulers (then call the
	// SchedulerHandler, e.g. from Cloud Scheduler, or SweepPresence / CleanTyping).
	DisableSchedulers bool
	// InstanceID names this process as a lease holder. Default: host, pid and a random
	// suffix.
	InstanceID string
}

// RetryPolicy is exponential backoff with full jitter.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts per event, the first included. Default 8.
	MaxAttempts int
	// InitialBackoff is the delay before the first retry. Default 200ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay. Default 30s.
	MaxBackoff time.Duration
}

// Defaults of Config.
const (
	DefaultWorkers               = 8
	DefaultQueueSize             = 10000
	DefaultMaxAttempts           = 8
	DefaultInitialBackoff        = 200 * time.Millisecond
	DefaultMaxBackoff            = 30 * time.Second
	DefaultHandlerTimeout        = 60 * time.Second
	DefaultDrainTimeout          = 5 * time.Second
	DefaultFanoutConcurrency     = 16
	DefaultFanoutWindow          = 5 * time.Second
	DefaultPresenceSweepInterval = 15 * time.Second
	DefaultTypingCleanupInterval = 30 * time.Second
)

// withDefaults validates c and fills in zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	check := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("functions config: %s is negative", name))
		}
	}
	check("Workers", int64(c.Workers))
	check("QueueSize", int64(c.QueueSize))
	check("Retry.MaxAttempts", int64(c.Retry.MaxAttempts))
	check("Retry.InitialBackoff", int64(c.Retry.InitialBackoff))
	check("Retry.MaxBackoff", int64(c.Retry.MaxBackoff))
	check("HandlerTimeout", int64(c.HandlerTimeout))
	check("DrainTimeout", int64(c.DrainTimeout))
	check("FanoutConcurrency", int64(c.FanoutConcurrency))
	check("FanoutWindow", int64(c.FanoutWindow))
	check("PresenceSweepInterval", int64(c.PresenceSweepInterval))
	check("TypingCleanupInterval", int64(c.TypingCleanupInterval))
	check("LeaseTTL", int64(c.LeaseTTL))
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Workers, DefaultWorkers)
	def(&c.QueueSize, DefaultQueueSize)
	def(&c.Retry.MaxAttempts, DefaultMaxAttempts)
	defD(&c.Retry.InitialBackoff, DefaultInitialBackoff)
	defD(&c.Retry.MaxBackoff, DefaultMaxBackoff)
	defD(&c.HandlerTimeout, DefaultHandlerTimeout)
	defD(&c.DrainTimeout, DefaultDrainTimeout)
	def(&c.FanoutConcurrency, DefaultFanoutConcurrency)
	defD(&c.FanoutWindow, DefaultFanoutWindow)
	defD(&c.PresenceSweepInterval, DefaultPresenceSweepInterval)
	defD(&c.TypingCleanupInterval, DefaultTypingCleanupInterval)
	if c.Retry.MaxBackoff < c.Retry.InitialBackoff {
		return c, fmt.Errorf("functions config: Retry.MaxBackoff %s < Retry.InitialBackoff %s", c.Retry.MaxBackoff, c.Retry.InitialBackoff)
	}
	if c.InstanceID == "" {
		c.InstanceID = defaultInstanceID()
	}
	return c, nil
}

// leaseTTL is the lease duration of a scheduler running every interval.
func (c Config) leaseTTL(interval time.Duration) time.Duration {
	if c.LeaseTTL > 0 {
		return c.LeaseTTL
	}
	return 2 * interval
}

// ConfigFromEnv reads the HEARTH_FUNCTIONS_* / HEARTH_PRESENCE_SWEEP /
// HEARTH_TYPING_CLEANUP variables named on the Config fields with getenv (os.Getenv
// when nil). Unset variables leave the field zero (the default).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Config
	var errs []error
	intVar := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
			*dst = n
		}
	}
	durVar := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
			*dst = d
		}
	}
	intVar("HEARTH_FUNCTIONS_WORKERS", &c.Workers)
	intVar("HEARTH_FUNCTIONS_QUEUE", &c.QueueSize)
	durVar("HEARTH_FUNCTIONS_TIMEOUT", &c.HandlerTimeout)
	durVar("HEARTH_PRESENCE_SWEEP", &c.PresenceSweepInterval)
	durVar("HEARTH_TYPING_CLEANUP", &c.TypingCleanupInterval)
	return c, errors.Join(errs...)
}
