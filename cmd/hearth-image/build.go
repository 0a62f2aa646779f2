package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Defaults of the image.
const (
	DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"
	DefaultSource  = "https://github.com/hearth-chat/hearth"
	// UID and GID of the user the server runs as: not root, and numeric in the config so
	// that runtimes enforcing runAsNonRoot can check it without reading /etc/passwd.
	UID = 65532
	GID = 65532
	// BinaryPath is where the binary is installed; the entrypoint runs it.
	BinaryPath = "/usr/local/bin/hearth"
	// CACertsPath is where Go's crypto/x509 looks first on Linux.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// Port the server listens on in the image (Cloud Run sets PORT itself).
	Port = "8080"
)

// Limits on the inputs: a file larger than this is a mistake, not something to package.
const (
	maxBinary   = 512 << 20
	maxCACerts  = 16 << 20
	maxZoneInfo = 16 << 20
)

// Options are the inputs of one image.
type Options struct {
	Binary   string    // linux, statically linked hearth binary
	CACerts  string    // PEM bundle
	ZoneInfo string    // zoneinfo.zip
	Version  string    // org.opencontainers.image.version
	Commit   string    // org.opencontainers.image.revision
	Source   string    // org.opencontainers.image.source
	RefName  string    // org.opencontainers.image.ref.name in the layout's index
	Created  time.Time // image creation time and every file's mtime (zero: the Unix epoch)
}

// Result describes the image written.
type Result struct {
	Digest   v1.Hash // manifest digest
	Platform string  // os/arch
	Size     int64   // compressed layer bytes
}

// Entrypoint is the image's entrypoint: `hearth serve`, flags from the environment or
// from the runtime's args (Cloud Run's --args).
func Entrypoint() []string { return []string{BinaryPath, "serve"} }

// Build writes the image as an OCI archive to out and, when layoutDir is not empty, as
// an OCI image layout in layoutDir (which must not exist yet).
func Build(o Options, out, layoutDir string) (Result, error) {
	if o.Created.IsZero() {
		o.Created = time.Unix(0, 0).UTC()
	}
	img, arch, err := Image(o)
	if err != nil {
		return Result{}, err
	}
	var res Result
	res.Platform = "linux/" + arch
	if res.Digest, err = img.Digest(); err != nil {
		return Result{}, fmt.Errorf("image digest: %w", err)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return Result{}, fmt.Errorf("layer size: %w", err)
		}
		res.Size += n
	}
	dir := layoutDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "hearth-image-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "layout")
	} else if _, err := os.Stat(dir); err == nil {
		return Result{}, fmt.Errorf("layout directory %s exists: remove it first", dir)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return Result{}, fmt.Errorf("write layout %s: %w", dir, err)
	}
	anns := map[string]string{}
	if o.RefName != "" {
		anns["org.opencontainers.image.ref.name"] = o.RefName
	}
	if err := p.AppendImage(img, layout.WithAnnotations(anns), layout.WithPlatform(v1.Platform{OS: "linux", Architecture: arch})); err != nil {
		return Result{}, fmt.Errorf("write image into %s: %w", dir, err)
	}
	if err := tarDir(dir, out, o.Created); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Image builds the image from o and returns it with its architecture (GOARCH name, read
// from the binary).
func Image(o Options) (v1.Image, string, error) {
	bin, arch, err := readStaticBinary(o.Binary)
	if err != nil {
		return nil, "", err
	}
	certs, err := readCACerts(o.CACerts)
	if err != nil {
		return nil, "", err
	}
	zones, err := readZoneInfo(o.ZoneInfo)
	if err != nil {
		return nil, "", err
	}
	layerTar, err := rootfs(o.Created, bin, certs, zones)
	if err != nil {
		return nil, "", err
	}
	// Compressed once (WithCompressedCaching): otherwise the library compresses the
	// whole layer again for its digest and once more to write it.
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, "", fmt.Errorf("layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "hearth-image", Comment: "hearth binary, CA certificates, tzdata, user hearth"},
	}); err != nil {
		return nil, "", fmt.Errorf("append layer: %w", err)
	}
	labels := Labels(o)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, "", err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Created = v1.Time{Time: o.Created}
	cf.Author = o.Source
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", UID, GID),
		Entrypoint:   Entrypoint(),
		Env:          Env(),
		WorkingDir:   "/home/hearth",
		ExposedPorts: map[string]struct{}{Port + "/tcp": {}},
		Labels:       labels,
		StopSignal:   "SIGTERM",
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, "", fmt.Errorf("config: %w", err)
	}
	return mutate.Annotations(img, labels).(v1.Image), arch, nil
}

// Env is the image's environment.
func Env() []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"SSL_CERT_FILE=" + CACertsPath,
		"PORT=" + Port, // `hearth serve` listens on :$PORT; Cloud Run sets its own
		"HOME=/home/hearth",
	}
}

// Labels are the OCI annotations of the image, written both as config labels (docker
// inspect, Artifact Registry) and as manifest annotations.
func Labels(o Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "hearth",
		"org.opencontainers.image.description": "Hearth: Go backend for Firebase chat apps (hearth serve)",
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.revision": o.Commit,
		"org.opencontainers.image.source":   o.Source,
	} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}

// readStaticBinary reads a Linux ELF executable and refuses one that needs a dynamic
// loader or shared libraries: the image has neither (a cgo build links libc).
func readStaticBinary(p string) ([]byte, string, error) {
	b, err := readLimited(p, maxBinary)
	if err != nil {
		return nil, "", fmt.Errorf("binary: %w", err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, "", fmt.Errorf("binary %s is not a Linux ELF executable (build with GOOS=linux): %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return nil, "", fmt.Errorf("binary %s is dynamically linked (it names a program interpreter): build it with CGO_ENABLED=0", p)
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return nil, "", fmt.Errorf("binary %s needs shared libraries %v: build it with CGO_ENABLED=0", p, libs)
	}
	arch, ok := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[f.Machine]
	if !ok {
		return nil, "", fmt.Errorf("binary %s is for %v: want amd64 or arm64", p, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, "", fmt.Errorf("binary %s is not an executable (%v)", p, f.Type)
	}
	return b, arch, nil
}

// readCACerts reads a PEM bundle and checks that it holds certificates only.
func readCACerts(p string) ([]byte, error) {
	b, err := readLimited(p, maxCACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w (install the ca-certificates package, or pass -ca-certs)", err)
	}
	n := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("CA certificates %s: a %q block: want certificates only", p, blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("CA certificates %s: certificate %d: %w", p, n+1, err)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA certificates %s: no PEM certificate in it", p)
	}
	return b, nil
}

// readZoneInfo reads a zoneinfo.zip (the Go toolchain ships one) into its files.
func readZoneInfo(p string) (map[string][]byte, error) {
	b, err := readLimited(p, maxZoneInfo)
	if err != nil {
		return nil, fmt.Errorf("time zone database: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("time zone database %s: %w", p, err)
	}
	files := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		name := path.Clean(f.Name)
		if f.FileInfo().IsDir() {
			continue
		}
		if !fs.ValidPath(name) || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("time zone database %s: bad entry name %q", p, f.Name)
		}
		total += int64(f.UncompressedSize64)
		if total > 4*maxZoneInfo {
			return nil, fmt.Errorf("time zone database %s: more than %d bytes uncompressed", p, 4*maxZoneInfo)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("time zone database %s: %s: %w", p, f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxZoneInfo+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("time zone database %s: %s: %w", p, f.Name, err)
		}
		files[name] = data
	}
	if _, ok := files["UTC"]; !ok {
		return nil, fmt.Errorf("time zone database %s: no UTC zone in it", p)
	}
	return files, nil
}

// goZoneInfo is the Go toolchain's time zone database.
func goZoneInfo() string {
	root := runtime.GOROOT()
	if out, err := goEnv("GOROOT"); err == nil && out != "" {
		root = out
	}
	return filepath.Join(root, "lib", "time", "zoneinfo.zip")
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, limit)
	}
	return b, nil
}

// rootfs is the image's one layer, as an uncompressed tar with fixed times and owners.
func rootfs(mtime time.Time, bin, certs []byte, zones map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	var errs []error
	for _, d := range []string{"etc", "etc/ssl", "etc/ssl/certs", "usr", "usr/local", "usr/local/bin", "usr/share", "usr/share/zoneinfo", "home"} {
		errs = append(errs, dir(d, 0o755, 0))
	}
	errs = append(errs,
		dir("home/hearth", 0o750, UID),
		dir("tmp", 0o1777, 0),
		file("etc/passwd", 0o644, fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nhearth:x:%d:%d:hearth:/home/hearth:/sbin/nologin\n", UID, GID)),
		file("etc/group", 0o644, fmt.Appendf(nil, "root:x:0:\nhearth:x:%d:\n", GID)),
		file("etc/nsswitch.conf", 0o644, []byte("hosts: files dns\n")),
		file(strings.TrimPrefix(CACertsPath, "/"), 0o644, certs),
	)
	// Zone files, in a fixed order, with their directories.
	names := make([]string, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	slices.Sort(names)
	made := map[string]bool{}
	for _, n := range names {
		for d := path.Dir(n); d != "." && !made[d]; d = path.Dir(d) {
			made[d] = true
		}
	}
	dirs := make([]string, 0, len(made))
	for d := range made {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs) // parents sort before their children
	for _, d := range dirs {
		errs = append(errs, dir("usr/share/zoneinfo/"+d, 0o755, 0))
	}
	for _, n := range names {
		errs = append(errs, file("usr/share/zoneinfo/"+n, 0o644, zones[n]))
	}
	errs = append(errs, file(strings.TrimPrefix(BinaryPath, "/"), 0o755, bin), tw.Close())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("layer tar: %w", err)
	}
	return buf.Bytes(), nil
}

// tarDir writes the files under dir into the tar out, sorted, with fixed times.
func tarDir(dir, out string, mtime time.Time) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", out, cerr)
		}
		if err != nil {
			os.Remove(out)
		}
	}()
	tw := tar.NewWriter(f)
	var paths []string
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("read layout %s: %w", dir, err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
				return err
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: fi.Size(), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
