package media

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// value returns the series of family name whose labels are labels from g: a counter's
// value or a histogram's sample count (0 when absent).
func value(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestMediaMetrics uploads through the verifying storage and handles the finalize
// events: a good photo counts as ready, a mismatched type as rejected by its reason,
// a worker that dies mid-answer as a worker kill (exit) and a too-complex rejection,
// and each check is timed by its result.
func TestMediaMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	handle := func(contentType string, body []byte) {
		t.Helper()
		tk, obj := f.upload(f.alice, contentType, body)
		if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
			t.Fatalf("HandleFinalize(%s) = %v", tk.ObjectPath, err)
		}
	}
	handle("image/jpeg", encodeJPEG(t, quadrantImage(64, 48)))
	handle("image/jpeg", encodePNG(t, quadrantImage(16, 16)))
	handle("image/jpeg", withComment(encodeJPEG(t, quadrantImage(64, 64)), dieMarker))

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hearth_media_ready_total", nil, 1},
		{"hearth_media_rejected_total", map[string]string{"reason": string(RejectTypeMismatch)}, 1},
		{"hearth_media_rejected_total", map[string]string{"reason": string(RejectTooComplex)}, 1},
		{"hearth_media_rejected_total", map[string]string{"reason": string(RejectMalformed)}, 0},
		{"hearth_media_worker_kills_total", map[string]string{"reason": killExit}, 1},
		{"hearth_media_worker_kills_total", map[string]string{"reason": killTimeout}, 0},
		{"hearth_media_check_duration_seconds", map[string]string{"result": "ok"}, 1},
		{"hearth_media_check_duration_seconds", map[string]string{"result": "rejected"}, 2},
		{"hearth_media_check_duration_seconds", map[string]string{"result": "error"}, 0},
	} {
		if got := value(t, f.reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
