package admin

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// reportRoom is a group of an owner, a room admin, a member (Mia, whose
// messages get reported) and three more members, plus a non-member.
type reportRoom struct {
	room
	more []user
}

func (ts *testServer) newReportRoom() reportRoom {
	ts.t.Helper()
	r := reportRoom{room: ts.newRoom()}
	var ids []string
	for _, n := range []string{"Rita", "Sam", "Tess"} {
		u := ts.newUser(n)
		r.more = append(r.more, u)
		ids = append(ids, u.UID)
	}
	ts.call("POST", "/v1/rooms/"+r.ID+"/members", r.owner.Token, map[string]any{"userIds": ids}, http.StatusOK)
	return r
}

func reportPath(roomID, messageID string) string {
	return "/v1/rooms/" + roomID + "/messages/" + messageID + "/reports"
}

// messageHidden reads the message's hidden field as stored.
func (ts *testServer) messageHidden(roomID, messageID string) bool {
	ts.t.Helper()
	snap, err := ts.env.Firestore().Doc(model.MessagePath(roomID, messageID)).Get(ts.t.Context())
	if err != nil {
		ts.t.Fatalf("read message: %v", err)
	}
	h, _ := snap.Data()[model.FieldHidden].(bool)
	return h
}

func TestReportMessage(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.ReportHideThreshold = 2 })
	r := ts.newReportRoom()
	now := ts.clock.Now()
	ts.addMessage(r.ID, "m1", r.member.UID, "buy my stuff", now)
	ts.addMessage(r.ID, "gone", r.member.UID, "", now)
	if _, err := ts.env.Firestore().Doc(model.MessagePath(r.ID, "gone")).Set(t.Context(), map[string]any{
		"senderId": r.member.UID, "type": "text", "text": "", "createdAt": now, "deletedAt": now, "deletedBy": r.member.UID,
	}); err != nil {
		t.Fatal(err)
	}

	var got filedReportResponse
	ts.call("POST", reportPath(r.ID, "m1"), r.owner.Token, map[string]any{"reason": "spam", "note": "ads"}, http.StatusCreated).decode(t, &got)
	if got.Report.RoomID != r.ID || got.Report.MessageID != "m1" || got.Report.Reason != model.ReportSpam || got.Report.Note != "ads" || got.Report.CreatedAt.IsZero() {
		t.Errorf("report = %+v, want the caller's spam report of m1", got.Report)
	}
	// One report is below the threshold of 2: the message shows.
	if ts.messageHidden(r.ID, "m1") {
		t.Errorf("hidden after 1 report of threshold 2, want shown")
	}

	cases := []struct {
		name       string
		token      string
		path       string
		body       any
		wantStatus int
		wantReason string
	}{
		{"second report by the same member", r.owner.Token, reportPath(r.ID, "m1"), map[string]any{"reason": "abuse"}, http.StatusConflict, ReasonAlreadyReported},
		{"own message", r.member.Token, reportPath(r.ID, "m1"), map[string]any{"reason": "spam"}, http.StatusConflict, ReasonSelfAction},
		{"non-member", r.nonMember.Token, reportPath(r.ID, "m1"), map[string]any{"reason": "spam"}, http.StatusNotFound, ""},
		{"unknown message", r.admin.Token, reportPath(r.ID, "nope"), map[string]any{"reason": "spam"}, http.StatusNotFound, ""},
		{"deleted message", r.admin.Token, reportPath(r.ID, "gone"), map[string]any{"reason": "spam"}, http.StatusConflict, ReasonNotReportable},
		{"unknown reason", r.admin.Token, reportPath(r.ID, "m1"), map[string]any{"reason": "boring"}, http.StatusBadRequest, ""},
		{"no reason", r.admin.Token, reportPath(r.ID, "m1"), map[string]any{"note": "x"}, http.StatusBadRequest, ""},
		{"note of 501 characters", r.admin.Token, reportPath(r.ID, "m1"), map[string]any{"reason": "other", "note": strings.Repeat("é", model.MaxReportNoteLen+1)}, http.StatusBadRequest, ""},
		{"unknown field", r.admin.Token, reportPath(r.ID, "m1"), map[string]any{"reason": "spam", "count": 100}, http.StatusBadRequest, ""},
		{"no token", "", reportPath(r.ID, "m1"), map[string]any{"reason": "spam"}, http.StatusUnauthorized, ReasonTokenMissing},
	}
	for _, c := range cases {
		res := ts.do(req{method: "POST", path: c.path, token: c.token, body: c.body})
		if res.Code != c.wantStatus || (c.wantReason != "" && res.errorBody().Reason != c.wantReason) {
			t.Errorf("%s: POST %s = %s, want %d %s", c.name, c.path, res, c.wantStatus, c.wantReason)
		}
	}
	if ts.messageHidden(r.ID, "m1") {
		t.Errorf("hidden after refused reports, want shown")
	}
	// The second member's report (a note of exactly 500 characters) reaches the threshold.
	ts.call("POST", reportPath(r.ID, "m1"), r.admin.Token, map[string]any{"reason": "abuse", "note": strings.Repeat("é", model.MaxReportNoteLen)}, http.StatusCreated)
	if !ts.messageHidden(r.ID, "m1") {
		t.Errorf("not hidden after 2 reports of threshold 2")
	}
	var page messagePage
	ts.call("GET", "/v1/rooms/"+r.ID+"/messages", r.more[0].Token, nil, http.StatusOK).decode(t, &page)
	if i := slices.IndexFunc(page.Messages, func(m apiMessage) bool { return m.ID == "m1" }); i < 0 || !page.Messages[i].Hidden {
		t.Errorf("history = %+v, want m1 with hidden true", page.Messages)
	}
	// The reporter cannot flip it back: the rules do not let a client write hidden
	// (rules/safety_cases_test.go), and the sender's edit keeps it.
}

func TestReportRateLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.ReportsPerHour = 2 })
	r := ts.newReportRoom()
	now := ts.clock.Now()
	for _, id := range []string{"a", "b", "c", "d"} {
		ts.addMessage(r.ID, id, r.member.UID, "text "+id, now)
	}
	ts.call("POST", reportPath(r.ID, "a"), r.owner.Token, map[string]any{"reason": "spam"}, http.StatusCreated)
	// A refused duplicate does not use up the quota.
	ts.call("POST", reportPath(r.ID, "a"), r.owner.Token, map[string]any{"reason": "spam"}, http.StatusConflict)
	ts.call("POST", reportPath(r.ID, "b"), r.owner.Token, map[string]any{"reason": "spam"}, http.StatusCreated)
	// The quota document expires (TTL) a margin after its hour.
	hour := now.UTC().Truncate(time.Hour)
	qsnap, err := ts.env.Firestore().Doc(model.ReportQuotasCollection + "/" + r.owner.UID + "_" + hour.Format("2006010215")).Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var q model.Quota
	if err := qsnap.DataTo(&q); err != nil || q.Count != 2 || !q.ExpireAt.Equal(hour.Add(time.Hour+model.QuotaExpiryMargin)) {
		t.Errorf("report quota = %+v, %v; want count 2, expireAt %v", q, err, hour.Add(time.Hour+model.QuotaExpiryMargin))
	}
	res := ts.do(req{method: "POST", path: reportPath(r.ID, "c"), token: r.owner.Token, body: map[string]any{"reason": "spam"}})
	if res.Code != http.StatusTooManyRequests || res.errorBody().Reason != ReasonRateLimited || res.Header.Get("Retry-After") == "" {
		t.Fatalf("third report in the hour (limit 2) = %s (Retry-After %q), want 429 RATE_LIMITED with Retry-After", res, res.Header.Get("Retry-After"))
	}
	// The limit is per reporter: another member still reports.
	ts.call("POST", reportPath(r.ID, "c"), r.admin.Token, map[string]any{"reason": "spam"}, http.StatusCreated)
	// The refused report left nothing behind.
	snap, err := ts.env.Firestore().Doc(model.ReporterPath(r.ID, "c", r.owner.UID)).Get(t.Context())
	if snap.Exists() {
		t.Errorf("refused report stored: %v %v", snap.Data(), err)
	}
	// Next hour, the quota is fresh.
	ts.clock.Advance(time.Hour)
	ts.call("POST", reportPath(r.ID, "c"), r.owner.Token, map[string]any{"reason": "spam"}, http.StatusCreated)
}

func TestReportQueue(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t) // default threshold: 3
	root := ts.newAdmin("Root")
	r := ts.newReportRoom()
	other := ts.newReportRoom()
	t0 := ts.clock.Now()
	for _, id := range []string{"dismiss-me", "redact-me", "ban-me"} {
		ts.addMessage(r.ID, id, r.member.UID, "bad "+id, t0)
	}
	ts.addMessage(other.ID, "elsewhere", other.member.UID, "meh", t0)
	report := func(rr reportRoom, id string, who user, reason string) {
		t.Helper()
		ts.call("POST", reportPath(rr.ID, id), who.Token, map[string]any{"reason": reason}, http.StatusCreated)
	}
	report(r, "dismiss-me", r.owner, "spam")
	report(r, "dismiss-me", r.more[0], "spam")
	report(r, "dismiss-me", r.more[1], "abuse")
	ts.clock.Advance(time.Minute)
	report(r, "redact-me", r.owner, "nudity")
	ts.clock.Advance(time.Minute)
	report(r, "ban-me", r.owner, "harassment")
	ts.clock.Advance(time.Minute)
	report(other, "elsewhere", other.owner, "other")

	list := func(query string) reportPage {
		t.Helper()
		var p reportPage
		ts.call("GET", "/admin/v1/reports"+query, root.Token, nil, http.StatusOK).decode(t, &p)
		return p
	}
	ids := func(p reportPage) []string {
		var out []string
		for _, e := range p.Reports {
			out = append(out, e.MessageID)
		}
		return out
	}
	all := list("")
	if got, want := ids(all), []string{"dismiss-me", "redact-me", "ban-me", "elsewhere"}; !slices.Equal(got, want) {
		t.Fatalf("queue = %v, want %v (oldest first)", got, want)
	}
	first := all.Reports[0]
	if first.ID != r.ID+"~dismiss-me" || first.RoomID != r.ID || first.SenderID != r.member.UID || first.Text != "bad dismiss-me" ||
		first.Count != 3 || first.Reasons["spam"] != 2 || first.Reasons["abuse"] != 1 || !first.Hidden ||
		first.Status != model.ReportOpen || first.Resolution != nil || !first.FirstReportedAt.Equal(t0) {
		t.Errorf("entry = %+v, want 3 reports (spam 2, abuse 1), hidden, open, first at %v", first, t0)
	}
	if all.Reports[1].Hidden {
		t.Errorf("entry with 1 report hidden, want shown")
	}
	if raw := string(ts.call("GET", "/admin/v1/reports?limit=1", root.Token, nil, http.StatusOK).Body); !strings.Contains(raw, `"resolution":null`) {
		t.Errorf("open entry JSON = %s, want \"resolution\":null", raw)
	}
	for _, f := range []struct {
		query string
		want  []string
	}{
		{"?roomId=" + other.ID, []string{"elsewhere"}},
		{"?reason=spam", []string{"dismiss-me"}},
		{"?reason=nudity&roomId=" + r.ID, []string{"redact-me"}},
		{"?olderThan=" + t0.Add(90*time.Second).Format(time.RFC3339Nano), []string{"dismiss-me", "redact-me"}},
		{"?status=resolved", nil},
	} {
		if got := ids(list(f.query)); !slices.Equal(got, f.want) {
			t.Errorf("GET /admin/v1/reports%s = %v, want %v", f.query, got, f.want)
		}
	}
	// Paging.
	p1 := list("?limit=3")
	if len(p1.Reports) != 3 || p1.NextPageToken == "" {
		t.Fatalf("page 1 = %v next %q, want 3 and a token", ids(p1), p1.NextPageToken)
	}
	if p2 := list("?limit=3&pageToken=" + p1.NextPageToken); !slices.Equal(ids(p2), []string{"elsewhere"}) || p2.NextPageToken != "" {
		t.Errorf("page 2 = %v next %q, want [elsewhere], last", ids(p2), p2.NextPageToken)
	}
	for _, bad := range []string{"?status=closed", "?reason=boring", "?olderThan=yesterday", "?roomId=a_b", "?pageToken=nope", "?limit=0"} {
		if res := ts.do(req{method: "GET", path: "/admin/v1/reports" + bad, token: root.Token}); res.Code != http.StatusBadRequest {
			t.Errorf("GET /admin/v1/reports%s = %s, want 400", bad, res)
		}
	}
	if res := ts.do(req{method: "GET", path: "/admin/v1/reports", token: r.owner.Token}); res.Code != http.StatusForbidden {
		t.Errorf("queue as a non-admin = %s, want 403", res)
	}

	resolve := func(id, action string, want int) apiReport {
		t.Helper()
		var out reportResponse
		res := ts.call("POST", "/admin/v1/reports/"+id+"/resolve", root.Token, map[string]any{"action": action, "note": "looked at it"}, want)
		if want == http.StatusOK {
			res.decode(t, &out)
		}
		return out.Report
	}
	// Dismiss: the message shows again.
	d := resolve(r.ID+"~dismiss-me", "dismiss", http.StatusOK)
	if d.Status != model.ReportResolved || d.Resolution == nil || d.Resolution.Action != model.ReportDismiss ||
		d.Resolution.By != root.UID || d.Resolution.Note != "looked at it" || d.Hidden {
		t.Errorf("dismissed = %+v, want resolved by %s, shown", d, root.UID)
	}
	if ts.messageHidden(r.ID, "dismiss-me") {
		t.Errorf("message hidden after dismiss")
	}
	resolve(r.ID+"~dismiss-me", "dismiss", http.StatusConflict)
	// A new report reopens the entry but does not hide the message again on its own.
	report(r, "dismiss-me", r.admin, "spam")
	reopened := list("?limit=1").Reports[0]
	if reopened.MessageID != "dismiss-me" || reopened.Status != model.ReportOpen || reopened.Resolution != nil || reopened.Count != 4 || reopened.Hidden {
		t.Errorf("after a new report = %+v, want open again, count 4, not hidden (1 since the dismissal)", reopened)
	}
	// Redact: a tombstone.
	resolve(r.ID+"~redact-me", "redact", http.StatusOK)
	var page messagePage
	ts.call("GET", "/v1/rooms/"+r.ID+"/messages", r.owner.Token, nil, http.StatusOK).decode(t, &page)
	if i := slices.IndexFunc(page.Messages, func(m apiMessage) bool { return m.ID == "redact-me" }); i < 0 || !page.Messages[i].Deleted {
		t.Errorf("history after redact = %+v, want redact-me deleted", page.Messages)
	}
	// Ban: the sender is out of the room.
	resolve(r.ID+"~ban-me", "ban", http.StatusOK)
	if res := ts.do(req{method: "GET", path: "/v1/rooms/" + r.ID, token: r.member.Token}); res.Code != http.StatusNotFound {
		t.Errorf("banned sender reads the room = %s, want 404", res)
	}
	if got := ids(list("?status=resolved")); !slices.Equal(got, []string{"redact-me", "ban-me"}) {
		t.Errorf("resolved = %v, want [redact-me ban-me]", got)
	}
	// Refusals.
	for _, c := range []struct {
		id, action string
		want       int
	}{
		{r.ID + "~nope", "dismiss", http.StatusNotFound},
		{"not-a-report-id", "dismiss", http.StatusNotFound},
		{other.ID + "~elsewhere", "delete", http.StatusBadRequest},
		{other.ID + "~elsewhere", "", http.StatusBadRequest},
	} {
		if res := ts.do(req{method: "POST", path: "/admin/v1/reports/" + c.id + "/resolve", token: root.Token, body: map[string]any{"action": c.action}}); res.Code != c.want {
			t.Errorf("resolve %s %q = %s, want %d", c.id, c.action, res, c.want)
		}
	}
	if res := ts.do(req{method: "POST", path: "/admin/v1/reports/" + other.ID + "~elsewhere/resolve", token: other.owner.Token, body: map[string]any{"action": "dismiss"}}); res.Code != http.StatusForbidden {
		t.Errorf("resolve as a non-admin = %s, want 403", res)
	}
	// Each resolution is audited (the redaction and the ban write their own entries too).
	actions := ts.auditActions()
	for _, want := range []string{"report.dismiss", "report.redact", "message.redact", "report.ban", "member.ban"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log = %v, want %s", actions, want)
		}
	}
}
