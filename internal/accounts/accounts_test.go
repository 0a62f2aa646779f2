package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/auditlog"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/revocation"
	"github.com/hearth-chat/hearth/internal/rooms"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// failingMedia is a media eraser whose storage is down.
type failingMedia struct{ calls int }

var errStorageDown = errors.New("storage down")

func (m *failingMedia) EraseUserMedia(context.Context, string) (int, error) {
	m.calls++
	return 0, errStorageDown
}

type fixture struct {
	t     *testing.T
	env   *emutest.Env
	fs    *firestore.Client
	auth  *auth.Client
	rooms *rooms.Service
	marks *revocation.Markers
	clock *clock.Fake
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := emutest.New(t)
	f := &fixture{t: t, env: env, fs: env.Firestore(), auth: env.Auth(), clock: clock.NewFake(time.Now().Truncate(time.Millisecond))}
	var err error
	if f.rooms, err = rooms.New(rooms.Deps{Firestore: f.fs, Users: f.auth, Audit: auditlog.Writer{FS: f.fs}, Clock: f.clock}); err != nil {
		t.Fatal(err)
	}
	if f.marks, err = revocation.New(revocation.Config{}, f.fs, f.clock, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) service(media accounts.MediaEraser) *accounts.Service {
	f.t.Helper()
	svc, err := accounts.New(accounts.Deps{Firestore: f.fs, Users: f.auth, Revocations: f.marks, Audit: auditlog.Writer{FS: f.fs},
		Rooms: f.rooms, Media: media, Clock: f.clock})
	if err != nil {
		f.t.Fatalf("accounts.New() = %v", err)
	}
	return svc
}

func (f *fixture) user(name string) string {
	f.t.Helper()
	u := f.env.NewUser(name)
	if _, err := f.fs.Doc(model.UserPath(u.UID)).Set(f.t.Context(), map[string]any{"displayName": name}); err != nil {
		f.t.Fatal(err)
	}
	return u.UID
}

func (f *fixture) exists(path string) bool {
	f.t.Helper()
	_, err := f.fs.Doc(path).Get(f.t.Context())
	if err != nil && !firestoreerr.IsNotFound(err) {
		f.t.Fatalf("Get(%s) = %v", path, err)
	}
	return err == nil
}

func (f *fixture) actions(uid string) []string {
	f.t.Helper()
	snaps, err := f.fs.Collection(model.AuditLogCollection).Where("target", "==", model.UserPath(uid)).Documents(f.t.Context()).GetAll()
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, s := range snaps {
		var e model.AuditEntry
		s.DataTo(&e)
		out = append(out, e.Action)
	}
	slices.Sort(out)
	return out
}

func TestSelfActionRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := f.service(nil)
	ctx := t.Context()
	me := f.user("Admin")
	in := accounts.Input{Actor: me, UID: me}
	for name, call := range map[string]func() error{
		"SetDisabled": func() error { _, err := svc.SetDisabled(ctx, in, true); return err },
		"SetClaims":   func() error { _, err := svc.SetClaims(ctx, in, map[string]any{}); return err },
		"Erase":       func() error { _, err := svc.Erase(ctx, in); return err },
	} {
		if err := call(); !errors.Is(err, accounts.ErrSelfAction) {
			t.Errorf("%s(own account) = %v, want ErrSelfAction", name, err)
		}
	}
	if u, err := f.auth.GetUser(ctx, me); err != nil || u.Disabled {
		t.Errorf("own account after refusals = %+v, %v; want untouched", u, err)
	}
	if got := f.actions(me); len(got) != 0 {
		t.Errorf("audit after refusals = %v, want none", got)
	}
	// Signing oneself out everywhere is allowed.
	if _, err := svc.RevokeTokens(ctx, in); err != nil {
		t.Errorf("RevokeTokens(own account) = %v", err)
	}
}

func TestDisableEnable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := f.service(nil)
	ctx := t.Context()
	adm, bob := f.user("Admin"), f.user("Bob")
	in := accounts.Input{Actor: adm, UID: bob, Reason: "abuse"}
	u, err := svc.SetDisabled(ctx, in, true)
	if err != nil || !u.Disabled {
		t.Fatalf("SetDisabled(true) = %+v, %v", u, err)
	}
	if !f.exists(revocation.Path(bob)) {
		t.Error("no revocation marker after disable")
	}
	if u, err = svc.SetDisabled(ctx, in, false); err != nil || u.Disabled {
		t.Errorf("SetDisabled(false) = %+v, %v", u, err)
	}
	if got := f.actions(bob); !slices.Equal(got, []string{accounts.ActionDisable, accounts.ActionEnable}) {
		t.Errorf("audit = %v", got)
	}
	if _, err := svc.SetDisabled(ctx, accounts.Input{Actor: adm, UID: "no-such-user"}, true); !auth.IsUserNotFound(errors.Unwrap(err)) {
		t.Errorf("SetDisabled(unknown) = %v, want Auth's user-not-found, wrapped", err)
	}
}

func TestSetClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := f.service(nil)
	ctx := t.Context()
	adm, bob := f.user("Admin"), f.user("Bob")
	in := accounts.Input{Actor: adm, UID: bob}
	for _, c := range []struct {
		name   string
		claims map[string]any
		fields []string
	}{
		{"nil", nil, []string{"claims"}},
		{"reserved", map[string]any{"sub": "x", "iss": "y", "tier": 1}, []string{"claims.iss", "claims.sub"}},
		{"too large", map[string]any{"x": strings.Repeat("y", accounts.MaxClaimsBytes)}, []string{"claims"}},
	} {
		_, err := svc.SetClaims(ctx, in, c.claims)
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("SetClaims(%s) = %v, want *model.ValidationError", c.name, err)
			continue
		}
		var got []string
		for _, fe := range ve.Fields {
			got = append(got, fe.Field)
		}
		if !slices.Equal(got, c.fields) {
			t.Errorf("SetClaims(%s) fields = %q, want %q", c.name, got, c.fields)
		}
	}
	if f.exists(revocation.Path(bob)) {
		t.Error("refused claims wrote a revocation marker")
	}
	u, err := svc.SetClaims(ctx, in, map[string]any{"tier": "gold"})
	if err != nil || u.CustomClaims["tier"] != "gold" || u.TokensValidAfterMillis == 0 {
		t.Fatalf("SetClaims() = %+v, %v", u, err)
	}
	if !f.exists(revocation.Path(bob)) {
		t.Error("no revocation marker after new claims")
	}
}

func TestErase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	adm, ann, bob := f.user("Admin"), f.user("Ann"), f.user("Bob")
	group, err := f.rooms.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "T", MemberIDs: []string{bob}})
	if err != nil {
		t.Fatal(err)
	}
	msg := f.fs.Collection(model.MessagesCollectionPath(group.ID)).NewDoc()
	for path, data := range map[string]map[string]any{
		msg.Path[strings.Index(msg.Path, "/documents/")+len("/documents/"):]: {"senderId": bob, "type": "text", "text": "hi", "createdAt": f.clock.Now()},
		model.PresencePath(bob):                                {"online": true},
		model.UserPath(bob) + "/devices/d1":                    {"token": "t"},
		model.PushQueueCollection + "/" + bob + "_" + group.ID: {"count": 1},
		model.PushQueueCollection + "/" + ann + "_" + group.ID: {"count": 1},
	} {
		if _, err := f.fs.Doc(path).Set(ctx, data); err != nil {
			t.Fatalf("Set(%s) = %v", path, err)
		}
	}

	// Media storage down: the erasure stops before the Auth account goes,
	// so it can be retried by uid.
	media := &failingMedia{}
	in := accounts.Input{Actor: adm, UID: bob, Reason: "GDPR"}
	if _, err := f.service(media).Erase(ctx, in); !errors.Is(err, errStorageDown) || media.calls != 1 {
		t.Fatalf("Erase(media down) = %v after %d calls, want errStorageDown", err, media.calls)
	}
	if _, err := f.auth.GetUser(ctx, bob); err != nil {
		t.Errorf("Auth user after a failed erase = %v, want kept for the retry", err)
	}

	res, err := f.service(nil).Erase(ctx, in)
	if err != nil {
		t.Fatalf("Erase(retry) = %v", err)
	}
	// The failed attempt left the room, anonymised the message and deleted
	// the digest; the retry finishes: the user doc and its device, the Auth
	// account.
	if !res.AuthUserDeleted || res.RoomsLeft != 0 || res.MessagesAnonymised != 0 || res.DocumentsDeleted != 2 {
		t.Errorf("Erase(retry) = %+v, want the user doc and device deleted, Auth user deleted", res)
	}
	snap, err := msg.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := snap.DataAt("senderId"); !strings.HasPrefix(s.(string), accounts.ErasedSenderPrefix) {
		t.Errorf("message senderId = %v, want a pseudonym", s)
	}
	for _, p := range []string{model.PresencePath(bob), model.UserPath(bob), model.UserPath(bob) + "/devices/d1",
		model.PushQueueCollection + "/" + bob + "_" + group.ID, model.MemberPath(group.ID, bob)} {
		if f.exists(p) {
			t.Errorf("%s kept after erase", p)
		}
	}
	if !f.exists(model.PushQueueCollection + "/" + ann + "_" + group.ID) {
		t.Error("Ann's digest deleted by Bob's erasure")
	}
	if _, err := f.auth.GetUser(ctx, bob); !auth.IsUserNotFound(err) {
		t.Errorf("Auth user after erase = %v, want not found", err)
	}
	again, err := f.service(nil).Erase(ctx, in)
	if err != nil || again.AuthUserDeleted {
		t.Errorf("Erase(again) = %+v, %v; want success, nothing left in Auth", again, err)
	}
	if got := f.actions(bob); !slices.Equal(got, []string{accounts.ActionErase, accounts.ActionErase}) {
		t.Errorf("audit = %v, want two erasures", got)
	}
}

// TestEraseCounts: one erasure that succeeds at once reports every room,
// message and document it touched.
func TestEraseCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	adm, ann, carl := f.user("Admin"), f.user("Ann"), f.user("Carl")
	group, err := f.rooms.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "T", MemberIDs: []string{carl}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.rooms.OpenDirect(ctx, rooms.OpenDirectInput{Caller: carl, Other: ann}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := f.fs.Collection(model.MessagesCollectionPath(group.ID)).NewDoc().Create(ctx,
			map[string]any{"senderId": carl, "type": "text", "text": fmt.Sprint(i), "createdAt": f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.fs.Doc(model.PushQueueCollection+"/"+carl+"_"+group.ID).Set(ctx, map[string]any{"count": 1}); err != nil {
		t.Fatal(err)
	}
	res, err := f.service(nil).Erase(ctx, accounts.Input{Actor: adm, UID: carl})
	// Rooms: the group and the direct room. Messages: the two texts and the
	// direct room's system message (Carl opened it). Documents: the digest
	// and the user doc.
	if err != nil || !res.AuthUserDeleted || res.RoomsLeft != 2 || res.MessagesAnonymised != 3 || res.DocumentsDeleted != 2 {
		t.Errorf("Erase() = %+v, %v", res, err)
	}
}

func TestSetAdminClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	u := f.env.NewUser("Op")
	if err := f.auth.SetCustomUserClaims(ctx, u.UID, map[string]any{"tier": "gold"}); err != nil {
		t.Fatal(err)
	}
	rec, err := accounts.SetAdminClaim(ctx, f.auth, f.marks, auditlog.Writer{FS: f.fs}, accounts.AdminClaimInput{Actor: "cli", Email: u.Email, Grant: true, At: f.clock.Now()})
	if err != nil || rec.CustomClaims["admin"] != true || rec.CustomClaims["tier"] != "gold" {
		t.Fatalf("SetAdminClaim(grant) = %+v, %v", rec, err)
	}
	rec, err = accounts.SetAdminClaim(ctx, f.auth, nil, nil, accounts.AdminClaimInput{Email: u.Email})
	if _, has := rec.CustomClaims["admin"]; err != nil || has || rec.CustomClaims["tier"] != "gold" {
		t.Errorf("SetAdminClaim(revoke) = %+v, %v; want tier only", rec, err)
	}
	if got := f.actions(u.UID); !slices.Equal(got, []string{accounts.ActionGrantAdmin}) {
		t.Errorf("audit = %v, want the grant only (no auditor for the revoke)", got)
	}
	if _, err := accounts.SetAdminClaim(ctx, f.auth, nil, nil, accounts.AdminClaimInput{Email: "nobody-" + f.env.ProjectID + "@example.com"}); err == nil {
		t.Error("SetAdminClaim(unknown email) = nil error")
	}
}

func TestNewRequiresDeps(t *testing.T) {
	if _, err := accounts.New(accounts.Deps{}); err == nil {
		t.Error("accounts.New(no deps) = nil error")
	}
}

// TestBadUIDRefused: a uid that would make a bad document path or digest
// prefix is a validation error, and nothing is erased.
func TestBadUIDRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := f.service(nil)
	ctx := t.Context()
	adm := f.user("Admin")
	for _, bad := range []string{"", "a/b", ".."} {
		in := accounts.Input{Actor: adm, UID: bad}
		for name, call := range map[string]func() error{
			"SetDisabled":  func() error { _, err := svc.SetDisabled(ctx, in, true); return err },
			"SetClaims":    func() error { _, err := svc.SetClaims(ctx, in, map[string]any{}); return err },
			"RevokeTokens": func() error { _, err := svc.RevokeTokens(ctx, in); return err },
			"Erase":        func() error { _, err := svc.Erase(ctx, in); return err },
		} {
			var ve *model.ValidationError
			if err := call(); !errors.As(err, &ve) {
				t.Errorf("%s(%q) = %v, want a *model.ValidationError", name, bad, err)
			}
		}
	}
	if !f.exists(model.UserPath(adm)) {
		t.Error("a refused erasure deleted data")
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := f.service(nil)
	ctx := t.Context()
	ann := f.user("Ann")
	for _, d := range []string{"d1", "d2"} {
		if _, err := f.fs.Doc(model.UserPath(ann)+"/devices/"+d).Set(ctx, map[string]any{"token": d}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := svc.Get(ctx, ann)
	if err != nil || a.User.UID != ann || a.Profile == nil || a.Profile.DisplayName != "Ann" || a.Devices != 2 {
		t.Errorf("Get() = %+v, %v; want Ann with a profile and 2 devices", a, err)
	}
	bare := f.env.NewUser("NoProfile")
	if a, err := svc.Get(ctx, bare.UID); err != nil || a.Profile != nil || a.Devices != 0 {
		t.Errorf("Get(no profile) = %+v, %v; want a nil profile, no devices", a, err)
	}
	if _, err := svc.Get(ctx, "no-such-user"); !auth.IsUserNotFound(errors.Unwrap(err)) {
		t.Errorf("Get(unknown) = %v, want Auth's user-not-found, wrapped", err)
	}
}
