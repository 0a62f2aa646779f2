package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleResolvesReport: a member reports a message; the admin sees it
// in the moderation queue, resolves it by redacting the message, and the
// queue empties, the message is redacted and the audit log has the entry.
func TestConsoleResolvesReport(t *testing.T) {
	api := startAPI(t)
	admin := api.newAdmin(t, "Ada Admin")
	sender := api.newUser(t, "Sam Sender")
	reporter := api.newUser(t, "Rita Reporter")
	roomID := api.createRoom(t, sender, "Market", reporter)
	const text = "cheap pills <b>here</b>"
	if _, err := api.env.Firestore().Doc("rooms/"+roomID+"/messages/m1").Set(t.Context(), map[string]any{
		"senderId": sender.UID, "type": "text", "text": text, "createdAt": time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	if code, body := api.postAs(t, reporter, "/v1/rooms/"+roomID+"/messages/m1/reports", map[string]any{"reason": "spam", "note": "ads"}); code != http.StatusCreated {
		t.Fatalf("report = %d %s, want 201", code, body)
	}
	b := newBrowser(t)
	b.signIn(api, admin)
	row := `#queue-results tr[data-report]`
	b.do("the open report in the queue",
		chromedp.WaitVisible(chromedp.CSS("#overview-days")),
		chromedp.Click(chromedp.CSS(`#nav a[data-page="queue"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)))
	got := b.text(row)
	for _, want := range []string{roomID, "m1", sender.UID, text, "spam ×1"} {
		if !strings.Contains(got, want) {
			t.Errorf("queue row %q lacks %q", got, want)
		}
	}
	b.screenshot("queue")
	b.do("redact the reported message",
		chromedp.SendKeys(chromedp.CSS(row+" .report-note"), "spam campaign"),
		chromedp.Click(chromedp.CSS(row+" .resolve-redact")),
		chromedp.WaitVisible(chromedp.CSS("#queue-empty")))
	snap, err := api.env.Firestore().Doc("rooms/" + roomID + "/messages/m1").Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Data()["deletedAt"]; !ok {
		t.Errorf("message after redact = %v, want deletedAt set", snap.Data())
	}
	b.do("the resolved report",
		chromedp.SetValue(chromedp.CSS("#queue-status"), "resolved"),
		chromedp.Click(chromedp.CSS(`#queue-filter button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+" .report-status")))
	if got := b.text(row + " .report-status"); !strings.Contains(got, "resolved: redact by "+admin.UID) {
		t.Errorf("resolved report status = %q", got)
	}
	b.do("the audit entry",
		chromedp.Click(chromedp.CSS(`#nav a[data-page="audit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#audit-results tr[data-action="report.redact"]`)))
	b.noProblems()
}
