package admin

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's Prometheus collectors. They live in the Server's
// own registry (no global registry), so several servers in one process —
// tests, `hearth dev` — never collide.
type metrics struct {
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	authResult *prometheus.CounterVec
	appCheck   *prometheus.CounterVec
	rateLimits *prometheus.CounterVec
	audit      *prometheus.CounterVec
	// authOK are authResult's counters of a successful verification, by
	// revocation_checked (false, true): resolved once, not per request.
	authOK [2]prometheus.Counter
	// cacheHit and cacheMiss count lookups of the token cache (tokencache.go)
	// by result: the two series of hearth_auth_token_cache_lookups_total,
	// resolved once.
	cacheHit, cacheMiss prometheus.Counter
}

// latencyBuckets spans a cached-key token check (~50 µs) to a slow
// Firestore transaction (seconds).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	tokenCache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "hearth", Subsystem: "auth", Name: "token_cache_lookups_total",
		Help: "Lookups of the verified-token cache by result (hit: no signature check; miss: verified and cached).",
	}, []string{"result"})
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hearth", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Latency of API requests by method, route pattern and status code.",
			Buckets: latencyBuckets,
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hearth", Subsystem: "http", Name: "requests_in_flight",
			Help: "API requests being served.",
		}),
		authResult: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hearth", Subsystem: "auth", Name: "verifications_total",
			Help: "ID token verifications by result (ok or the 401/503 reason); revocation_checked: Firebase Auth was asked (write routes while the revocation markers are stale).",
		}, []string{"result", "revocation_checked"}),
		appCheck: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hearth", Subsystem: "appcheck", Name: "verifications_total",
			Help: "App Check token checks by mode and result (ok, missing, invalid).",
		}, []string{"mode", "result"}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hearth", Subsystem: "http", Name: "rate_limited_total",
			Help: "Requests rejected with 429 by route pattern.",
		}, []string{"route"}),
		audit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hearth", Subsystem: "admin", Name: "actions_total",
			Help: "Audited admin and moderation actions by action.",
		}, []string{"action"}),
	}
	for _, c := range []prometheus.Collector{m.duration, m.inFlight, m.authResult, m.appCheck, m.rateLimits, m.audit, tokenCache} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.authOK = [2]prometheus.Counter{m.authResult.WithLabelValues("ok", "false"), m.authResult.WithLabelValues("ok", "true")}
	m.cacheHit, m.cacheMiss = tokenCache.WithLabelValues("hit"), tokenCache.WithLabelValues("miss")
	return m, nil
}

// registerRuntimeCollectors adds the Go runtime and process collectors to a
// registry the Server created itself.
func registerRuntimeCollectors(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// metricsMiddleware observes every request's latency under its route
// pattern (not its path, which would explode the label set).
func (s *Server) metricsMiddleware(c *gin.Context) {
	start := s.clock.Now()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	c.Next()
	s.metrics.duration.WithLabelValues(c.Request.Method, routeLabel(c), strconv.Itoa(c.Writer.Status())).
		Observe(s.clock.Now().Sub(start).Seconds())
}

// metricsHandler serves the registry in the Prometheus text format.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{ErrorLog: nil})
}
