package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/emulator/emutest"
)

// checkMediaRemoval is the media lifecycle of `make dev`, through every part hearth dev
// wires: alice uploads a photo through the API and the local storage, writes her message
// through the rules, the storage notification gets it checked; she deletes the message
// (a soft delete through the rules), and the message-written trigger removes the photo:
// the object and thumbnail are deleted and GET /v1/media answers 404.
func checkMediaRemoval(t *testing.T, table string) {
	ctx := t.Context()
	api, authHost, fsHost := addrOf(t, table, "API (hearth serve)"), addrOf(t, table, "Auth emulator"), addrOf(t, table, "Firestore emulator")
	storageHost := addrOf(t, table, "Storage (V4 signed URLs)")
	m := regexp.MustCompile(`Storage \(V4 signed URLs\)\s+\S+\s+bucket (\S+)`).FindStringSubmatch(table)
	if m == nil {
		t.Fatalf("no bucket in:\n%s", table)
	}
	bucket := m[1]
	alice, err := emulator.AuthREST{Host: authHost}.SignInWithPassword(ctx, "alice@example.com", emulator.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string, body any, out any) int {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+api+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+alice.IDToken)
		req.Header.Set("Content-Type", "application/json")
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var room struct{ ID string }
	if code := call("POST", "/v1/rooms", map[string]any{"title": "Photos", "memberIds": []string{"bob"}}, &room); code != http.StatusCreated {
		t.Fatalf("POST /v1/rooms = %d", code)
	}
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, img, nil); err != nil {
		t.Fatal(err)
	}
	var tk struct {
		ObjectPath, UploadURL string
		Headers               map[string]string
	}
	if code := call("POST", "/v1/uploads", map[string]any{"roomId": room.ID, "contentType": "image/jpeg", "size": photo.Len()}, &tk); code != http.StatusCreated {
		t.Fatalf("POST /v1/uploads = %d", code)
	}
	put, _ := http.NewRequestWithContext(ctx, http.MethodPut, tk.UploadURL, bytes.NewReader(photo.Bytes()))
	for k, v := range tk.Headers {
		put.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT upload = %s", resp.Status)
	}
	db, err := emutest.NewUserClient(ctx, fsHost, "demo-hearth", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msg := db.Doc("rooms/" + room.ID + "/messages/photo-1")
	if _, err := msg.Create(ctx, map[string]any{"senderId": "alice", "type": "image", "text": "",
		"createdAt": firestore.ServerTimestamp, "media": map[string]any{"path": tk.ObjectPath,
			"contentType": "image/jpeg", "size": photo.Len(), "status": "pending"}}); err != nil {
		t.Fatalf("write the message: %v", err)
	}
	emutest.Eventually(t, time.Minute, func() error {
		snap, err := msg.Get(ctx)
		if err != nil {
			return err
		}
		if st, _ := snap.DataAt("media.status"); st != "ready" {
			return fmt.Errorf("message media status = %v, want ready", st)
		}
		return nil
	})
	mediaPath := "/v1/media/" + tk.ObjectPath
	if code := call("GET", mediaPath, nil, nil); code != http.StatusFound {
		t.Fatalf("GET %s before the delete = %d, want 302", mediaPath, code)
	}
	// Alice deletes her message, as her app does: a tombstone through the rules.
	if _, err := msg.Update(ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "media", Value: firestore.Delete},
		{Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatalf("delete the message: %v", err)
	}
	thumb := "thumbs/" + strings.TrimPrefix(tk.ObjectPath, "media/")
	emutest.Eventually(t, time.Minute, func() error {
		for _, p := range []string{tk.ObjectPath, thumb} {
			resp, err := http.Get("http://" + storageHost + "/storage/v1/b/" + bucket + "/o/" + url.PathEscape(p))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				return fmt.Errorf("object %s: %s, want 404 (deleted)", p, resp.Status)
			}
		}
		return nil
	})
	for _, p := range []string{mediaPath, mediaPath + "?thumb=1"} {
		if code := call("GET", p, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET %s after the delete = %d, want 404", p, code)
		}
	}
}
