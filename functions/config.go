package functions

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a Pipeline. The env tags name the variables app.LoadConfig reads
// (docs/configuration.md is generated from them); fields without one are set in code.
// Zero fields take the defaults below; negative values are errors. The limits of presence and typing themselves (model.OfflineAfter,
// model.TypingStaleAfter) are constants of the data model, shared with the rules and
// the clients, not settings.
type Config struct {
	// Workers is how many events the local door handles at once. Default 128: the door
	// stands in for Eventarc delivering to a service that scales out, and most of a
	// worker's time on a busy room is spent waiting for the room's coalesced run (the
	// events that wait join it), so a room's burst is gathered into as few runs as the
	// workers holding its events allow.
	Workers int `env:"HEARTH_FUNCTIONS_WORKERS" envDefault:"128" doc:"events the local door (hearth serve/dev) handles at once"`
	// QueueSize bounds the events the local door has acknowledged but not yet handled;
	// when it is full the door makes the emulator wait. Default 10000.
	QueueSize int `env:"HEARTH_FUNCTIONS_QUEUE" envDefault:"10000" doc:"events the local door has acknowledged but not yet handled; when full, the sender waits"`
	// Retry is the local door's retry policy. In production Eventarc retries (with the
	// trigger's retry setting); the local door imitates it because the emulator never
	// retries.
	Retry RetryPolicy
	// HandlerTimeout bounds one attempt of one handler. Default 60s.
	HandlerTimeout time.Duration `env:"HEARTH_FUNCTIONS_TIMEOUT" envDefault:"60s" doc:"bound on one attempt of one trigger handler"`
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
	// LargeRoomMembers is where a group switches to large-room mode: from this many
	// members on, the fan-outs of LargeRoomWindow are gathered into one commit per member
	// entry (inbox.LargeRooms), and the room's large flag is set (no typing, a read count
	// instead of per-member receipts, no presence fan-out, digest-only pushes; see
	// largeroom.go). Default 100.
	LargeRoomMembers int `env:"HEARTH_LARGE_ROOM_MEMBERS" envDefault:"100" doc:"members from which a group is in large-room mode (room.large): inbox fan-out gathered per window, a read-by-N count instead of receipts, no typing or presence, digest-only pushes"`
	// LargeRoomWindow is how long a large room must be quiet before its gathered
	// fan-out runs (at most 4 windows after its first message; added to the latency of
	// its messages), and the least time between two recounts of its read count in one
	// process. Default 500ms.
	LargeRoomWindow time.Duration `env:"HEARTH_LARGE_ROOM_WINDOW" envDefault:"500ms" doc:"how long a large room's inbox fan-out waits for the room to be quiet before it runs (at most 4 windows); also the least time between recounts of its read-by-N count"`
	// BlockersCap is how many blockers a blockers/{uid} index lists before it
	// overflows and the fan-outs read the block documents instead. Default
	// blocks.DefaultIndexCap; set in code (tests use a small one).
	BlockersCap int

	// PresenceSweepInterval is how often the presence sweeper looks for users without a
	// heartbeat for model.OfflineAfter. Default 15s: a user shows offline 70-85 s after
	// their last heartbeat.
	PresenceSweepInterval time.Duration `env:"HEARTH_PRESENCE_SWEEP" envDefault:"15s" doc:"how often users without a heartbeat are marked offline"`
	// TypingCleanupInterval is how often stale typing docs (older than
	// model.TypingStaleAfter) are deleted. Default 30s. Clients already ignore stale docs;
	// the cleanup only keeps the collection small.
	TypingCleanupInterval time.Duration `env:"HEARTH_TYPING_CLEANUP" envDefault:"30s" doc:"how often stale typing documents are deleted"`
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
	DefaultWorkers               = 128
	DefaultQueueSize             = 10000
	DefaultMaxAttempts           = 8
	DefaultInitialBackoff        = 200 * time.Millisecond
	DefaultMaxBackoff            = 30 * time.Second
	DefaultHandlerTimeout        = 60 * time.Second
	DefaultDrainTimeout          = 5 * time.Second
	DefaultFanoutConcurrency     = 16
	DefaultFanoutWindow          = 5 * time.Second
	DefaultLargeRoomMembers      = 100
	DefaultLargeRoomWindow       = 500 * time.Millisecond
	DefaultPresenceSweepInterval = 15 * time.Second
	DefaultTypingCleanupInterval = 30 * time.Second
)

// Validate reports every invalid field (New checks the same).
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults validates c and fills in zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	check := func(name string, v any, negative bool) {
		if negative {
			errs = append(errs, fmt.Errorf("functions config: %s %v is negative", name, v))
		}
	}
	check("HEARTH_FUNCTIONS_WORKERS (Workers)", c.Workers, c.Workers < 0)
	check("HEARTH_FUNCTIONS_QUEUE (QueueSize)", c.QueueSize, c.QueueSize < 0)
	check("Retry.MaxAttempts", c.Retry.MaxAttempts, c.Retry.MaxAttempts < 0)
	check("Retry.InitialBackoff", c.Retry.InitialBackoff, c.Retry.InitialBackoff < 0)
	check("Retry.MaxBackoff", c.Retry.MaxBackoff, c.Retry.MaxBackoff < 0)
	check("HEARTH_FUNCTIONS_TIMEOUT (HandlerTimeout)", c.HandlerTimeout, c.HandlerTimeout < 0)
	check("DrainTimeout", c.DrainTimeout, c.DrainTimeout < 0)
	check("FanoutConcurrency", c.FanoutConcurrency, c.FanoutConcurrency < 0)
	check("FanoutWindow", c.FanoutWindow, c.FanoutWindow < 0)
	check("HEARTH_LARGE_ROOM_MEMBERS (LargeRoomMembers)", c.LargeRoomMembers, c.LargeRoomMembers < 0)
	check("HEARTH_LARGE_ROOM_WINDOW (LargeRoomWindow)", c.LargeRoomWindow, c.LargeRoomWindow < 0)
	check("HEARTH_PRESENCE_SWEEP (PresenceSweepInterval)", c.PresenceSweepInterval, c.PresenceSweepInterval < 0)
	check("HEARTH_TYPING_CLEANUP (TypingCleanupInterval)", c.TypingCleanupInterval, c.TypingCleanupInterval < 0)
	check("LeaseTTL", c.LeaseTTL, c.LeaseTTL < 0)
	check("BlockersCap", c.BlockersCap, c.BlockersCap < 0)
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
	def(&c.LargeRoomMembers, DefaultLargeRoomMembers)
	defD(&c.LargeRoomWindow, DefaultLargeRoomWindow)
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
