package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterSharesTheFirstCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "hearth_test_total", Help: "test"}
	first, err := Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
	if err != nil {
		t.Fatal(err)
	}
	second, err := Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatal("the second registration did not return the first collector")
	}
	second.WithLabelValues("a").Inc()
	fams, err := reg.Gather()
	if err != nil || len(fams) != 1 || fams[0].GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Fatalf("gathered %v, %v; want one family counting 1", fams, err)
	}
}

func TestRegisterRefusesAConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_test_total", Help: "test"})); err != nil {
		t.Fatal(err)
	}
	// Same name, other labels: not the same collector.
	if _, err := Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hearth_test_total", Help: "test"}, []string{"x"})); err == nil {
		t.Fatal("a conflicting collector was accepted")
	}
}

func TestRegisterWithoutRegistry(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_test_total", Help: "test"})
	got, err := Register[prometheus.Counter](nil, c)
	if err != nil || got != c {
		t.Fatalf("Register(nil) = %v, %v; want the collector itself", got, err)
	}
}
