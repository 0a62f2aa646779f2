package admin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/revocation"
	"github.com/hearth-chat/hearth/rules"
)

// rawBearer is gRPC per-call credentials carrying one exact ID token, so a
// Firestore client acts with a real token of the Auth emulator (its
// auth_time is the real sign-in time).
type rawBearer string

func (b rawBearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (rawBearer) RequireTransportSecurity() bool { return false }

// withRules loads the rendered Firestore rules into the test's project.
func (ts *testServer) withRules() {
	ts.t.Helper()
	src, _, err := rules.Render()
	if err != nil {
		ts.t.Fatalf("rules.Render() = %v", err)
	}
	ts.env.LoadRules(string(src))
}

// firestoreAs returns a Firestore client of the test's project that sends
// token with every call, as a mobile app does: the rules apply.
func (ts *testServer) firestoreAs(token string) *firestore.Client {
	ts.t.Helper()
	conn, err := grpc.NewClient(ts.env.FirestoreHost,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(rawBearer(token)))
	if err != nil {
		ts.t.Fatalf("dial Firestore: %v", err)
	}
	c, err := firestore.NewClient(context.Background(), ts.env.ProjectID, option.WithGRPCConn(conn))
	if err != nil {
		ts.t.Fatalf("user Firestore client: %v", err)
	}
	ts.t.Cleanup(func() { c.Close() })
	return c
}

// nextSecond waits until the clock has passed the second after t: a
// sign-in from then on has an auth_time (whole seconds) later than t.
// It is a condition on the clock, not a guess: it returns as soon as the
// second has turned.
func nextSecond(t testing.TB, after time.Time) {
	t.Helper()
	boundary := after.Truncate(time.Second).Add(time.Second)
	emutest.Eventually(t, 3*time.Second, func() error {
		if time.Now().Before(boundary) {
			return fmt.Errorf("now %s, before %s", time.Now().Format(time.RFC3339Nano), boundary.Format(time.RFC3339))
		}
		return nil
	})
}

// firestoreDenied fails unless err is PERMISSION_DENIED.
func firestoreDenied(t testing.TB, what string, err error) {
	t.Helper()
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("%s = %v, want PermissionDenied", what, err)
	}
}

// firestoreAllowed fails when err is not nil.
func firestoreAllowed(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s = %v, want allowed", what, err)
	}
}

// adminRoutes returns one request per /admin/v1 route of the router, path
// parameters filled in with harmless values.
func (ts *testServer) adminRoutes() []req {
	var out []req
	for _, r := range ts.srv.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/admin/v1/") {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
				parts[i] = "x" + strings.TrimLeft(p, ":*")
			}
		}
		out = append(out, req{method: r.Method, path: strings.Join(parts, "/")})
	}
	if len(out) < 10 {
		ts.t.Fatalf("router has %d admin routes, want the whole table", len(out))
	}
	return out
}

// TestDemotionBitesAtOnce: after PUT /admin/v1/users/{uid}/claims {} the
// demoted admin's existing ID token is refused on every /admin/v1 route and
// no longer passes isAdmin() in the Firestore rules.
func TestDemotionBitesAtOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.withRules()
	root, boss := ts.newAdmin("Root"), ts.newAdmin("Boss")
	old := boss.Token
	ts.call("GET", "/admin/v1/stats", old, nil, http.StatusOK)
	fsOld := ts.firestoreAs(old)
	firestoreAllowed(t, "admin reads the audit log before demotion", func() error {
		_, err := fsOld.Collection("auditLog").Documents(t.Context()).GetAll()
		return err
	}())

	ts.call("PUT", "/admin/v1/users/"+boss.UID+"/claims", root.Token, map[string]any{"claims": map[string]any{}}, http.StatusOK)

	for _, rq := range ts.adminRoutes() {
		rq.token = old
		if resp := ts.do(rq); resp.Code != http.StatusUnauthorized && resp.Code != http.StatusForbidden {
			t.Errorf("demoted admin's old token: %s %s = %s, want 401 or 403", rq.method, rq.path, resp)
		}
	}
	_, err := fsOld.Collection("auditLog").Documents(t.Context()).GetAll()
	firestoreDenied(t, "demoted admin's old token lists the audit log", err)
	_, err = fsOld.Doc("users/" + root.UID).Get(t.Context())
	firestoreDenied(t, "demoted admin's old token reads a profile", err)

	// The other side: signed in again, the user is an ordinary user.
	fresh := ts.signIn(boss)
	ts.call("GET", "/v1/me", fresh.Token, nil, http.StatusOK)
	if r := ts.do(req{method: "GET", path: "/admin/v1/stats", token: fresh.Token}); r.Code != 403 || r.errorBody().Reason != ReasonAdminRequired {
		t.Errorf("demoted admin's new session on an admin route = %s, want 403 %s", r, ReasonAdminRequired)
	}
	fsNew := ts.firestoreAs(fresh.Token)
	_, err = fsNew.Doc("users/" + root.UID).Get(t.Context())
	firestoreAllowed(t, "new session reads a profile", err)
	_, err = fsNew.Collection("auditLog").Documents(t.Context()).GetAll()
	firestoreDenied(t, "new session (no admin claim) lists the audit log", err)
}

// TestDisabledAndRevokedLoseFirestore: after POST .../disable,
// .../revoke-tokens or DELETE /admin/v1/users/{uid}, the user's old ID token
// neither reads nor writes Firestore directly.
func TestDisabledAndRevokedLoseFirestore(t *testing.T) {
	t.Parallel()
	for _, action := range []struct{ name, method, suffix string }{
		{"disable", "POST", "/disable"},
		{"revoke", "POST", "/revoke-tokens"},
		{"erase", "DELETE", ""},
	} {
		t.Run(action.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			ts.withRules()
			root, alice := ts.newAdmin("Root"), ts.newUser("Alice")
			bob := ts.newUser("Bob")
			fsOld := ts.firestoreAs(alice.Token)
			ctx := t.Context()
			read := func() error { _, err := fsOld.Doc("users/" + bob.UID).Get(ctx); return err }
			// A settings change: not rate-limited like a rename, so it can be repeated.
			write := func() error {
				_, err := fsOld.Doc("users/"+alice.UID).Update(ctx, []firestore.Update{{Path: "settings.readReceipts", Value: true}})
				return err
			}
			firestoreAllowed(t, "read before "+action.name, read())
			firestoreAllowed(t, "write before "+action.name, write())

			ts.call(action.method, "/admin/v1/users/"+alice.UID+action.suffix, root.Token, nil, http.StatusOK)

			firestoreDenied(t, "old token reads after "+action.name, read())
			if action.name != "erase" { // the profile is gone: the update fails either way
				firestoreDenied(t, "old token writes after "+action.name, write())
			}
			if r := ts.do(req{method: "DELETE", path: "/v1/devices/d1", token: alice.Token}); r.Code != 401 {
				t.Errorf("old token on the API after %s = %s, want 401", action.name, r)
			}
			if action.name == "revoke" {
				// The other side: a new session reads and writes again.
				fsNew := ts.firestoreAs(ts.signIn(alice).Token)
				_, err := fsNew.Doc("users/" + bob.UID).Get(ctx)
				firestoreAllowed(t, "new session reads after revoke", err)
				_, err = fsNew.Doc("users/"+alice.UID).Update(ctx, []firestore.Update{{Path: "settings.readReceipts", Value: false}})
				firestoreAllowed(t, "new session writes after revoke", err)
			}
		})
	}
}

// TestRevocationReachesEveryInstance: the instance that revokes refuses the
// user's tokens (cached ones included) at once; another instance refuses
// them from its next poll of the markers; a new session works on both.
func TestRevocationReachesEveryInstance(t *testing.T) {
	t.Parallel()
	a, marksA := newTestServerManualMarkers(t)
	b := newTestServerEnv(t, a.env, func(c *Config, d *Deps) {
		m, err := revocation.New(revocation.Config{}, a.env.Firestore(), d.Clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Revocations = m
	})
	marksB := b.srv.revocations.(*revocation.Markers)
	for _, m := range []*revocation.Markers{marksA, marksB} {
		if err := m.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	root, alice := a.newAdmin("Root"), a.newUser("Alice")
	write := func(ts *testServer, tok string) response {
		return ts.do(req{method: "PUT", path: "/v1/devices/d1", token: tok, body: map[string]string{"token": "tok-" + ts.env.ProjectID, "platform": "ios"}})
	}
	for _, ts := range []*testServer{a, b} { // verified and cached on both
		if r := write(ts, alice.Token); r.Code != 200 {
			t.Fatalf("write before revocation = %s", r)
		}
	}

	a.call("POST", "/admin/v1/users/"+alice.UID+"/revoke-tokens", root.Token, nil, http.StatusOK)

	revoked := func(what string, r response) {
		t.Helper()
		if r.Code != 401 || r.errorBody().Reason != ReasonTokenRevoked {
			t.Errorf("%s = %s, want 401 %s", what, r, ReasonTokenRevoked)
		}
	}
	revoked("write on the revoking instance", write(a, alice.Token))
	revoked("read on the revoking instance", a.do(req{method: "GET", path: "/v1/me", token: alice.Token}))
	// The other instance has not polled yet: this is the window the
	// staleness bound limits (Run polls every PollInterval; past
	// StaleAfter without a poll, writes ask Firebase Auth).
	if r := write(b, alice.Token); r.Code != 200 {
		t.Errorf("write on the other instance before its poll = %s, want 200 (it has not learnt of the marker yet)", r)
	}
	if err := marksB.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	revoked("write on the other instance after its poll", write(b, alice.Token))
	revoked("read on the other instance after its poll", b.do(req{method: "GET", path: "/v1/me", token: alice.Token}))

	// A session begun after the marker works everywhere (Revoke returned
	// only once the marker's second was over).
	fresh := a.signIn(alice)
	for _, ts := range []*testServer{a, b} {
		if r := write(ts, fresh.Token); r.Code != 200 {
			t.Errorf("new session's write = %s, want 200", r)
		}
	}
}

// TestRevocationRunLoop: with the markers kept current by Run (as Serve
// does), another instance refuses a revoked token without anyone polling by
// hand. The bound itself is what TestRevocationReachesEveryInstance and the
// revocation package test; this checks the loop delivers it.
func TestRevocationRunLoop(t *testing.T) {
	t.Parallel()
	a := newTestServer(t)
	b := newTestServerEnv(t, a.env)
	root, alice := a.newAdmin("Root"), a.newUser("Alice")
	b.call("GET", "/v1/me", alice.Token, nil, http.StatusOK)
	a.call("POST", "/admin/v1/users/"+alice.UID+"/disable", root.Token, nil, http.StatusOK)
	emutest.Eventually(t, 15*time.Second, func() error {
		if r := b.do(req{method: "GET", path: "/v1/me", token: alice.Token}); r.Code != 401 {
			return fmt.Errorf("other instance: GET /v1/me = %s", r)
		}
		return nil
	})
}

// TestAdminRoutesReadLiveAccount: claims changed, account disabled or
// tokens revoked outside Hearth (no marker, the Firebase console) close the
// admin routes at the next request, though the token is cached.
func TestAdminRoutesReadLiveAccount(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	authClient := ts.env.Auth()
	for _, tt := range []struct {
		name   string
		change func(uid string) error
		code   int
		reason string
	}{
		{"claims cleared", func(uid string) error { return authClient.SetCustomUserClaims(ctx, uid, nil) }, 403, ReasonAdminRequired},
		{"disabled", func(uid string) error {
			_, err := authClient.UpdateUser(ctx, uid, (&auth.UserToUpdate{}).Disabled(true))
			return err
		}, 401, ReasonUserDisabled},
		{"deleted", func(uid string) error { return authClient.DeleteUser(ctx, uid) }, 401, ReasonUserNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			boss := ts.newAdmin("Boss")
			ts.call("GET", "/admin/v1/stats", boss.Token, nil, http.StatusOK) // cached now
			if err := tt.change(boss.UID); err != nil {
				t.Fatal(err)
			}
			if r := ts.do(req{method: "GET", path: "/admin/v1/stats", token: boss.Token}); r.Code != tt.code || r.errorBody().Reason != tt.reason {
				t.Errorf("admin route after %s outside Hearth = %s, want %d %s", tt.name, r, tt.code, tt.reason)
			}
		})
	}
	// Tokens revoked outside Hearth. Firebase Auth revokes in whole
	// seconds: wait for the clock to leave the token's second first.
	boss := ts.newAdmin("Old")
	old := boss.Token
	ts.call("GET", "/admin/v1/stats", old, nil, http.StatusOK)
	nextSecond(t, time.Now())
	if err := authClient.RevokeRefreshTokens(ctx, boss.UID); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(req{method: "GET", path: "/admin/v1/stats", token: old}); r.Code != 401 || r.errorBody().Reason != ReasonTokenRevoked {
		t.Errorf("admin route after a revocation outside Hearth = %s, want 401 %s", r, ReasonTokenRevoked)
	}
}

// BenchmarkRevocationPropagation measures how long a revocation takes to
// bite, one revocation per iteration (run it with -benchtime=20x):
//
//   - rules-ms: from the marker's revokedAt (the server's time) to the
//     Firestore rules refusing the old token's next read;
//   - other-instance-ms: from revokedAt to another API instance (markers
//     kept current by Run, as Serve does) refusing the old token;
//   - admin-call-ms: POST /admin/v1/users/{uid}/revoke-tokens end to end on
//     the revoking instance, which refuses the token from the moment the
//     call returns (it waits for the marker's second to end, see
//     revocation.Markers.Revoke).
//
// Each figure is the median over the iterations.
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench BenchmarkRevocationPropagation -benchtime=20x ./admin/
func BenchmarkRevocationPropagation(b *testing.B) {
	// The shared machine can make one Auth emulator call slow: a generous
	// bound keeps a measurement from failing on it.
	patient := func(c *Config, d *Deps) { c.AuthTimeout = 15 * time.Second }
	a := newTestServer(b, patient)
	a.withRules()
	other := newTestServerEnv(b, a.env, patient)
	root := a.newAdmin("Root")
	var rulesD, otherD, callD []time.Duration
	for b.Loop() {
		b.StopTimer()
		u := a.newUser("U")
		other.call("GET", "/v1/me", u.Token, nil, http.StatusOK)
		fsOld := a.firestoreAs(u.Token)
		if _, err := fsOld.Doc("users/" + u.UID).Get(b.Context()); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
		watch := func(refused func() bool) <-chan time.Time {
			out := make(chan time.Time, 1)
			go func() {
				for ctx.Err() == nil {
					if refused() {
						out <- time.Now()
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				close(out)
			}()
			return out
		}
		rulesAt := watch(func() bool {
			_, err := fsOld.Doc("users/" + u.UID).Get(ctx)
			return status.Code(err) == codes.PermissionDenied
		})
		otherAt := watch(func() bool {
			return other.do(req{method: "GET", path: "/v1/me", token: u.Token}).Code == http.StatusUnauthorized
		})
		// A random phase against the other instance's polls (and the
		// second boundary the call waits for): the iterations would
		// otherwise fall at the same point of the poll cycle every time.
		time.Sleep(rand.N(time.Second))
		b.StartTimer()
		start := time.Now()
		a.call("POST", "/admin/v1/users/"+u.UID+"/revoke-tokens", root.Token, nil, http.StatusOK)
		callD = append(callD, time.Since(start))
		b.StopTimer()
		if r := a.do(req{method: "GET", path: "/v1/me", token: u.Token}); r.Code != http.StatusUnauthorized {
			b.Fatalf("revoking instance after the call = %s, want 401", r)
		}
		revokedAt, ok := a.srv.revocations.RevokedAt(u.UID)
		if !ok {
			b.Fatal("no marker on the revoking instance")
		}
		tr, ok1 := <-rulesAt
		to, ok2 := <-otherAt
		cancel()
		if !ok1 || !ok2 {
			b.Fatalf("not refused within 30 s: rules %v, other instance %v", ok1, ok2)
		}
		rulesD = append(rulesD, tr.Sub(revokedAt))
		otherD = append(otherD, to.Sub(revokedAt))
		b.StartTimer()
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2]) / float64(time.Millisecond)
	}
	b.ReportMetric(median(rulesD), "rules-ms")
	b.ReportMetric(median(otherD), "other-instance-ms")
	b.ReportMetric(median(callD), "admin-call-ms")
	slices.Sort(otherD)
	b.ReportMetric(float64(otherD[len(otherD)-1])/float64(time.Millisecond), "other-instance-max-ms")
}

// TestReadsBeforeFirstPoll: an instance whose markers have never been read
// (its first poll failed, and every one since) knows of no revocation at
// all, so its reads ask Firebase Auth until a poll succeeds instead of
// serving a disabled user's cached token.
func TestReadsBeforeFirstPoll(t *testing.T) {
	t.Parallel()
	a := newTestServer(t)
	b := newTestServerEnv(t, a.env, func(c *Config, d *Deps) {
		m, err := revocation.New(revocation.Config{}, a.env.Firestore(), d.Clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Revocations = m // never polled
	})
	root, alice := a.newAdmin("Root"), a.newUser("Alice")
	b.call("GET", "/v1/me", alice.Token, nil, http.StatusOK)
	a.call("POST", "/admin/v1/users/"+alice.UID+"/disable", root.Token, nil, http.StatusOK)
	if r := b.do(req{method: "GET", path: "/v1/me", token: alice.Token}); r.Code != 401 {
		t.Errorf("read on an instance that never read the markers, after a disable = %s, want 401", r)
	}
}
