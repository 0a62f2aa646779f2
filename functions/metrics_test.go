package functions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// sample returns the value of the series of family name with exactly labels (a
// histogram's sample count), and whether it exists.
func sample(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !sameLabels(m.GetLabel(), labels) {
				continue
			}
			switch {
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			}
		}
	}
	return 0, false
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// waitSample waits until the series reaches at least min.
func (f *fixture) waitSample(name string, labels map[string]string, min float64) {
	f.t.Helper()
	f.eventually(fmt.Sprintf("%s%v >= %v", name, labels, min), func() string {
		v, _ := sample(f.t, f.reg, name, labels)
		if v < min {
			return fmt.Sprintf("is %v", v)
		}
		return ""
	})
}

// TestTriggerMetrics drives real emulator deliveries through the local door and checks
// the functions metrics move: event age and handler duration of a message, a failed run
// retried (counted as a retry and an error, then ok), a panicking run, and a Permanent
// error from another door.
func TestTriggerMetrics(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	f.send(f.env.UserClient("alice", nil), "alice", "r", "hello")
	f.waitSample("hearth_functions_handler_duration_seconds", map[string]string{"trigger": TriggerMessageWritten, "outcome": "ok"}, 1)
	f.waitSample("hearth_functions_event_age_seconds", map[string]string{"trigger": TriggerMessageWritten}, 1)

	// A probe trigger that fails its first run and panics in its second.
	var mu sync.Mutex
	runs := map[string]int{}
	f.p.Add(Trigger{Name: "metricsProbe", EventType: firestoreevent.TypeWritten, Document: "metricsProbe/{id}",
		Handle: func(ctx context.Context, ev *firestoreevent.Event) error {
			mu.Lock()
			runs[ev.Document]++
			n := runs[ev.Document]
			mu.Unlock()
			switch {
			case n == 1:
				return errors.New("first run fails")
			case n == 2:
				panic("second run panics")
			}
			return nil
		}})
	if err := f.p.Register(f.ctx, f.env.FirestoreHost, f.env.ProjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Doc("metricsProbe/a").Set(f.ctx, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	probe := func(outcome string) map[string]string {
		return map[string]string{"trigger": "metricsProbe", "outcome": outcome}
	}
	f.waitSample("hearth_functions_handler_duration_seconds", probe("ok"), 1)
	for _, o := range []string{"error", "panic"} {
		if v, _ := sample(t, f.reg, "hearth_functions_handler_duration_seconds", probe(o)); v != 1 {
			t.Errorf("runs with outcome %s = %v, want 1", o, v)
		}
	}
	if v, _ := sample(t, f.reg, "hearth_functions_retries_total", map[string]string{"trigger": "metricsProbe"}); v != 2 {
		t.Errorf("retries = %v, want 2", v)
	}
	if v, _ := sample(t, f.reg, "hearth_functions_event_age_seconds", map[string]string{"trigger": "metricsProbe"}); v != 3 {
		t.Errorf("event ages observed = %v, want 3 (one per run)", v)
	}

	// A Permanent error through Handle (the Cloud Functions door) is abandoned, not retried.
	f.p.Add(Trigger{Name: "metricsPermanent", EventType: firestoreevent.TypeWritten, Document: "metricsPermanent/{id}",
		Handle: func(context.Context, *firestoreevent.Event) error { return Permanent(errors.New("undecodable")) }})
	if _, err := f.db.Doc("metricsPermanent/a").Set(f.ctx, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.p.Handle(f.ctx, "metricsPermanent", eventOf(t, f.snapshot("metricsPermanent/a"), nil)); !IsPermanent(err) {
		t.Fatalf("Handle = %v, want a Permanent error", err)
	}
	if v, _ := sample(t, f.reg, "hearth_functions_events_abandoned_total", map[string]string{"trigger": "metricsPermanent", "reason": "permanent"}); v != 1 {
		t.Errorf("abandoned permanent = %v, want 1", v)
	}
	if v, _ := sample(t, f.reg, "hearth_functions_retries_total", map[string]string{"trigger": "metricsPermanent"}); v != 0 {
		t.Errorf("retries of a permanent failure = %v, want 0", v)
	}
	checkBoundedLabels(t, f.reg, f.p)
}

// checkBoundedLabels fails when a functions or scheduler series carries a label value
// outside the fixed sets: trigger and scheduler names, outcomes and reasons.
func checkBoundedLabels(t *testing.T, g prometheus.Gatherer, p *Pipeline) {
	t.Helper()
	var triggers, scheds []string
	for _, tr := range p.Triggers() {
		triggers = append(triggers, tr.Name)
	}
	for _, s := range p.Schedulers() {
		scheds = append(scheds, s.Name)
	}
	allowed := map[string][]string{
		"trigger":   triggers,
		"scheduler": scheds,
		"outcome":   {outcomeOK, outcomeError, outcomePermanent, outcomePanic, schedNotLeased},
		"reason":    {abandonPermanent, abandonExhausted, abandonShutdown},
	}
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if set, ok := allowed[l.GetName()]; !ok || !slices.Contains(set, l.GetValue()) {
					t.Errorf("%s: label %s=%q is not from a fixed set", fam.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestSchedulerMetrics runs the presence sweeper on a fake clock: a run sets its last
// success to the clock's time and counts as ok; a run while another instance holds the
// lease counts as not_leased and leaves the last success alone.
func TestSchedulerMetrics(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	fake := clock.NewFake(at)
	f := newFixture(t, fixtureOpts{clock: fake, noEvents: true})
	sched := map[string]string{"scheduler": SchedulerPresenceSweeper}
	if _, ok := sample(t, f.reg, "hearth_scheduler_last_success_timestamp_seconds", sched); ok {
		t.Fatal("last success exists before any run")
	}
	if res, err := f.p.SweepPresence(f.ctx); err != nil || !res.Leased {
		t.Fatalf("SweepPresence = %+v, %v", res, err)
	}
	if v, _ := sample(t, f.reg, "hearth_scheduler_last_success_timestamp_seconds", sched); v != float64(at.Unix()) {
		t.Errorf("last success = %v, want %d", v, at.Unix())
	}
	if v, _ := sample(t, f.reg, "hearth_scheduler_runs_total", map[string]string{"scheduler": SchedulerPresenceSweeper, "outcome": "ok"}); v != 1 {
		t.Errorf("ok runs = %v, want 1", v)
	}
	// Another pipeline (another instance) finds the lease held.
	other := f.newPipeline(Config{})
	fake.Advance(time.Second)
	if res, err := other.SweepPresence(f.ctx); err != nil || res.Leased {
		t.Fatalf("second instance's SweepPresence = %+v, %v; want not leased", res, err)
	}
	if v, _ := sample(t, f.reg, "hearth_scheduler_runs_total", map[string]string{"scheduler": SchedulerPresenceSweeper, "outcome": "not_leased"}); v != 1 {
		t.Errorf("not_leased runs = %v, want 1", v)
	}
	if v, _ := sample(t, f.reg, "hearth_scheduler_last_success_timestamp_seconds", sched); v != float64(at.Unix()) {
		t.Errorf("last success after a run without the lease = %v, want %d", v, at.Unix())
	}
	checkBoundedLabels(t, f.reg, f.p)
}
