// Package emulator starts, checks and stops Hearth's local Firebase suite: Google's
// Firestore emulator (Java), the Firebase CLI's Auth emulator (Node), an in-process Cloud
// Storage that verifies V4 signed URLs, a fake FCM v1 endpoint and the functions receiver
// that the Firestore emulator posts trigger events to. The emulators' ports come from
// firebase.json (the Firebase CLI's keys only); the parts of Hearth's own take theirs from
// HEARTH_LOCAL_* variables (LocalEnv).
package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultProjectID is the project the local suite serves. The "demo-" prefix tells every
// Firebase tool that no real project is involved, so no credentials are needed.
const DefaultProjectID = "demo-hearth"

// DefaultBucket is the Cloud Storage bucket the local suite creates.
const DefaultBucket = "demo-hearth.appspot.com"

// Default ports of the suite's parts that the Firebase CLI does not know (and its
// firebase.json schema refuses): the fake FCM, the local Pub/Sub and the API.
const (
	DefaultFCMPort    = 9299
	DefaultAPIPort    = 8088
	DefaultPubSubPort = 8085
)

// LocalEnv names the environment variables of the suite's own settings, with the
// defaults above: they used to be a "hearth" key of firebase.json, which the Firebase
// CLI's schema refuses.
var LocalEnv = struct{ Project, Bucket, FCMPort, APIPort, PubSubPort string }{
	Project:    "HEARTH_LOCAL_PROJECT",
	Bucket:     "HEARTH_LOCAL_BUCKET",
	FCMPort:    "HEARTH_LOCAL_FCM_PORT",
	APIPort:    "HEARTH_LOCAL_API_PORT",
	PubSubPort: "HEARTH_LOCAL_PUBSUB_PORT",
}

// Endpoint is one host:port pair of firebase.json.
type Endpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Addr returns host:port.
func (e Endpoint) Addr() string { return fmt.Sprintf("%s:%d", e.Host, e.Port) }

// Ports lists where each part of the suite listens. A zero port means "pick a free one",
// which the test harness uses so that packages tested in parallel never collide.
type Ports struct {
	Firestore          Endpoint // Google's Firestore emulator: REST, gRPC and /emulator/v1
	FirestoreWebsocket Endpoint // its websocket port (random when not set, so always set)
	Auth               Endpoint // Firebase CLI Auth emulator
	Hub                Endpoint // Firebase CLI emulator hub (the CLI insists on one)
	Logging            Endpoint // Firebase CLI logging port
	Storage            Endpoint // in-process Cloud Storage with V4 signature checks
	PubSub             Endpoint // in-process Pub/Sub that carries storage notifications
	Functions          Endpoint // receiver for the Firestore emulator's trigger events
	FCM                Endpoint // fake FCM HTTP v1
	API                Endpoint // hearth serve
}

// Config is the local suite's configuration, normally read from firebase.json.
type Config struct {
	Root           string // folder holding firebase.json and emulator/package.json
	ProjectID      string // project id every part serves (default demo-hearth)
	Bucket         string // storage bucket created at start
	Ports          Ports
	FirestoreRules string // path of the rendered Firestore rules, relative to Root
	StorageRules   string // path of the rendered Storage rules, relative to Root
}

// firebaseJSON mirrors the parts of firebase.json that Hearth reads. The emulators keys are
// the Firebase CLI's own, so `firebase emulators:start` keeps working with the full CLI.
type firebaseJSON struct {
	Firestore struct {
		Rules   string `json:"rules"`
		Indexes string `json:"indexes"`
	} `json:"firestore"`
	Storage struct {
		Rules string `json:"rules"`
	} `json:"storage"`
	Emulators struct {
		Firestore struct {
			Endpoint
			WebsocketPort int `json:"websocketPort"`
		} `json:"firestore"`
		Auth      Endpoint `json:"auth"`
		Storage   Endpoint `json:"storage"`
		Functions Endpoint `json:"functions"`
		Hub       Endpoint `json:"hub"`
		Logging   Endpoint `json:"logging"`
	} `json:"emulators"`
}

// LoadConfig reads root/firebase.json and the HEARTH_LOCAL_* variables of the process.
func LoadConfig(root string) (Config, error) { return LoadConfigEnv(root, os.Getenv) }

// LoadConfigEnv reads root/firebase.json, and Hearth's own settings (LocalEnv) from
// getenv: unset means the default, a set but invalid value is an error.
func LoadConfigEnv(root string, getenv func(string) string) (Config, error) {
	path := filepath.Join(root, "firebase.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	var fj firebaseJSON
	if err := json.Unmarshal(raw, &fj); err != nil {
		return Config{}, fmt.Errorf("parse %s: %w", path, err)
	}
	e := fj.Emulators
	host := func(h string) string {
		if h == "" {
			return "127.0.0.1"
		}
		return h
	}
	ep := func(h string, p int) Endpoint { return Endpoint{Host: host(h), Port: p} }
	local, err := loadLocal(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Root:           root,
		ProjectID:      local.project,
		Bucket:         local.bucket,
		FirestoreRules: fj.Firestore.Rules,
		StorageRules:   fj.Storage.Rules,
		Ports: Ports{
			Firestore:          ep(e.Firestore.Host, e.Firestore.Port),
			FirestoreWebsocket: ep(e.Firestore.Host, e.Firestore.WebsocketPort),
			Auth:               ep(e.Auth.Host, e.Auth.Port),
			Hub:                ep(e.Hub.Host, e.Hub.Port),
			Logging:            ep(e.Logging.Host, e.Logging.Port),
			Storage:            ep(e.Storage.Host, e.Storage.Port),
			Functions:          ep(e.Functions.Host, e.Functions.Port),
			FCM:                ep("", local.fcm),
			API:                ep("", local.api),
			PubSub:             ep("", local.pubsub),
		},
	}
	return cfg, nil
}

type localSettings struct {
	project, bucket  string
	fcm, api, pubsub int
}

// loadLocal reads LocalEnv; every invalid value is reported, not only the first.
func loadLocal(getenv func(string) string) (localSettings, error) {
	l := localSettings{project: DefaultProjectID, bucket: DefaultBucket, fcm: DefaultFCMPort, api: DefaultAPIPort, pubsub: DefaultPubSubPort}
	var errs []error
	if v := getenv(LocalEnv.Project); v != "" {
		if !strings.HasPrefix(v, "demo-") || len(v) > 30 {
			errs = append(errs, fmt.Errorf("%s=%q: the local suite serves demo-* projects only (at most 30 characters)", LocalEnv.Project, v))
		}
		l.project = v
	}
	if v := getenv(LocalEnv.Bucket); v != "" {
		l.bucket = v
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{LocalEnv.FCMPort, &l.fcm}, {LocalEnv.APIPort, &l.api}, {LocalEnv.PubSubPort, &l.pubsub}} {
		v := getenv(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q: want a port number from 1 to 65535", p.name, v))
			continue
		}
		*p.dst = n
	}
	return l, errors.Join(errs...)
}

// ErrNoRoot is returned when no folder above the working directory holds firebase.json.
var ErrNoRoot = errors.New("no firebase.json found in this folder or any parent: run hearth from the Hearth checkout or set HEARTH_ROOT")

// FindRoot returns the Hearth checkout: $HEARTH_ROOT, or the nearest folder at or above dir
// that holds both firebase.json and emulator/package.json.
func FindRoot(dir string) (string, error) {
	if r := os.Getenv("HEARTH_ROOT"); r != "" {
		return r, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find root: %w", err)
	}
	for {
		if fileExists(filepath.Join(dir, "firebase.json")) && fileExists(filepath.Join(dir, "emulator", "package.json")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoRoot
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
