package functions

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/internal/promreg"
)

// Outcomes of one handler run (label outcome of hearth_functions_handler_duration_seconds).
const (
	outcomeOK        = "ok"        // handled
	outcomeError     = "error"     // failed; a retry or redelivery is asked for
	outcomePermanent = "permanent" // failed for good (Permanent): acknowledged, not retried
	outcomePanic     = "panic"     // the handler panicked (retried like an error)
)

// Reasons an event is abandoned by the local door (label reason of
// hearth_functions_events_abandoned_total).
const (
	abandonPermanent = "permanent" // a Permanent error
	abandonExhausted = "exhausted" // Config.Retry.MaxAttempts reached
	abandonShutdown  = "shutdown"  // the pipeline stopped before it could be retried
)

// Outcomes of one scheduler run (label outcome of hearth_scheduler_runs_total).
const (
	schedOK        = "ok"
	schedError     = "error"
	schedNotLeased = "not_leased" // another instance holds the lease: nothing done
)

// metrics are the pipeline's Prometheus collectors (hearth_functions_*,
// hearth_scheduler_*). Every label value comes from a fixed set: the names of the
// registered triggers and schedulers, and the outcome and reason constants above.
type metrics struct {
	eventAge  *prometheus.HistogramVec // trigger
	duration  *prometheus.HistogramVec // trigger, outcome
	retries   *prometheus.CounterVec   // trigger
	abandoned *prometheus.CounterVec   // trigger, reason

	schedRuns     *prometheus.CounterVec // scheduler, outcome
	schedLast     *prometheus.GaugeVec   // scheduler
	schedInterval *prometheus.GaugeVec   // scheduler
}

// eventAgeBuckets span an event handled at once (the emulator stamps whole seconds) to
// one retried for an hour.
var eventAgeBuckets = []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// handlerBuckets span a no-op handler to one at Config.HandlerTimeout.
var handlerBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		eventAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_functions_event_age_seconds",
			Help:    "Age of a Firestore event (now minus its CloudEvent time) when a handler starts on it, by trigger; retries included.",
			Buckets: eventAgeBuckets,
		}, []string{"trigger"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_functions_handler_duration_seconds",
			Help:    "Time one handler run took, by trigger and outcome (ok, error, permanent, panic).",
			Buckets: handlerBuckets,
		}, []string{"trigger", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_functions_retries_total",
			Help: "Failed handler runs that will run again, by trigger: the local door's retries and the 500s that ask Eventarc or Cloud Functions for a redelivery.",
		}, []string{"trigger"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_functions_events_abandoned_total",
			Help: "Events given up, by trigger and reason (permanent, exhausted, shutdown).",
		}, []string{"trigger", "reason"}),
		schedRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_scheduler_runs_total",
			Help: "Scheduler runs by scheduler and outcome (ok, error, not_leased).",
		}, []string{"scheduler", "outcome"}),
		schedLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_scheduler_last_success_timestamp_seconds",
			Help: "Unix time of the last run of a scheduler that succeeded in this process (absent until one has).",
		}, []string{"scheduler"}),
		schedInterval: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_scheduler_interval_seconds",
			Help: "Configured interval of a scheduler's in-process loop (only schedulers that have one).",
		}, []string{"scheduler"}),
	}
	return m, errors.Join(
		promreg.Set(reg, &m.eventAge),
		promreg.Set(reg, &m.duration),
		promreg.Set(reg, &m.retries),
		promreg.Set(reg, &m.abandoned),
		promreg.Set(reg, &m.schedRuns),
		promreg.Set(reg, &m.schedLast),
		promreg.Set(reg, &m.schedInterval))
}

// trigger creates the series of trigger name at zero, so rates and ratios exist before
// the first event.
func (m *metrics) trigger(name string) {
	m.eventAge.WithLabelValues(name)
	for _, o := range []string{outcomeOK, outcomeError, outcomePermanent, outcomePanic} {
		m.duration.WithLabelValues(name, o)
	}
	m.retries.WithLabelValues(name)
	for _, r := range []string{abandonPermanent, abandonExhausted, abandonShutdown} {
		m.abandoned.WithLabelValues(name, r)
	}
}

// scheduler creates the series of job s.
func (m *metrics) scheduler(s Scheduler) {
	for _, o := range []string{schedOK, schedError, schedNotLeased} {
		m.schedRuns.WithLabelValues(s.Name, o)
	}
	if s.Every > 0 {
		m.schedInterval.WithLabelValues(s.Name).Set(s.Every.Seconds())
	}
}

// observeEvent records the age of an event when a handler starts on it (events without
// a time are not observed; a time in the future counts as age 0).
func (m *metrics) observeEvent(trigger string, eventTime, now time.Time) {
	if eventTime.IsZero() {
		return
	}
	m.eventAge.WithLabelValues(trigger).Observe(max(now.Sub(eventTime), 0).Seconds())
}
