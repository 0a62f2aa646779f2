package firestoreevent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
)

// This file holds a small starter for Google's Firestore emulator. It is meant to be
// replaced by the shared harness in package emulator once that lands.

// emulatorJars are where the Debian package google-cloud-cli-firestore-emulator (and
// gcloud) put the jar; the Firebase CLI keeps its copy in ~/.cache/firebase/emulators.
var emulatorJars = []string{
	"/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
	"/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
}

func findEmulatorJar(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HEARTH_FIRESTORE_EMULATOR_JAR"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("HEARTH_FIRESTORE_EMULATOR_JAR: %v", err)
		}
		return p
	}
	for _, p := range emulatorJars {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		matches, _ := filepath.Glob(filepath.Join(home, ".cache", "firebase", "emulators", "cloud-firestore-emulator-v*.jar"))
		if len(matches) > 0 {
			slices.Sort(matches)
			return matches[len(matches)-1]
		}
	}
	t.Fatal("no Cloud Firestore emulator jar: install it with " +
		"`apt-get install google-cloud-cli-firestore-emulator` (or `gcloud components install cloud-firestore-emulator`), " +
		"or set HEARTH_FIRESTORE_EMULATOR_JAR")
	return ""
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startEmulator runs the Firestore emulator jar in its own process group, posting
// trigger events to receiverAddr, and returns its host:port. Cleanup kills the group.
func startEmulator(t *testing.T, receiverAddr string) string {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatal("java not found on PATH: the Firestore emulator needs Java 17 or newer " +
			"(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)")
	}
	jar := findEmulatorJar(t)
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(java, "-Duser.language=en", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", jar, "com.google.cloud.datastore.emulator.firestore.CloudFirestore", "start",
		"--host=127.0.0.1", "--port="+strings.TrimPrefix(host, "127.0.0.1:"),
		fmt.Sprintf("--websocket_port=%d", freePort(t)),
		"--project_id=demo-hearth",
		"--functions_emulator="+receiverAddr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = in, in
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Firestore emulator: %v", err)
	}
	in.Close() // the child holds its own copy; out reaches EOF when it exits

	var logMu sync.Mutex
	var log strings.Builder
	ready := make(chan struct{})
	go func() {
		defer out.Close()
		sc := bufio.NewScanner(out)
		announced := false
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if !announced && strings.Contains(sc.Text(), "Dev App Server is now running") {
				announced = true
				close(ready)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	emuLog := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return log.String()
	}

	t.Cleanup(func() {
		pgid := cmd.Process.Pid // Setpgid: the group id is the leader's pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("Firestore emulator log:\n%s", emuLog())
		}
	})

	select {
	case <-ready:
		return host
	case err := <-exited:
		exited <- err // for Cleanup
		t.Fatalf("Firestore emulator exited before it was ready (%v):\n%s", err, emuLog())
	case <-time.After(60 * time.Second):
		t.Fatalf("Firestore emulator not ready after 60s:\n%s", emuLog())
	}
	return ""
}

// chatMessage is a message document as a trigger would read it.
type chatMessage struct {
	Text   string    `firestore:"text"`
	UID    string    `firestore:"uid"`
	Seq    int64     `firestore:"seq"`
	SentAt time.Time `firestore:"sentAt"`
	Tags   []string  `firestore:"tags,omitempty"`
}

// TestEmulatorEvents writes, updates and deletes a message through the Go client and
// decodes the three events the real emulator posts to a written trigger, plus the
// empty event it sends for a delete of a missing document.
func TestEmulatorEvents(t *testing.T) {
	const (
		triggerID = "us-central1-onMessageWritten-0"
		pattern   = "rooms/{roomId}/messages/{messageId}"
	)
	project := fmt.Sprintf("fe-%d", time.Now().UnixNano())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type delivery struct {
		ev  *Event
		err error
	}
	deliveries := make(chan delivery, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != DeliveryPath(project, triggerID) {
			deliveries <- delivery{err: fmt.Errorf("event posted to %s", r.URL.Path)}
			http.NotFound(w, r)
			return
		}
		ev, err := FromHTTP(r)
		deliveries <- delivery{ev, err}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	host := startEmulator(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	err = RegisterTrigger(ctx, nil, host, project, Trigger{ID: triggerID, EventType: TypeWritten, Document: pattern})
	if err != nil {
		t.Fatalf("RegisterTrigger: %v", err)
	}
	t.Setenv("FIRESTORE_EMULATOR_HOST", host)
	client, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	next := func(step string) *Event {
		t.Helper()
		select {
		case d := <-deliveries:
			if d.err != nil {
				t.Fatalf("%s: %v", step, d.err)
			}
			return d.ev
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no event within 20s", step)
		}
		return nil
	}
	check := func(step string, ev *Event, change Kind, doc string) {
		t.Helper()
		if ev.Type != TypeWritten || ev.Kind != KindWritten || ev.Change() != change {
			t.Errorf("%s: type %s, kind %v, change %v, want written, written, %v", step, ev.Type, ev.Kind, ev.Change(), change)
		}
		if ev.Project != project || ev.Database != "(default)" || ev.Document != doc || ev.ID == "" || ev.Time.IsZero() {
			t.Errorf("%s: project %q, database %q, document %q, id %q, time %v", step, ev.Project, ev.Database, ev.Document, ev.ID, ev.Time)
		}
	}

	ref := client.Doc("rooms/r1/messages/m1")
	sent := time.Date(2026, 11, 27, 4, 56, 7, 608363000, time.UTC)
	want := chatMessage{Text: "hello", UID: "alice", Seq: 1, SentAt: sent}
	if _, err := ref.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	created := next("create")
	check("create", created, KindCreated, "rooms/r1/messages/m1")
	if created.Existed() || !created.Exists() || created.OldValue != nil {
		t.Errorf("create: old value %v, want none", created.OldValue)
	}
	var got chatMessage
	if err := DataTo(created.Value, &got); err != nil || !got.SentAt.Equal(sent) {
		t.Errorf("create: DataTo = %+v, %v, want %+v", got, err, want)
	}
	got.SentAt = sent
	if !reflect.DeepEqual(got, want) {
		t.Errorf("create: DataTo = %+v, want %+v", got, want)
	}
	if params, ok := Match(pattern, created.Document); !ok || params["roomId"] != "r1" || params["messageId"] != "m1" {
		t.Errorf("create: Match(%q, %q) = %v, %v", pattern, created.Document, params, ok)
	}

	if _, err := ref.Update(ctx, []firestore.Update{{Path: "text", Value: "edited"}}); err != nil {
		t.Fatal(err)
	}
	updated := next("update")
	check("update", updated, KindUpdated, "rooms/r1/messages/m1")
	if updated.Before()["text"] != "hello" || updated.After()["text"] != "edited" || updated.After()["seq"] != int64(1) {
		t.Errorf("update: before %v, after %v", updated.Before(), updated.After())
	}
	if changed := updated.ChangedFields(); !slices.Equal(changed, []string{"text"}) {
		t.Errorf("update: ChangedFields() = %v, want [text]", changed)
	}
	if !updated.Value.GetUpdateTime().AsTime().After(updated.OldValue.GetUpdateTime().AsTime()) {
		t.Errorf("update: update times %v then %v", updated.OldValue.GetUpdateTime(), updated.Value.GetUpdateTime())
	}
	if updated.ID == created.ID {
		t.Errorf("update: id %q repeats the create's", updated.ID)
	}

	if _, err := ref.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	deleted := next("delete")
	check("delete", deleted, KindDeleted, "rooms/r1/messages/m1")
	if deleted.Exists() || deleted.Before()["text"] != "edited" {
		t.Errorf("delete: value %v, before %v, want none, text edited", deleted.Value, deleted.Before())
	}
	if err := DataTo(deleted.Value, &got); !errors.Is(err, ErrNoDocument) {
		t.Errorf("delete: DataTo(value) error = %v, want ErrNoDocument", err)
	}

	// The emulator bug: deleting a missing document fires an event with no data.
	if _, err := client.Doc("rooms/r1/messages/ghost").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	ghost := next("delete missing")
	check("delete missing", ghost, KindUnknown, "rooms/r1/messages/ghost")
	if !ghost.Empty() {
		t.Errorf("delete missing: Empty() = false, value %v, old value %v", ghost.Value, ghost.OldValue)
	}
}
