// Command hearth-image builds Hearth's container image, without a Docker daemon and
// without pulling a base image: one layer holding the static hearth binary, CA
// certificates, the time zone database and a non-root user, written as an OCI image
// layout (a directory `crane push` reads) and as a tar of it (an OCI archive that
// `skopeo copy oci-archive:`, `podman load` and `docker load` read). `make image` runs it.
//
// It is a separate binary so that go-containerregistry never ends up in the server.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hearth-image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var created string
	fs.StringVar(&o.Binary, "binary", "", "the hearth binary to package: linux, statically linked (CGO_ENABLED=0)")
	fs.StringVar(&o.CACerts, "ca-certs", DefaultCACerts, "PEM bundle of CA certificates to install as /etc/ssl/certs/ca-certificates.crt (the build machine's)")
	fs.StringVar(&o.ZoneInfo, "zoneinfo", "", "zoneinfo.zip to unpack into /usr/share/zoneinfo (default: the Go toolchain's $GOROOT/lib/time/zoneinfo.zip)")
	fs.StringVar(&o.Version, "version", "", "version for the labels (org.opencontainers.image.version)")
	fs.StringVar(&o.Commit, "commit", "", "commit for the labels (org.opencontainers.image.revision)")
	fs.StringVar(&o.Source, "source", DefaultSource, "source repository for the labels (org.opencontainers.image.source)")
	fs.StringVar(&o.RefName, "tag", "hearth:latest", "reference name recorded in the layout's index (org.opencontainers.image.ref.name)")
	fs.StringVar(&created, "created", os.Getenv("SOURCE_DATE_EPOCH"), "creation time, Unix seconds (default $SOURCE_DATE_EPOCH, else 0): the same inputs give the same image digest")
	out := fs.String("out", "", "OCI archive (tar of the image layout) to write")
	layoutDir := fs.String("layout", "", "also leave the OCI image layout in this directory (for `crane push DIR IMAGE`); it must not exist")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if o.Binary == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "hearth-image: -binary and -out are required, and nothing else")
		fs.Usage()
		return 2
	}
	if created != "" {
		var sec int64
		if _, err := fmt.Sscanf(created, "%d", &sec); err != nil || sec < 0 {
			fmt.Fprintf(stderr, "hearth-image: -created %q: want Unix seconds\n", created)
			return 2
		}
		o.Created = time.Unix(sec, 0).UTC()
	}
	if o.ZoneInfo == "" {
		o.ZoneInfo = goZoneInfo()
	}
	res, err := Build(o, *out, *layoutDir)
	if err != nil {
		fmt.Fprintln(stderr, "hearth-image:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %s, %d bytes compressed)\n", *out, res.Platform, res.Digest, res.Size)
	if *layoutDir != "" {
		fmt.Fprintf(stdout, "wrote OCI layout %s: crane push %s $IMAGE\n", *layoutDir, *layoutDir)
	}
	return 0
}
