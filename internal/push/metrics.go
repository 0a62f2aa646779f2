package push

import (
	"errors"

	"github.com/hearth-chat/hearth/internal/promreg"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the notifier's Prometheus collectors (names under hearth_push_).
type metrics struct {
	sent       *prometheus.CounterVec // kind: device messages FCM accepted
	failed     *prometheus.CounterVec // reason: device messages that finally failed
	retries    *prometheus.CounterVec // reason: resends after 429/5xx
	pruned     *prometheus.CounterVec // reason: device documents deleted
	suppressed *prometheus.CounterVec // reason: recipients not notified
	digestSize prometheus.Histogram   // messages covered by each notification sent
	queueDepth prometheus.Gauge       // pushQueue entries with something pending
	queueAge   prometheus.Gauge       // seconds the oldest due entry has been waiting
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_sent_total",
			Help: "Push messages accepted by FCM, one per device, by kind (immediate or digest).",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_failed_total",
			Help: "Push messages that failed for good, one per device, by reason.",
		}, []string{"reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_retries_total",
			Help: "Push messages resent after a transient FCM error, by reason.",
		}, []string{"reason"}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_tokens_pruned_total",
			Help: "Device registrations deleted: unregistered, invalid_token or stale (older than the token max age).",
		}, []string{"reason"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_suppressed_total",
			Help: "Notifications not sent to a recipient, by reason (muted, read, active_in_room, ...).",
		}, []string{"reason"}),
		digestSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hearth_push_digest_size",
			Help:    "Messages covered by each notification sent (1 for a single message).",
			Buckets: []float64{1, 2, 3, 5, 10, 20, 50, 100, 500},
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_push_queue_depth",
			Help: "pushQueue entries waiting to be sent (pending digests and sends in flight).",
		}),
		queueAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_push_queue_oldest_age_seconds",
			Help: "How long the most overdue pushQueue entry has been due, 0 when none is late.",
		}),
	}
	// A second Notifier on the same registry (two flushers in one process, tests) shares
	// the first one's collectors.
	return m, errors.Join(
		promreg.Set(reg, &m.sent), promreg.Set(reg, &m.failed), promreg.Set(reg, &m.retries),
		promreg.Set(reg, &m.pruned), promreg.Set(reg, &m.suppressed), promreg.Set(reg, &m.digestSize),
		promreg.Set(reg, &m.queueDepth), promreg.Set(reg, &m.queueAge))
}
