package media

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/internal/promreg"
)

// metrics are the media checks' Prometheus collectors (hearth_media_*). Label values
// come from fixed sets: the check results, the RejectReasons and the kill reasons.
type metrics struct {
	checkDuration *prometheus.HistogramVec // result: ok, rejected, error
	ready         prometheus.Counter
	rejected      *prometheus.CounterVec // reason: a RejectReason
	workerKills   *prometheus.CounterVec // reason: timeout, signal, exit
}

// checkBuckets span sniffing a small file to a worker killed at its deadline.
var checkBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// rejectReasons are every RejectReason, for creating their series at zero.
var rejectReasons = []RejectReason{RejectTypeMismatch, RejectSizeMismatch, RejectTooManyPixels, RejectUndecodable,
	RejectMetadata, RejectMalformed, RejectTooComplex, RejectNeverUploaded}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_media_check_duration_seconds",
			Help:    "Time to check one uploaded object (read, sniff, worker, thumbnail and rewrite), by result (ok, rejected, error).",
			Buckets: checkBuckets,
		}, []string{"result"}),
		ready: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_media_ready_total",
			Help: "Uploads that passed the checks and were recorded ready.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_media_rejected_total",
			Help: "Uploads recorded rejected, by reason (type-mismatch, size-mismatch, too-many-pixels, undecodable, metadata, malformed, too-complex, never-uploaded).",
		}, []string{"reason"}),
		workerKills: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_media_worker_kills_total",
			Help: "Media worker processes that died without an answer, by reason: timeout (killed at the wall-clock deadline), signal (CPU or memory limit, the kernel), exit.",
		}, []string{"reason"}),
	}
	err := errors.Join(promreg.Set(reg, &m.checkDuration), promreg.Set(reg, &m.ready),
		promreg.Set(reg, &m.rejected), promreg.Set(reg, &m.workerKills))
	for _, r := range []string{"ok", "rejected", "error"} {
		m.checkDuration.WithLabelValues(r)
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(string(r))
	}
	for _, r := range []string{killTimeout, killSignal, killExit} {
		m.workerKills.WithLabelValues(r)
	}
	return m, err
}
