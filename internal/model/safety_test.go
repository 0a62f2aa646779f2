package model

import "testing"

func TestReportReasonsAndActionsValid(t *testing.T) {
	// The wire values clients and the console send, spelled out: a renamed or
	// dropped constant fails here.
	for _, r := range []string{"spam", "abuse", "harassment", "nudity", "other"} {
		if !ReportReason(r).Valid() {
			t.Errorf("ReportReason(%q).Valid() = false", r)
		}
	}
	for _, a := range []string{"dismiss", "redact", "ban"} {
		if !ReportAction(a).Valid() {
			t.Errorf("ReportAction(%q).Valid() = false", a)
		}
	}
	for _, bad := range []string{"", "Spam", "spam ", "delete"} {
		if ReportReason(bad).Valid() || ReportAction(bad).Valid() {
			t.Errorf("%q is valid as a report reason or action", bad)
		}
	}
}
