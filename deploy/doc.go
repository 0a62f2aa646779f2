// Package deploy holds what Hearth ships for operators beside the binary: the Grafana
// dashboard (grafana/hearth.json) and the Prometheus alert rules with their unit tests
// (prometheus/alerts.yml, prometheus/alerts_test.yml). It has no code; its tests run
// promtool on the rules, check the dashboard against Grafana's dashboard model, and
// check that every metric the dashboard and the alerts use is one Hearth registers.
// See docs/observability.md.
package deploy
