package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleAdminDisablesUser: an admin signs in, finds a user by email,
// disables them and sees the audit entry appear; then looks at a room's
// members and archives it. The page reports no script error and no CSP
// violation throughout.
func TestConsoleAdminDisablesUser(t *testing.T) {
	api := startAPI(t)
	admin := api.newAdmin(t, "Ada Admin")
	target := api.newUser(t, "Tom Target")
	member := api.newUser(t, "Mia Member")
	roomID := api.createRoom(t, target, "Book club", member)
	b := newBrowser(t)

	b.signIn(api, admin)
	b.do("the overview after sign-in", chromedp.WaitVisible(chromedp.CSS("#overview-days")))
	if got := b.text("#who"); got != admin.Email {
		t.Errorf("signed in as %q, want %q", got, admin.Email)
	}
	b.screenshot("overview")

	// The page lists a first page of every user (which need not hold the
	// admin or the target: other tests share the Auth emulator); the search
	// replaces that list with the one match. Waiting for exactly that one
	// row means the row clicked is not about to be replaced.
	onlyTarget := `(() => { const rows = document.querySelectorAll('#user-results tr[data-uid]');` +
		` return rows.length === 1 && rows[0].dataset.uid === ` + jsString(target.UID) + `; })()`
	b.do("find the user by email",
		chromedp.Click(chromedp.CSS(`#nav a[data-page="users"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#user-results tr[data-uid]`)),
		chromedp.SendKeys(chromedp.CSS("#user-query"), target.Email),
		chromedp.Click(chromedp.CSS("#user-find-button")),
		chromedp.Poll[chromedp.Void](onlyTarget),
		chromedp.Click(chromedp.CSS(`#user-results tr[data-uid="`+target.UID+`"] .open-user`)),
		chromedp.WaitVisible(chromedp.CSS("#user-disable")))
	if got := b.text("#user-name"); got != "Tom Target" {
		t.Errorf("user name = %q, want Tom Target", got)
	}
	b.do("disable the user",
		chromedp.SendKeys(chromedp.CSS("#user-reason"), "spam wave"),
		chromedp.Click(chromedp.CSS("#user-disable")),
		chromedp.WaitVisible(chromedp.CSS("#user-enable")))
	if got := b.text("#user-status"); got != "disabled" {
		t.Errorf("status after disabling = %q, want disabled", got)
	}
	rec, err := api.env.Auth().GetUser(t.Context(), target.UID)
	if err != nil || !rec.Disabled {
		t.Fatalf("Auth record after disabling: disabled=%v, err %v", rec != nil && rec.Disabled, err)
	}
	b.screenshot("users")

	entry := `#audit-results tr[data-action="user.disable"][data-target="users/` + target.UID + `"]`
	b.do("the audit entry appears",
		chromedp.Click(chromedp.CSS(`#nav a[data-page="audit"]`)),
		chromedp.WaitVisible(chromedp.CSS(entry)))
	if got := b.text(entry); !strings.Contains(got, admin.UID) || !strings.Contains(got, "spam wave") {
		t.Errorf("audit row = %q, want the actor %s and the reason", got, admin.UID)
	}
	b.do("filter the audit log by action",
		chromedp.SetValue(chromedp.CSS("#audit-action"), "room.archive"),
		chromedp.Click(chromedp.CSS("#audit-show")),
		chromedp.WaitNotPresent(chromedp.CSS(entry)))
	b.do("and back",
		chromedp.SetValue(chromedp.CSS("#audit-action"), "user.disable"),
		chromedp.SendKeys(chromedp.CSS("#audit-actor"), admin.UID),
		chromedp.Click(chromedp.CSS("#audit-show")),
		chromedp.WaitVisible(chromedp.CSS(entry)))
	b.screenshot("audit")

	b.do("open the room",
		chromedp.Click(chromedp.CSS(`#nav a[data-page="rooms"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#room-results tr[data-room="`+roomID+`"] button`)),
		chromedp.Click(chromedp.CSS(`#room-results tr[data-room="`+roomID+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#room-members")))
	members := b.text("#room-members")
	for _, want := range []string{target.UID, "Tom Target", "owner", member.UID, "Mia Member", "member"} {
		if !strings.Contains(members, want) {
			t.Errorf("members table %q lacks %q", members, want)
		}
	}
	b.do("archive the room",
		chromedp.Click(chromedp.CSS("#room-archive")),
		chromedp.WaitVisible(chromedp.CSS("#room-unarchive")))
	b.screenshot("rooms")
	b.noProblems()
}

// TestConsoleRefusesNonAdmin: an account without the admin claim gets the
// "not an admin" page, both with a password and with the Google provider;
// a Google account given the claim gets in.
func TestConsoleRefusesNonAdmin(t *testing.T) {
	api := startAPI(t)
	plain := api.newUser(t, "Pat Plain")
	b := newBrowser(t)

	b.do("open the console",
		chromedp.Navigate(api.url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.WaitVisible(chromedp.CSS("#google-signin")))
	b.screenshot("signin")
	b.signIn(api, plain)
	b.do("the not-an-admin page", chromedp.WaitVisible(chromedp.CSS("#not-admin")))
	if got := b.text("#not-admin h1"); got != "Not an admin" {
		t.Errorf("heading = %q", got)
	}
	if hidden := eval[bool](b, `document.getElementById('nav').hidden`); !hidden {
		t.Error("the page navigation is shown to a non-admin")
	}
	b.screenshot("not-admin")

	google := "gwen+" + api.env.ProjectID + "@example.com"
	// From the not-an-admin page: back to sign-in, then the emulator's Google
	// sign-in with the account's email, until then is shown.
	googleSignIn := func(what, then string) {
		b.do(what,
			chromedp.Click(chromedp.CSS("#not-admin button")),
			chromedp.WaitVisible(chromedp.CSS("#google-email")),
			chromedp.SendKeys(chromedp.CSS("#google-email"), google),
			chromedp.Click(chromedp.CSS("#google-signin")),
			chromedp.WaitVisible(chromedp.CSS(then)))
	}
	googleSignIn("sign in with Google", "#not-admin")
	api.makeGoogleAdmin(t, google)
	googleSignIn("sign in with Google as an admin", "#overview-days")
	b.noProblems()
}

// holdFirstList makes the page's next list of all users (GET /admin/v1/users without an
// email) wait for window.hearthTestRelease(); window.hearthTestListHandled turns true once
// the page has read that list's body and run what follows it (a task after the body).
const holdFirstList = `(() => {
  const orig = window.fetch;
  let release, held = false;
  const gate = new Promise((r) => { release = r; });
  window.hearthTestRelease = release;
  window.hearthTestListHandled = false;
  window.fetch = async (input, init) => {
    const url = String(input && input.url ? input.url : input);
    const res = await orig(input, init);
    if (held || !url.includes('/admin/v1/users?') || url.includes('email=')) return res;
    held = true;
    await gate;
    const body = res.json.bind(res);
    res.json = async () => {
      const v = await body();
      setTimeout(() => { window.hearthTestListHandled = true; }, 0);
      return v;
    };
    return res;
  };
  return true;
})()`

// TestConsoleSearchBeatsFirstList: the users page lists every user when it opens; a
// search answered before that list arrives keeps its result when the list comes late.
func TestConsoleSearchBeatsFirstList(t *testing.T) {
	api := startAPI(t)
	admin := api.newAdmin(t, "Ada Admin")
	victim := api.newUser(t, "Late List")
	b := newBrowser(t)

	b.signIn(api, admin)
	b.do("wait for the overview", chromedp.WaitVisible(chromedp.CSS("#overview-days")))
	eval[bool](b, holdFirstList)
	row := `#user-results tr[data-uid="` + victim.UID + `"]`
	b.do("find a user while the page's first list is held",
		chromedp.Click(chromedp.CSS(`#nav a[data-page="users"]`)),
		chromedp.WaitVisible(chromedp.CSS("#user-query")),
		chromedp.SendKeys(chromedp.CSS("#user-query"), victim.Email),
		chromedp.Click(chromedp.CSS("#user-find-button")),
		chromedp.WaitVisible(chromedp.CSS(row)))
	eval[bool](b, `(window.hearthTestRelease(), true)`)
	b.do("the first list arrives", chromedp.Poll[chromedp.Void](`window.hearthTestListHandled === true`))
	if rows := eval[[]string](b, `[...document.querySelectorAll('#user-results tr[data-uid]')].map((r) => r.dataset.uid)`); len(rows) != 1 || rows[0] != victim.UID {
		t.Errorf("user rows after the late first list = %v, want only the one found (%s)", rows, victim.UID)
	}
	b.noProblems()
}

// TestConsoleShowsNamesAsText: a display name that is markup shows
// literally; no element is made from it and no script runs.
func TestConsoleShowsNamesAsText(t *testing.T) {
	const evil = `<img src=x onerror=alert(1)>`
	api := startAPI(t)
	admin := api.newAdmin(t, "Ada Admin")
	victim := api.newUser(t, evil)
	b := newBrowser(t)

	b.signIn(api, admin)
	b.do("find the user by email",
		chromedp.WaitVisible(chromedp.CSS("#overview-days")),
		chromedp.Click(chromedp.CSS(`#nav a[data-page="users"]`)),
		chromedp.WaitVisible(chromedp.CSS("#user-query")),
		chromedp.SendKeys(chromedp.CSS("#user-query"), victim.Email),
		chromedp.Click(chromedp.CSS("#user-find-button")),
		chromedp.WaitVisible(chromedp.CSS(`#user-results tr[data-uid="`+victim.UID+`"]`)))
	if got := b.text(`#user-results tr[data-uid="` + victim.UID + `"]`); !strings.Contains(got, evil) {
		t.Errorf("user row = %q, want the name %q as text", got, evil)
	}
	b.do("open the user by uid",
		chromedp.SetValue(chromedp.CSS("#user-query"), victim.UID),
		chromedp.Click(chromedp.CSS("#user-find-button")),
		chromedp.WaitVisible(chromedp.CSS("#user-name")))
	if got := b.text("#user-name"); got != evil {
		t.Errorf("user name = %q, want %q literally", got, evil)
	}
	if n := eval[int](b, `document.querySelectorAll('img').length`); n != 0 {
		t.Errorf("%d img elements in the page, want 0", n)
	}
	b.screenshot("xss-name")
	b.noProblems() // an alert() would be a JavaScript dialog here
}
