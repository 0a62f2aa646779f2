package emulator_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hearth-chat/hearth/emulator"
)

// firebaseSchema is the JSON schema of firebase.json that the pinned firebase-tools ships
// (and `firebase` checks the file against).
const firebaseSchema = "emulator/node_modules/firebase-tools/schema/firebase-config.json"

// TestFirebaseJSONSchema: firebase.json is the Firebase CLI's file: it must pass the CLI's
// own schema, which refuses keys it does not know (additionalProperties: false at every
// level), so Hearth's settings cannot live there.
func TestFirebaseJSONSchema(t *testing.T) {
	root, err := emulator.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	schemaPath := filepath.Join(root, firebaseSchema)
	if _, err := os.Stat(schemaPath); err != nil {
		t.Fatalf("%v: install the pinned firebase-tools first (make deps)", err)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	validate := func(name string, raw []byte) error {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		return sch.Validate(doc)
	}
	raw, err := os.ReadFile(filepath.Join(root, "firebase.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate("firebase.json", raw); err != nil {
		t.Errorf("firebase.json does not pass the Firebase CLI's schema:\n%v", err)
	}
	// The check can fail: a key of Hearth's own, anywhere, is refused.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(map[string]any){
		func(d map[string]any) { d["hearth"] = map[string]any{"fcmPort": 9299} },
		func(d map[string]any) { d["emulators"].(map[string]any)["fcm"] = map[string]any{"port": 9299} },
	} {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		bad(d)
		b, _ := json.Marshal(d)
		var verr *jsonschema.ValidationError
		if err := validate("modified firebase.json", b); !errors.As(err, &verr) {
			t.Errorf("a firebase.json with a key of Hearth's own passed the schema (err %v)", err)
		}
	}
}

// TestLoadConfigLocalEnv: Hearth's own settings keep their defaults without firebase.json's
// old "hearth" key, follow HEARTH_LOCAL_*, and refuse bad values all at once.
func TestLoadConfigLocalEnv(t *testing.T) {
	root, err := emulator.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := emulator.LoadConfigEnv(root, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProjectID != "demo-hearth" || cfg.Bucket != "demo-hearth.appspot.com" ||
		cfg.Ports.FCM.Addr() != "127.0.0.1:9299" || cfg.Ports.API.Addr() != "127.0.0.1:8088" || cfg.Ports.PubSub.Addr() != "127.0.0.1:8085" ||
		cfg.Ports.Firestore.Addr() != "127.0.0.1:8080" || cfg.FirestoreRules != "rules/firestore.rules" {
		t.Errorf("LoadConfigEnv(no env) = %+v; want the defaults (demo-hearth, FCM 9299, API 8088, Pub/Sub 8085, Firestore 8080)", cfg)
	}
	cfg, err = emulator.LoadConfigEnv(root, env(map[string]string{
		"HEARTH_LOCAL_PROJECT": "demo-other", "HEARTH_LOCAL_BUCKET": "b", "HEARTH_LOCAL_FCM_PORT": "19299",
		"HEARTH_LOCAL_API_PORT": "18088", "HEARTH_LOCAL_PUBSUB_PORT": "18085",
	}))
	if err != nil || cfg.ProjectID != "demo-other" || cfg.Bucket != "b" || cfg.Ports.FCM.Port != 19299 || cfg.Ports.API.Port != 18088 || cfg.Ports.PubSub.Port != 18085 {
		t.Errorf("LoadConfigEnv(overrides) = %+v, %v", cfg, err)
	}
	_, err = emulator.LoadConfigEnv(root, env(map[string]string{
		"HEARTH_LOCAL_PROJECT": "my-prod", "HEARTH_LOCAL_FCM_PORT": "x", "HEARTH_LOCAL_API_PORT": "70000", "HEARTH_LOCAL_PUBSUB_PORT": "-1",
	}))
	for _, want := range []string{"HEARTH_LOCAL_PROJECT", "HEARTH_LOCAL_FCM_PORT", "HEARTH_LOCAL_API_PORT", "HEARTH_LOCAL_PUBSUB_PORT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadConfigEnv(bad values) error = %v, want it to name %s", err, want)
		}
	}
}
