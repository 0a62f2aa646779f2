// Package promreg registers Prometheus collectors on a registry that may already hold
// them: a second part of the same kind on one registry (two pipelines or processors in
// one process, as tests build them) shares the first one's collectors instead of
// failing.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns the collector to use: c, or the equal
// collector reg already holds. A nil reg registers nothing and returns c (the metrics
// are kept but exported nowhere).
func Register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		existing, ok := are.ExistingCollector.(T)
		if !ok {
			return c, fmt.Errorf("promreg: a different collector is registered under the same name: %w", err)
		}
		return existing, nil
	}
	return c, err
}

// Set registers *c as Register does and leaves in *c the collector to use: the first one
// registered under its name.
func Set[T prometheus.Collector](reg prometheus.Registerer, c *T) error {
	got, err := Register(reg, *c)
	*c = got
	return err
}
