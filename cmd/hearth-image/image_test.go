package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// buildHearth builds the server as `make image` does: static (CGO_ENABLED=0, and the
// nodynamic tag: without it github.com/gen2brain/heic loads libheif through purego, which
// makes even a CGO_ENABLED=0 binary ask for the dynamic loader), for Linux, version and
// commit stamped.
func buildHearth(t *testing.T, version, commit string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hearth")
	cmd := exec.Command("go", "build", "-tags", "nodynamic", "-ldflags", "-X main.version="+version+" -X main.commit="+commit, "-o", bin, "../hearth")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hearth with CGO_ENABLED=0: %v\n%s", err, out)
	}
	return bin
}

// untar unpacks the OCI archive into a new directory.
func untar(t *testing.T, archive string) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("archive entry %q leaves the directory", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImage builds the image from a freshly built static binary, reads it back from the
// OCI archive as a registry client would, checks its config, then takes the binary out
// of the layer and runs `hearth version`.
func TestImage(t *testing.T) {
	if _, err := os.Stat(DefaultCACerts); err != nil {
		t.Fatalf("%v: the image takes the build machine's CA bundle: install ca-certificates", err)
	}
	const version, commit = "v9.8.7-test", "0123456789abcdef0123456789abcdef01234567"
	bin := buildHearth(t, version, commit)
	out := filepath.Join(t.TempDir(), "hearth-image.tar")
	var stdout, stderr bytes.Buffer
	args := []string{"-binary", bin, "-out", out, "-version", version, "-commit", commit, "-created", "1764900000"}
	if code := run(t.Context(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("hearth-image %q = %d: %s", args, code, stderr.String())
	}

	idx, err := layout.ImageIndexFromPath(untar(t, out))
	if err != nil {
		t.Fatalf("read OCI layout from %s: %v", out, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "hearth:latest" {
		t.Fatalf("index = %+v, want one image named hearth:latest", im.Manifests)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	if mt != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type = %s, want OCI", mt)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations["org.opencontainers.image.version"] != version || m.Annotations["org.opencontainers.image.revision"] != commit {
		t.Errorf("manifest annotations = %v, want version %s and revision %s", m.Annotations, version, commit)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532 (numeric, not root)", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/hearth", "serve"}) || len(c.Cmd) != 0 {
		t.Errorf("Entrypoint, Cmd = %q, %q; want [/usr/local/bin/hearth serve], none", c.Entrypoint, c.Cmd)
	}
	for _, want := range []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "PORT=8080"} {
		if !slices.Contains(c.Env, want) {
			t.Errorf("Env = %q, want %s in it", c.Env, want)
		}
	}
	if c.Labels["org.opencontainers.image.version"] != version || c.Labels["org.opencontainers.image.revision"] != commit ||
		c.Labels["org.opencontainers.image.created"] != "2025-12-05T02:00:00Z" {
		t.Errorf("Labels = %v", c.Labels)
	}
	if cf.OS != "linux" || cf.Architecture == "" || !cf.Created.Time.Equal(time.Unix(1764900000, 0)) {
		t.Errorf("config os/arch/created = %s/%s %v", cf.OS, cf.Architecture, cf.Created)
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	var hearth, passwd, certs []byte
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		switch h.Name {
		case "usr/local/bin/hearth":
			hearth, err = io.ReadAll(tr)
		case "etc/passwd":
			passwd, err = io.ReadAll(tr)
		case "etc/ssl/certs/ca-certificates.crt":
			certs, err = io.ReadAll(tr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(string(passwd), "hearth:x:65532:65532:") {
		t.Errorf("/etc/passwd = %q, want the hearth user with uid 65532", passwd)
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("CA bundle missing or empty (%d bytes)", len(certs))
	}
	for _, name := range []string{"usr/share/zoneinfo/UTC", "usr/share/zoneinfo/Europe/Paris", "tmp/", "home/hearth/"} {
		if files[name] == nil {
			t.Errorf("layer has no %s", name)
		}
	}
	if h := files["usr/local/bin/hearth"]; h == nil || h.Mode != 0o755 {
		t.Fatalf("layer's hearth binary = %+v, want mode 0755", h)
	}
	if h := files["tmp/"]; h != nil && h.Mode != 0o1777 {
		t.Errorf("tmp mode = %o, want 1777", h.Mode)
	}
	exe := filepath.Join(t.TempDir(), "hearth")
	if err := os.WriteFile(exe, hearth, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("hearth version (from the image): %v\n%s", err, got)
	}
	if !strings.Contains(string(got), "hearth "+version+"\ncommit "+commit+"\n") {
		t.Errorf("hearth version (from the image) = %q, want version %s and commit %s", got, version, commit)
	}

	// The same inputs give the same image.
	out2 := filepath.Join(t.TempDir(), "again.tar")
	stdout.Reset()
	if code := run(t.Context(), append(args[:2:2], append([]string{"-out", out2}, args[4:]...)...), &stdout, &stderr); code != 0 {
		t.Fatalf("second build = %d: %s", code, stderr.String())
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Errorf("two builds from the same inputs differ (%d and %d bytes)", len(a), len(b))
	}
}

// TestImageRefusesBadInputs: what a careless or hostile build machine could hand the
// builder is refused with a message saying what is wrong, and no archive is left.
func TestImageRefusesBadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dynamic, err := exec.LookPath("ls") // a distribution's ls links libc
	if err != nil {
		t.Fatal(err)
	}
	script := write("script", []byte("#!/bin/sh\necho hi\n"))
	certsOK := DefaultCACerts
	notCerts := write("key.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	empty := write("empty.pem", nil)
	tests := []struct {
		name, binary, certs, want string
	}{
		{"dynamic binary", dynamic, certsOK, "CGO_ENABLED=0"},
		{"not an ELF file", script, certsOK, "not a Linux ELF executable"},
		{"missing binary", filepath.Join(dir, "nope"), certsOK, "no such file"},
		{"private key as CA bundle", dynamic, notCerts, ""},
		{"empty CA bundle", dynamic, empty, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "image.tar")
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{"-binary", tt.binary, "-ca-certs", tt.certs, "-out", out}, &stdout, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("hearth-image = %d, %q; want a failure saying %q", code, stderr.String(), tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed build left %s", out)
			}
		})
	}
	// The CA checks on their own (the binary check above comes first).
	for _, p := range []string{notCerts, empty} {
		if _, err := readCACerts(p); err == nil {
			t.Errorf("readCACerts(%s) = nil error, want a refusal", p)
		}
	}
}
