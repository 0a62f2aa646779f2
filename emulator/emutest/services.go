package emutest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"time"

	"cloud.google.com/go/storage"
	"firebase.google.com/go/v4/messaging"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
	"github.com/hearth-chat/hearth/emulator/storagefake"
)

// Messaging returns an Admin SDK messaging client that sends to the suite's fake FCM under
// the test's project, so Sent only sees this test's pushes.
func (e *Env) Messaging() *messaging.Client {
	e.t.Helper()
	c, err := fcmfake.NewMessagingClient(context.Background(), e.FCMHost, e.ProjectID)
	if err != nil {
		e.t.Fatalf("emutest: %v", err)
	}
	return c
}

// Sent returns what the fake FCM accepted for the test's project, in order.
func (e *Env) Sent() []fcmfake.Sent {
	e.t.Helper()
	var out []fcmfake.Sent
	e.fcmGet("/v1/sent?project="+url.QueryEscape(e.ProjectID), &out)
	return out
}

// FCMControl posts to one of the fake FCM's control endpoints, e.g.
// FCMControl("/fake/tokens/TOKEN/unregistered", nil).
func (e *Env) FCMControl(path string, body any) {
	e.t.Helper()
	var r *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, "http://"+e.FCMHost+path, r)
	if err != nil {
		e.t.Fatalf("emutest: fake FCM %s: %v", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := controlClient().Do(req)
	if err != nil {
		e.t.Fatalf("emutest: fake FCM %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		e.t.Fatalf("emutest: fake FCM %s: %s", path, resp.Status)
	}
}

func (e *Env) fcmGet(path string, out any) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet, "http://"+e.FCMHost+path, nil)
	if err != nil {
		e.t.Fatalf("emutest: fake FCM %s: %v", path, err)
	}
	resp, err := controlClient().Do(req)
	if err != nil {
		e.t.Fatalf("emutest: fake FCM %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("emutest: fake FCM %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		e.t.Fatalf("emutest: fake FCM %s: %v", path, err)
	}
}

// ControlTimeout bounds every call the harness makes to the suite's control endpoints
// (the fake FCM's record, trigger routing): a suite that stopped answering fails the
// test with the reason instead of hanging it.
const ControlTimeout = 10 * time.Second

func controlClient() *http.Client { return &http.Client{Timeout: ControlTimeout} }

// Signer returns the service-account key that the suite's storage trusts for signed URLs.
func (e *Env) Signer() *storagefake.Signer {
	e.t.Helper()
	raw, err := os.ReadFile(os.Getenv("HEARTH_STORAGE_SIGNER"))
	if err != nil {
		e.t.Fatalf("emutest: storage signer: %v", err)
	}
	s, err := storagefake.LoadSigner(raw)
	if err != nil {
		e.t.Fatalf("emutest: %v", err)
	}
	return s
}

// Storage returns an admin Cloud Storage client for the suite's storage.
func (e *Env) Storage() *storage.Client {
	e.t.Helper()
	c, err := storage.NewClient(context.Background()) // STORAGE_EMULATOR_HOST: no credentials
	if err != nil {
		e.t.Fatalf("emutest: storage client: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// Eventually polls cond every 20 ms until it returns nil, failing the test with the last
// error after timeout. Tests use it to wait for documents that triggers derive.
func Eventually(t testingTB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testingTB is the part of testing.TB that Eventually needs.
type testingTB interface {
	Helper()
	Fatalf(format string, args ...any)
}
