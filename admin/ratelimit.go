package admin

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/clock"
)

// maxBuckets bounds the limiter's memory: when more users than this have
// buckets, the buckets that are full again (idle users) are dropped.
const maxBuckets = 100_000

// rateLimiter is a token bucket per key (the caller's uid): rate tokens per
// second up to burst. Time comes from the Server's clock, so tests drive it.
type rateLimiter struct {
	rate  float64
	burst float64
	clock clock.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, clk clock.Clock) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), clock: clk, buckets: make(map[string]*bucket)}
}

// allow takes one token for key. When none is left it returns false and how
// long until one is.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
}

// sweep drops the buckets that have refilled completely: forgetting them
// changes nothing for their users.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// rateLimitMiddleware applies the per-user limit after authentication:
// 429 RESOURCE_EXHAUSTED with Retry-After (whole seconds, at least 1) when
// the user's bucket is empty. Admin routes share the user's bucket.
func (s *Server) rateLimitMiddleware(c *gin.Context) {
	if s.limiter == nil {
		c.Next()
		return
	}
	p := principalOf(c)
	if p == nil {
		c.Next()
		return
	}
	ok, wait := s.limiter.allow(p.UID)
	if !ok {
		s.metrics.rateLimits.WithLabelValues(routeLabel(c)).Inc()
		e := newError(http.StatusTooManyRequests, CodeResourceExhausted, ReasonRateLimited,
			"too many requests; retry after %s", wait.Round(time.Millisecond))
		e.retryAfterSeconds = max(1, int(math.Ceil(wait.Seconds())))
		fail(c, e)
		return
	}
	c.Next()
}
