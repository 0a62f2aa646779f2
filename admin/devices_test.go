package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestDevices(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	alice, bob := ts.newUser("Alice"), ts.newUser("Bob")
	const token = "fcm-token-abc:APA91b"

	var d apiDevice
	ts.call("PUT", "/v1/devices/phone-1", alice.Token, map[string]string{"token": token, "platform": "ios", "locale": "en_US"}, http.StatusOK).decode(t, &d)
	if d.DeviceID != "phone-1" || d.Platform != model.PlatformIOS || d.Locale != "en_US" || !d.UpdatedAt.Equal(ts.clock.Now().UTC()) {
		t.Errorf("PUT device = %+v", d)
	}
	exists := func(path string) bool {
		_, err := db.Doc(path).Get(ctx)
		return err == nil
	}
	if !exists(model.DevicePath(alice.UID, "phone-1")) {
		t.Fatal("alice's device not stored")
	}
	// Re-registering the same device updates it in place.
	ts.call("PUT", "/v1/devices/phone-1", alice.Token, map[string]string{"token": token, "platform": "ios", "appVersion": "2.0"}, http.StatusOK)
	// Bob signs in on the same phone: the token moves to him.
	ts.call("PUT", "/v1/devices/phone-9", bob.Token, map[string]string{"token": token, "platform": "ios"}, http.StatusOK)
	if exists(model.DevicePath(alice.UID, "phone-1")) {
		t.Error("token still registered for alice after bob registered it")
	}
	if !exists(model.DevicePath(bob.UID, "phone-9")) {
		t.Error("bob's device not stored")
	}
	// The same user with a new device id for the same token: one registration.
	ts.call("PUT", "/v1/devices/phone-10", bob.Token, map[string]string{"token": token, "platform": "ios"}, http.StatusOK)
	docs, _ := db.CollectionGroup("devices").Where("token", "==", token).Documents(ctx).GetAll()
	if len(docs) != 1 || docs[0].Ref.Path != db.Doc(model.DevicePath(bob.UID, "phone-10")).Path {
		t.Errorf("registrations of the token = %d, want 1 (bob's phone-10)", len(docs))
	}

	tests := []struct {
		name, path string
		body       any
		want       int
	}{
		{"no token", "/v1/devices/x", map[string]string{"platform": "ios"}, 400},
		{"bad platform", "/v1/devices/x", map[string]string{"token": "t", "platform": "symbian"}, 400},
		{"bad locale", "/v1/devices/x", map[string]string{"token": "t", "platform": "web", "locale": "-"}, 400},
		{"token with spaces", "/v1/devices/x", map[string]string{"token": "a b", "platform": "web"}, 400},
		{"long device id", "/v1/devices/" + strings.Repeat("d", model.MaxIDLen+1), map[string]string{"token": "t", "platform": "web"}, 400},
		{"dotted device id", "/v1/devices/a.b", map[string]string{"token": "t", "platform": "web"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := ts.do(req{method: "PUT", path: tt.path, token: alice.Token, body: tt.body}); resp.Code != tt.want {
				t.Errorf("PUT %s = %s, want %d", tt.path, resp, tt.want)
			}
		})
	}
	ts.call("DELETE", "/v1/devices/phone-10", bob.Token, nil, http.StatusNoContent)
	if exists(model.DevicePath(bob.UID, "phone-10")) {
		t.Error("device still there after DELETE")
	}
	ts.call("DELETE", "/v1/devices/phone-10", bob.Token, nil, http.StatusNoContent)
}
