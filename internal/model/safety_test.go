package model

import "testing"

func TestReportReasonsAndActionsValid(t *testing.T) {
	for _, r := range ReportReasons() {
		if !r.Valid() {
			t.Errorf("ReportReason(%q).Valid() = false", r)
		}
	}
	for _, a := range ReportActions() {
		if !a.Valid() {
			t.Errorf("ReportAction(%q).Valid() = false", a)
		}
	}
	for _, bad := range []string{"", "Spam", "spam ", "delete"} {
		if ReportReason(bad).Valid() || ReportAction(bad).Valid() {
			t.Errorf("%q is valid as a report reason or action", bad)
		}
	}
}
