package rooms_test

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/auditlog"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/rooms"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// fixture is a Service on the test's emulator project.
type fixture struct {
	t     *testing.T
	env   *emutest.Env
	fs    *firestore.Client
	svc   *rooms.Service
	clock *clock.Fake
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := emutest.New(t)
	f := &fixture{t: t, env: env, fs: env.Firestore(), clock: clock.NewFake(time.Now().Truncate(time.Millisecond))}
	svc, err := rooms.New(rooms.Deps{Firestore: f.fs, Users: env.Auth(), Audit: auditlog.Writer{FS: f.fs}, Clock: f.clock})
	if err != nil {
		t.Fatalf("rooms.New() = %v", err)
	}
	f.svc = svc
	return f
}

// user creates an Auth user with a profile named name and returns the uid.
func (f *fixture) user(name string) string {
	f.t.Helper()
	u := f.env.NewUser(name)
	if _, err := f.fs.Doc(model.UserPath(u.UID)).Set(f.t.Context(), map[string]any{"displayName": name}); err != nil {
		f.t.Fatalf("profile: %v", err)
	}
	return u.UID
}

// group creates a group of owner with members and returns its id.
func (f *fixture) group(owner string, members ...string) string {
	f.t.Helper()
	r, err := f.svc.CreateGroup(f.t.Context(), rooms.CreateGroupInput{Creator: owner, Title: "Team", MemberIDs: members})
	if err != nil {
		f.t.Fatalf("CreateGroup() = %v", err)
	}
	return r.ID
}

func (f *fixture) exists(path string) bool {
	f.t.Helper()
	_, err := f.fs.Doc(path).Get(f.t.Context())
	if err != nil && !firestoreerr.IsNotFound(err) {
		f.t.Fatalf("Get(%s) = %v", path, err)
	}
	return err == nil
}

func (f *fixture) member(roomID, uid string) model.Member {
	f.t.Helper()
	snap, err := f.fs.Doc(model.MemberPath(roomID, uid)).Get(f.t.Context())
	if err != nil {
		f.t.Fatalf("member %s: %v", uid, err)
	}
	var m model.Member
	if err := snap.DataTo(&m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) setRole(roomID, uid string, role model.Role) {
	f.t.Helper()
	if _, err := f.fs.Doc(model.MemberPath(roomID, uid)).Set(f.t.Context(), map[string]any{"role": role}, firestore.MergeAll); err != nil {
		f.t.Fatal(err)
	}
}

// fieldNames lists the fields of a validation error, or fails.
func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	var ve *model.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want a *model.ValidationError", err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCreateGroupAndGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ann, bob, eve := f.user("Ann"), f.user("Bob"), f.user("Eve")
	r, err := f.svc.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "Team", MemberIDs: []string{bob, ann}})
	if err != nil {
		t.Fatalf("CreateGroup() = %v", err)
	}
	if !slices.Equal(r.MemberIDs, []string{ann, bob}) || r.MemberCount != 2 || r.Type != model.RoomGroup || !r.CreatedAt.Equal(f.clock.Now()) {
		t.Errorf("CreateGroup() = %+v, want Ann and Bob, created now", r)
	}
	if m := f.member(r.ID, ann); m.Role != model.RoleOwner || m.DisplayName != "Ann" {
		t.Errorf("creator member = %+v, want owner Ann", m)
	}
	msgs, err := f.fs.Collection(model.MessagesCollectionPath(r.ID)).Documents(ctx).GetAll()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages = %d, %v; want the system message", len(msgs), err)
	}
	if got := msgs[0].Data()["text"]; got != `Ann created the group "Team" with Bob` {
		t.Errorf("system message = %q", got)
	}
	v, err := f.svc.Get(ctx, r.ID, bob)
	if err != nil || v.Role() != model.RoleMember || v.ID != r.ID {
		t.Errorf("Get(member) = %+v, %v; want role member", v, err)
	}
	if _, err := f.svc.Get(ctx, r.ID, eve); !errors.Is(err, rooms.ErrNotMember) {
		t.Errorf("Get(outsider) = %v, want ErrNotMember", err)
	}
	if _, err := f.svc.Get(ctx, "no-such-room", ann); !errors.Is(err, rooms.ErrNotFound) {
		t.Errorf("Get(missing room) = %v, want ErrNotFound", err)
	}
}

func TestCreateGroupRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ann, bob := f.user("Ann"), f.user("Bob")

	_, err := f.svc.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "Te\u200Bam", MemberIDs: []string{bob, "a/b", bob}})
	if got := fieldNames(t, err); !slices.Equal(got, []string{"memberIds[1]", "memberIds[2]", "title"}) {
		t.Errorf("CreateGroup(bad id, duplicate, invisible title) fields = %q", got)
	}
	_, err = f.svc.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "T", MemberIDs: []string{bob, "nobody-" + f.env.ProjectID}})
	var unknown *rooms.UnknownUsersError
	if !errors.As(err, &unknown) || len(unknown.Fields) != 1 || unknown.Fields[0].Field != "memberIds[1]" {
		t.Errorf("CreateGroup(unknown user) = %v, want *UnknownUsersError naming memberIds[1]", err)
	}
	_, err = f.svc.CreateGroup(ctx, rooms.CreateGroupInput{Creator: "gone-" + f.env.ProjectID, Title: "T", MemberIDs: []string{bob}})
	if !errors.Is(err, rooms.ErrCallerUnknown) {
		t.Errorf("CreateGroup(creator not a user) = %v, want ErrCallerUnknown", err)
	}
	many := make([]string, model.MaxMembers+1)
	for i := range many {
		many[i] = "u" + string(rune('a'+i%26))
	}
	_, err = f.svc.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "T", MemberIDs: many})
	if got := fieldNames(t, err); !slices.Equal(got, []string{"memberIds"}) {
		t.Errorf("CreateGroup(too many) fields = %q, want memberIds", got)
	}
	if rs, _ := f.fs.Collection(model.RoomsCollection).Documents(ctx).GetAll(); len(rs) != 0 {
		t.Errorf("%d rooms written by refused creations, want 0", len(rs))
	}
}

func TestOpenDirect(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ann, bob := f.user("Ann"), f.user("Bob")
	first, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: ann, Other: bob})
	if err != nil || !first.Created || first.ID != model.DirectRoomID(ann, bob) {
		t.Fatalf("OpenDirect() = %+v, %v; want created %s", first, err, model.DirectRoomID(ann, bob))
	}
	again, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: bob, Other: ann})
	if err != nil || again.Created || again.ID != first.ID {
		t.Errorf("OpenDirect(again, other side) = %+v, %v; want the same room, not created", again, err)
	}
	if _, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: ann, Other: ann}); !slices.Equal(fieldNames(t, err), []string{"userId"}) {
		t.Errorf("OpenDirect(self) = %v, want a userId validation error", err)
	}
	var nf *rooms.UserNotFoundError
	if _, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: ann, Other: "ghost"}); !errors.As(err, &nf) || nf.UID != "ghost" {
		t.Errorf("OpenDirect(unknown) = %v, want *UserNotFoundError", err)
	}
	if err := f.svc.RemoveMember(ctx, rooms.RemoveMemberInput{Caller: ann, RoomID: first.ID, UID: ann}); !errors.Is(err, rooms.ErrDirectRoomFixed) {
		t.Errorf("RemoveMember(direct) = %v, want ErrDirectRoomFixed", err)
	}
	// An app admin bans Bob from the direct room: he cannot reopen it.
	mod := rooms.Moderator{UID: f.user("Admin"), AppAdmin: true}
	if _, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: mod, RoomID: first.ID, Target: bob}); err != nil {
		t.Fatalf("Ban() = %v", err)
	}
	if _, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: bob, Other: ann}); !errors.Is(err, rooms.ErrBannedFromDirect) {
		t.Errorf("OpenDirect(banned) = %v, want ErrBannedFromDirect", err)
	}
}

func TestMemberRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	owner, adm, mem, out, carl := f.user("Owner"), f.user("Adm"), f.user("Mem"), f.user("Out"), f.user("Carl")
	id := f.group(owner, adm, mem)
	f.setRole(id, adm, model.RoleAdmin)
	var role *rooms.RoleError

	if _, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: mem, RoomID: id, UserIDs: []string{out}}); !errors.As(err, &role) || role.Role != model.RoleMember {
		t.Errorf("AddMembers(by a member) = %v, want *RoleError of a member", err)
	}
	if _, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: out, RoomID: id, UserIDs: []string{carl}}); !errors.Is(err, rooms.ErrNotMember) {
		t.Errorf("AddMembers(by an outsider) = %v, want ErrNotMember", err)
	}
	if _, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: adm, RoomID: id}); !slices.Equal(fieldNames(t, err), []string{"userIds"}) {
		t.Errorf("AddMembers(no users) = %v, want userIds required", err)
	}
	res, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: adm, RoomID: id, UserIDs: []string{out, mem}})
	if err != nil || len(res.Added) != 1 || res.Added[0].UID != out || res.MemberCount != 4 {
		t.Fatalf("AddMembers(by an admin) = %+v, %v; want Out added, 4 members", res, err)
	}

	if _, err := f.svc.SetRole(ctx, rooms.SetRoleInput{Caller: adm, RoomID: id, UID: mem, Role: model.RoleAdmin}); !errors.As(err, &role) {
		t.Errorf("SetRole(by an admin) = %v, want *RoleError", err)
	}
	if _, err := f.svc.SetRole(ctx, rooms.SetRoleInput{Caller: owner, RoomID: id, UID: mem, Role: "king"}); !slices.Equal(fieldNames(t, err), []string{"role"}) {
		t.Errorf("SetRole(bad role) = %v, want a role validation error", err)
	}
	if _, err := f.svc.SetRole(ctx, rooms.SetRoleInput{Caller: owner, RoomID: id, UID: owner, Role: model.RoleMember}); !errors.Is(err, rooms.ErrLastOwner) {
		t.Errorf("SetRole(last owner steps down) = %v, want ErrLastOwner", err)
	}
	if _, err := f.svc.SetRole(ctx, rooms.SetRoleInput{Caller: owner, RoomID: id, UID: carl, Role: model.RoleAdmin}); !errors.Is(err, rooms.ErrMemberNotFound) {
		t.Errorf("SetRole(not a member) = %v, want ErrMemberNotFound", err)
	}
	m, err := f.svc.SetRole(ctx, rooms.SetRoleInput{Caller: owner, RoomID: id, UID: mem, Role: model.RoleAdmin})
	if err != nil || m.Role != model.RoleAdmin || f.member(id, mem).Role != model.RoleAdmin {
		t.Errorf("SetRole(member→admin by owner) = %+v, %v", m, err)
	}

	if err := f.svc.RemoveMember(ctx, rooms.RemoveMemberInput{Caller: adm, RoomID: id, UID: mem}); !errors.As(err, &role) {
		t.Errorf("RemoveMember(admin removes admin) = %v, want *RoleError", err)
	}
	if err := f.svc.RemoveMember(ctx, rooms.RemoveMemberInput{Caller: owner, RoomID: id, UID: owner}); !errors.Is(err, rooms.ErrLastOwner) {
		t.Errorf("RemoveMember(last owner leaves a full room) = %v, want ErrLastOwner", err)
	}
	if err := f.svc.RemoveMember(ctx, rooms.RemoveMemberInput{Caller: adm, RoomID: id, UID: out}); err != nil {
		t.Errorf("RemoveMember(admin removes member) = %v", err)
	}
	if err := f.svc.RemoveMember(ctx, rooms.RemoveMemberInput{Caller: mem, RoomID: id, UID: mem}); err != nil {
		t.Errorf("RemoveMember(leave) = %v", err)
	}
	v, err := f.svc.Get(ctx, id, owner)
	if err != nil || !slices.Equal(v.MemberIDs, []string{owner, adm}) || v.MemberCount != 2 || f.exists(model.MemberPath(id, out)) {
		t.Errorf("room after removals = %+v, %v; want owner and admin", v, err)
	}
}

func TestRoomFull(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	owner, bob := f.user("Owner"), f.user("Bob")
	id := f.group(owner)
	// A room at the limit (written directly: the limit is the rule under test).
	ids := []string{owner}
	for len(ids) < model.MaxMembers {
		ids = append(ids, "filler"+string(rune('A'+len(ids)%26))+time.Duration(len(ids)).String())
	}
	if _, err := f.fs.Doc(model.RoomPath(id)).Update(ctx, []firestore.Update{{Path: model.FieldMemberIDs, Value: ids}, {Path: "memberCount", Value: len(ids)}}); err != nil {
		t.Fatal(err)
	}
	var full *rooms.RoomFullError
	if _, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: owner, RoomID: id, UserIDs: []string{bob}}); !errors.As(err, &full) || full.Max != model.MaxMembers {
		t.Errorf("AddMembers(full room) = %v, want *RoomFullError", err)
	}
}

func TestModeration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	owner, adm, mem, other := f.user("Owner"), f.user("Adm"), f.user("Mem"), f.user("Other")
	appAdmin := rooms.Moderator{UID: f.user("AppAdmin"), AppAdmin: true}
	id := f.group(owner, adm, mem, other)
	f.setRole(id, adm, model.RoleAdmin)
	asAdm := rooms.Moderator{UID: adm}
	var role *rooms.RoleError
	var rank *rooms.RankError

	if _, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: asAdm, RoomID: id, Target: adm}); !errors.Is(err, rooms.ErrSelfBan) {
		t.Errorf("Ban(self) = %v, want ErrSelfBan", err)
	}
	if _, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: asAdm, RoomID: id, Target: owner}); !errors.As(err, &role) {
		t.Errorf("Ban(admin bans owner) = %v, want *RoleError", err)
	}
	if _, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: rooms.Moderator{UID: mem}, RoomID: id, Target: other}); !errors.As(err, &role) {
		t.Errorf("Ban(by a member) = %v, want *RoleError", err)
	}
	if _, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: appAdmin, RoomID: "no-such-room", Target: mem}); !errors.Is(err, rooms.ErrNotFound) {
		t.Errorf("Ban(missing room) = %v, want ErrNotFound", err)
	}
	b, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: asAdm, RoomID: id, Target: mem, Reason: "spam"})
	if err != nil || !b.Banned || b.BannedBy != adm || b.BannedByRank != model.RankModerator {
		t.Fatalf("Ban(admin bans member) = %+v, %v", b, err)
	}
	if v, _ := f.svc.Get(ctx, id, owner); slices.Contains(v.MemberIDs, mem) || f.exists(model.MembershipPath(mem, id)) {
		t.Errorf("banned member still in memberIds %v or has a membership", v.MemberIDs)
	}
	var banned *rooms.BannedUsersError
	if _, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: owner, RoomID: id, UserIDs: []string{mem}}); !errors.As(err, &banned) ||
		!slices.Equal(banned.UIDs, []string{mem}) || banned.Fields[0].Field != "userIds[0]" {
		t.Errorf("AddMembers(banned) = %v, want *BannedUsersError naming userIds[0]", err)
	}
	// The app admin takes the ban over: the room's owner can no longer lift it.
	if _, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: appAdmin, RoomID: id, Target: mem}); err != nil {
		t.Fatalf("Ban(app admin, again) = %v", err)
	}
	if err := f.svc.Unban(ctx, rooms.ModerationInput{Moderator: rooms.Moderator{UID: owner}, RoomID: id, Target: mem}); !errors.As(err, &rank) ||
		rank.Op != rooms.OpUnban || rank.Required != model.RankAppAdmin || rank.Actor != model.RankOwner {
		t.Errorf("Unban(owner, app admin's ban) = %v, want *RankError unban owner<app admin", err)
	}
	if err := f.svc.Unban(ctx, rooms.ModerationInput{Moderator: appAdmin, RoomID: id, Target: mem}); err != nil {
		t.Errorf("Unban(app admin) = %v", err)
	}
	if err := f.svc.Unban(ctx, rooms.ModerationInput{Moderator: appAdmin, RoomID: id, Target: mem}); !errors.Is(err, rooms.ErrNotBanned) {
		t.Errorf("Unban(not banned) = %v, want ErrNotBanned", err)
	}

	// Redaction: an admin cannot redact the owner's message; the owner can.
	msg := f.fs.Collection(model.MessagesCollectionPath(id)).NewDoc()
	if _, err := msg.Create(ctx, map[string]any{"senderId": owner, "type": "text", "text": "hello", "createdAt": f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Redact(ctx, rooms.ModerationInput{Moderator: asAdm, RoomID: id, Target: msg.ID}); !errors.As(err, &rank) ||
		rank.Op != rooms.OpRedact || rank.Required != model.RankOwner {
		t.Errorf("Redact(admin, owner's message) = %v, want *RankError redact", err)
	}
	if _, err := f.svc.Redact(ctx, rooms.ModerationInput{Moderator: asAdm, RoomID: id, Target: "nope"}); !errors.Is(err, rooms.ErrMessageNotFound) {
		t.Errorf("Redact(missing) = %v, want ErrMessageNotFound", err)
	}
	f.clock.Advance(time.Minute)
	m, err := f.svc.Redact(ctx, rooms.ModerationInput{Moderator: appAdmin, RoomID: id, Target: msg.ID, Reason: "rude"})
	if err != nil || !m.Deleted() || m.Text != "" || m.DeletedBy != appAdmin.UID || !m.DeletedAt.Equal(f.clock.Now().UTC()) {
		t.Errorf("Redact(app admin) = %+v, %v; want a tombstone by the app admin, now", m, err)
	}

	// Every change above is audited, with the door it came through.
	entries, err := f.fs.Collection(model.AuditLogCollection).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range entries {
		var e model.AuditEntry
		s.DataTo(&e)
		got[e.Action+" via "+e.Details["via"]]++
	}
	want := map[string]int{"member.ban via room": 1, "member.ban via admin": 1, "member.unban via admin": 1, "message.redact via admin": 1}
	if len(got) != len(want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("audit[%s] = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func TestArchiveAndDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	owner, bob, adm := f.user("Owner"), f.user("Bob"), f.user("Admin")
	id := f.group(owner)
	r, err := f.svc.SetArchived(ctx, rooms.AdminInput{Actor: adm, RoomID: id, Reason: "spam"}, true)
	if err != nil || !r.Archived {
		t.Fatalf("SetArchived(true) = %+v, %v", r, err)
	}
	if _, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: owner, RoomID: id, UserIDs: []string{bob}}); !errors.Is(err, rooms.ErrArchived) {
		t.Errorf("AddMembers(archived) = %v, want ErrArchived", err)
	}
	if _, err := f.svc.SetArchived(ctx, rooms.AdminInput{Actor: adm, RoomID: "gone"}, true); !errors.Is(err, rooms.ErrNotFound) {
		t.Errorf("SetArchived(missing) = %v, want ErrNotFound", err)
	}
	if r, err := f.svc.SetArchived(ctx, rooms.AdminInput{Actor: adm, RoomID: id}, false); err != nil || r.Archived {
		t.Errorf("SetArchived(false) = %+v, %v", r, err)
	}
	n, err := f.svc.Delete(ctx, rooms.AdminInput{Actor: adm, RoomID: id, Reason: "cleanup"})
	// The room, the owner's member doc, the system message.
	if err != nil || n != 3 {
		t.Errorf("Delete() = %d, %v; want 3 documents", n, err)
	}
	if _, err := f.svc.Get(ctx, id, owner); !errors.Is(err, rooms.ErrNotFound) {
		t.Errorf("Get(deleted) = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Delete(ctx, rooms.AdminInput{Actor: adm, RoomID: id}); !errors.Is(err, rooms.ErrNotFound) {
		t.Errorf("Delete(again) = %v, want ErrNotFound", err)
	}
	entries, _ := f.fs.Collection(model.AuditLogCollection).Where("actorUid", "==", adm).Documents(ctx).GetAll()
	if len(entries) != 3 {
		t.Errorf("%d audit entries of the admin, want 3 (archive, unarchive, delete)", len(entries))
	}
}

func TestEraseMember(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ann, bob, carl := f.user("Ann"), f.user("Bob"), f.user("Carl")
	group := f.group(ann, bob, carl)
	direct, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: bob, Other: ann})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.fs.Doc(model.RoomPath(group)).Update(ctx, []firestore.Update{{Path: "lastMessage", Value: map[string]any{"id": "m1", "senderId": bob, "senderName": "Bob"}}}); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.EraseMember(ctx, bob, "erased-1")
	if err != nil || n != 2 {
		t.Fatalf("EraseMember() = %d, %v; want 2 rooms", n, err)
	}
	g, _ := f.svc.Get(ctx, group, ann)
	if slices.Contains(g.MemberIDs, bob) || g.Archived || g.LastMessage == nil || g.LastMessage.SenderID != "erased-1" || g.LastMessage.SenderName != rooms.ErasedSenderName {
		t.Errorf("group after erase = %+v", g.Room.Room)
	}
	d, _ := f.svc.Get(ctx, direct.ID, ann)
	if !d.Archived || slices.Contains(d.MemberIDs, bob) {
		t.Errorf("direct room after erase = %+v, want archived without Bob", d.Room.Room)
	}
	if f.exists(model.MemberPath(group, bob)) {
		t.Error("Bob's member doc kept")
	}
}

func TestNewRequiresDeps(t *testing.T) {
	if _, err := rooms.New(rooms.Deps{}); err == nil {
		t.Error("rooms.New(no deps) = nil error")
	}
}

// TestBadIDsRefused: ids that would make bad document paths ("a/b", "",
// "..") are validation errors naming the field, never a panic or a write.
func TestBadIDsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ann := f.user("Ann")
	id := f.group(ann)
	mod := rooms.Moderator{UID: ann, AppAdmin: true}
	for _, bad := range []string{"", "a/b", "..", "x/y/z"} {
		for name, call := range map[string]func() error{
			"Get(room)": func() error { _, err := f.svc.Get(ctx, bad, ann); return err },
			"Get(uid)":  func() error { _, err := f.svc.Get(ctx, id, bad); return err },
			"AddMembers": func() error {
				_, err := f.svc.AddMembers(ctx, rooms.AddMembersInput{Caller: ann, RoomID: bad, UserIDs: []string{ann}})
				return err
			},
			"SetRole": func() error {
				_, err := f.svc.SetRole(ctx, rooms.SetRoleInput{Caller: ann, RoomID: id, UID: bad, Role: model.RoleAdmin})
				return err
			},
			"RemoveMember": func() error {
				return f.svc.RemoveMember(ctx, rooms.RemoveMemberInput{Caller: ann, RoomID: id, UID: bad})
			},
			"Ban": func() error {
				_, err := f.svc.Ban(ctx, rooms.ModerationInput{Moderator: mod, RoomID: id, Target: bad})
				return err
			},
			"Unban": func() error { return f.svc.Unban(ctx, rooms.ModerationInput{Moderator: mod, RoomID: bad, Target: ann}) },
			"Redact": func() error {
				_, err := f.svc.Redact(ctx, rooms.ModerationInput{Moderator: mod, RoomID: id, Target: bad})
				return err
			},
			"Roster": func() error { _, _, err := f.svc.Roster(ctx, bad); return err },
			"SetArchived": func() error {
				_, err := f.svc.SetArchived(ctx, rooms.AdminInput{Actor: ann, RoomID: bad}, true)
				return err
			},
			"Delete":      func() error { _, err := f.svc.Delete(ctx, rooms.AdminInput{Actor: ann, RoomID: bad}); return err },
			"EraseMember": func() error { _, err := f.svc.EraseMember(ctx, bad, "erased-x"); return err },
			"OpenDirect(other)": func() error {
				_, err := f.svc.OpenDirect(ctx, rooms.OpenDirectInput{Caller: ann, Other: bad})
				return err
			},
			"CreateGroup(member)": func() error {
				_, err := f.svc.CreateGroup(ctx, rooms.CreateGroupInput{Creator: ann, Title: "T", MemberIDs: []string{bad}})
				return err
			},
		} {
			var ve *model.ValidationError
			if err := call(); !errors.As(err, &ve) {
				t.Errorf("%s(%q) = %v, want a *model.ValidationError", name, bad, err)
			}
		}
	}
	if v, err := f.svc.Get(ctx, id, ann); err != nil || v.Archived || len(v.MemberIDs) != 1 {
		t.Errorf("room after bad calls = %+v, %v; want untouched", v, err)
	}
}

func TestListAndHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ann, bob := f.user("Ann"), f.user("Bob")
	var ids []string
	for range 3 {
		ids = append(ids, f.group(ann))
		f.clock.Advance(time.Second)
	}
	yes := true
	if _, err := f.svc.SetArchived(ctx, rooms.AdminInput{Actor: ann, RoomID: ids[0]}, true); err != nil {
		t.Fatal(err)
	}
	p1, err := f.svc.List(ctx, rooms.ListInput{Limit: 2})
	if err != nil || len(p1.Rooms) != 2 || p1.Rooms[0].ID != ids[2] || p1.Rooms[1].ID != ids[1] || p1.Next != ids[1] {
		t.Fatalf("List(first page) = %+v, %v; want the two newest and a cursor", p1, err)
	}
	p2, err := f.svc.List(ctx, rooms.ListInput{Limit: 2, After: p1.Next})
	if err != nil || len(p2.Rooms) != 1 || p2.Rooms[0].ID != ids[0] || p2.Next != "" {
		t.Errorf("List(second page) = %+v, %v; want the oldest, no cursor", p2, err)
	}
	if a, err := f.svc.List(ctx, rooms.ListInput{Limit: 10, Archived: &yes}); err != nil || len(a.Rooms) != 1 || a.Rooms[0].ID != ids[0] {
		t.Errorf("List(archived) = %+v, %v", a, err)
	}
	if _, err := f.svc.List(ctx, rooms.ListInput{Limit: 2, After: "gone"}); !errors.Is(err, rooms.ErrCursorGone) {
		t.Errorf("List(cursor gone) = %v, want ErrCursorGone", err)
	}
	if _, err := f.svc.List(ctx, rooms.ListInput{Limit: 0, Type: "party"}); !slices.Equal(fieldNames(t, err), []string{"type", "limit"}) {
		t.Errorf("List(bad type, no limit) = %v", err)
	}

	// History: the creation message and two more, newest first.
	for i, text := range []string{"one", "two"} {
		if _, err := f.fs.Collection(model.MessagesCollectionPath(ids[1])).NewDoc().Create(ctx, map[string]any{
			"senderId": ann, "type": "text", "text": text, "createdAt": f.clock.Now().Add(time.Duration(i+1) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	h1, err := f.svc.History(ctx, rooms.HistoryInput{Caller: ann, RoomID: ids[1], Limit: 2})
	if err != nil || len(h1.Messages) != 2 || h1.Messages[0].Text != "two" || h1.Messages[1].Text != "one" || h1.Next == "" {
		t.Fatalf("History(first page) = %+v, %v", h1, err)
	}
	h2, err := f.svc.History(ctx, rooms.HistoryInput{Caller: ann, RoomID: ids[1], Limit: 2, Before: h1.Next})
	if err != nil || len(h2.Messages) != 1 || h2.Messages[0].Type != model.MessageSystem || h2.Next != "" {
		t.Errorf("History(second page) = %+v, %v; want the system message, no cursor", h2, err)
	}
	if _, err := f.svc.History(ctx, rooms.HistoryInput{Caller: bob, RoomID: ids[1], Limit: 2}); !errors.Is(err, rooms.ErrNotMember) {
		t.Errorf("History(outsider) = %v, want ErrNotMember", err)
	}
	if _, err := f.svc.History(ctx, rooms.HistoryInput{Caller: ann, RoomID: ids[1], Limit: 2, Before: "nope"}); !errors.Is(err, rooms.ErrCursorGone) {
		t.Errorf("History(cursor gone) = %v, want ErrCursorGone", err)
	}
}
