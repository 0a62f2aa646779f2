package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/internal/model"
)

// Overview bounds.
const (
	// OverviewDays is how many UTC days of message counts the overview shows.
	OverviewDays = 7
	// OverviewActiveWindow is how recent a presence heartbeat makes a user
	// active.
	OverviewActiveWindow = 24 * time.Hour
	// OverviewMediaScan caps the rejected upload records read to count
	// rejects by reason; more are reported as truncated rather than read
	// without bound.
	OverviewMediaScan = 1000
)

// The metrics the overview reads from this process's registry. They are
// recorded by the process that sends pushes and handles events: in
// `hearth dev` and a single-process deployment that is this one; an API
// process of a split deployment has none and the overview says n/a.
const (
	metricPushSent   = "hearth_push_sent_total"
	metricPushFailed = "hearth_push_failed_total"
	// metricEventAge is the age of Firestore events when a trigger handles
	// them (a histogram; its mean is the trigger lag).
	metricEventAge = "hearth_functions_event_age_seconds"
)

// dayCount is one day of GET /admin/v1/overview's messagesPerDay.
type dayCount struct {
	// Day is the UTC date, YYYY-MM-DD.
	Day      string `json:"day"`
	Messages int64  `json:"messages"`
}

// digestQueue is the push digest queue in the overview.
type digestQueue struct {
	// Pending counts digests waiting to be sent (pushQueue entries with a
	// dueAt).
	Pending int64 `json:"pending"`
	// OldestOverdueSeconds is how long the most overdue digest has been due;
	// 0 when none is overdue.
	OldestOverdueSeconds float64 `json:"oldestOverdueSeconds"`
}

// overviewResponse is the body of GET /admin/v1/overview. A null figure is
// one this process does not record.
type overviewResponse struct {
	GeneratedAt time.Time `json:"generatedAt"`
	// MessagesPerDay are the messages created on each of the last
	// OverviewDays UTC days, oldest first, today included.
	MessagesPerDay []dayCount `json:"messagesPerDay"`
	// ActiveUsers counts users whose presence heartbeat is within
	// ActiveUsersWindow.
	ActiveUsers       int64  `json:"activeUsers"`
	ActiveUsersWindow string `json:"activeUsersWindow"`
	// PushesSent and PushesFailed are FCM sends since this process started
	// (hearth_push_sent_total, hearth_push_failed_total); null when this
	// process sends no pushes.
	PushesSent   *float64    `json:"pushesSent"`
	PushesFailed *float64    `json:"pushesFailed"`
	DigestQueue  digestQueue `json:"digestQueue"`
	// MediaRejected counts uploads the media checks rejected, by reason, over
	// MediaRejectedScanned upload records (at most OverviewMediaScan).
	MediaRejected          map[string]int64 `json:"mediaRejected"`
	MediaRejectedScanned   int              `json:"mediaRejectedScanned"`
	MediaRejectedTruncated bool             `json:"mediaRejectedTruncated"`
	// TriggerLagSeconds is the mean age of events when the triggers handled
	// them, since this process started; null when this process handles no
	// events or does not record it.
	TriggerLagSeconds *float64 `json:"triggerLagSeconds"`
}

// overview is GET /admin/v1/overview: what the console's overview page
// shows, from data Hearth has — Firestore counts (messages per day, active
// users, the digest queue, rejected media) and this process's metrics
// (pushes, trigger lag).
func (s *Server) overview(c *gin.Context) {
	ctx := c.Request.Context()
	now := s.clock.Now().UTC()
	out := overviewResponse{
		GeneratedAt:       now,
		MessagesPerDay:    make([]dayCount, OverviewDays),
		ActiveUsersWindow: strings.TrimSuffix(OverviewActiveWindow.String(), "0m0s"),
		MediaRejected:     map[string]int64{},
	}
	g, gctx := errgroup.WithContext(ctx)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	msgs := s.fs.CollectionGroup(model.MessagesCollection)
	for i := range OverviewDays {
		from := today.AddDate(0, 0, i-OverviewDays+1)
		d := &out.MessagesPerDay[i]
		d.Day = from.Format(time.DateOnly)
		g.Go(func() error {
			n, err := count(gctx, msgs.Where("createdAt", ">=", from).Where("createdAt", "<", from.AddDate(0, 0, 1)))
			d.Messages = n
			return err
		})
	}
	g.Go(func() error {
		n, err := count(gctx, s.fs.Collection(model.PresenceCollection).Where("heartbeatAt", ">=", now.Add(-OverviewActiveWindow)))
		out.ActiveUsers = n
		return err
	})
	queue := s.fs.Collection(model.PushQueueCollection)
	g.Go(func() error {
		n, err := count(gctx, queue.Where("dueAt", ">", time.Unix(0, 0)))
		out.DigestQueue.Pending = n
		return err
	})
	g.Go(func() error {
		docs, err := queue.Where("dueAt", "<=", now).OrderBy("dueAt", firestore.Asc).Limit(1).Select("dueAt").Documents(gctx).GetAll()
		if err != nil {
			return fmt.Errorf("oldest digest: %w", err)
		}
		if len(docs) == 1 {
			if due, ok := docs[0].Data()["dueAt"].(time.Time); ok {
				out.DigestQueue.OldestOverdueSeconds = now.Sub(due).Seconds()
			}
		}
		return nil
	})
	g.Go(func() error {
		return s.countRejectedMedia(gctx, &out)
	})
	if err := g.Wait(); err != nil {
		fail(c, err)
		return
	}
	if fams, err := s.gatherer.Gather(); err == nil {
		out.PushesSent = metricSum(fams, metricPushSent)
		out.PushesFailed = metricSum(fams, metricPushFailed)
		out.TriggerLagSeconds = histogramMean(fams, metricEventAge)
	}
	c.JSON(http.StatusOK, out)
}

// countRejectedMedia tallies the upload records (uploads/{id}) that the
// media checks rejected, by reason, reading at most OverviewMediaScan of them
// (Firestore has no group-by; the reasons are few).
func (s *Server) countRejectedMedia(ctx context.Context, out *overviewResponse) error {
	docs, err := s.fs.Collection(model.UploadsCollection).
		Where("status", "==", string(model.MediaRejected)).
		Select("reason").Limit(OverviewMediaScan).Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("rejected media: %w", err)
	}
	for _, d := range docs {
		reason, _ := d.Data()["reason"].(string)
		if reason == "" {
			reason = "unknown"
		}
		out.MediaRejected[reason]++
	}
	out.MediaRejectedScanned = len(docs)
	out.MediaRejectedTruncated = len(docs) == OverviewMediaScan
	return nil
}

// metricSum is the sum over all series of counter name, or nil when the
// registry has no such metric.
func metricSum(fams []*dto.MetricFamily, name string) *float64 {
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetUntyped().GetValue() + m.GetGauge().GetValue()
		}
		return &sum
	}
	return nil
}

// histogramMean is the mean of histogram name over all its series, or nil
// when the registry has no such metric or it observed nothing.
func histogramMean(fams []*dto.MetricFamily, name string) *float64 {
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		var sum float64
		var n uint64
		for _, m := range f.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
			n += m.GetHistogram().GetSampleCount()
		}
		if n == 0 {
			return nil
		}
		mean := sum / float64(n)
		return &mean
	}
	return nil
}
