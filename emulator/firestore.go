package emulator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// debianJars are where the Debian/gcloud package google-cloud-cli-firestore-emulator puts
// the emulator jar (apt and the gcloud tarball install to these two prefixes).
var debianJars = []string{
	"/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
	"/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
}

// ErrNoJava is returned when java is not on PATH.
var ErrNoJava = errors.New("java not found on PATH: the Firestore emulator needs Java 17 or newer " +
	"(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)")

// ErrNoJar is returned when no Firestore emulator jar can be found.
var ErrNoJar = errors.New("no Cloud Firestore emulator jar found; install one of:\n" +
	"  1. apt-get install google-cloud-cli-firestore-emulator   (Google's Debian package)\n" +
	"  2. gcloud components install cloud-firestore-emulator     (gcloud SDK)\n" +
	"  3. firebase setup:emulators:firestore                      (Firebase CLI cache, ~/.cache/firebase/emulators/)\n" +
	"or point HEARTH_FIRESTORE_EMULATOR_JAR at a cloud-firestore-emulator jar")

// FindFirestoreJar locates Google's Firestore emulator jar, in this order:
// $HEARTH_FIRESTORE_EMULATOR_JAR, the Debian/gcloud package, the Firebase CLI cache.
func FindFirestoreJar() (string, error) {
	if p := os.Getenv("HEARTH_FIRESTORE_EMULATOR_JAR"); p != "" {
		if !fileExists(p) {
			return "", fmt.Errorf("HEARTH_FIRESTORE_EMULATOR_JAR=%s: no such file", p)
		}
		return p, nil
	}
	if gcloud, err := exec.LookPath("gcloud"); err == nil {
		if real, err := filepath.EvalSymlinks(gcloud); err == nil {
			sdk := filepath.Dir(filepath.Dir(real))
			p := filepath.Join(sdk, "platform", "cloud-firestore-emulator", "cloud-firestore-emulator.jar")
			if fileExists(p) {
				return p, nil
			}
		}
	}
	for _, p := range debianJars {
		if fileExists(p) {
			return p, nil
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		matches, _ := filepath.Glob(filepath.Join(home, ".cache", "firebase", "emulators", "cloud-firestore-emulator-v*.jar"))
		if len(matches) > 0 {
			sort.Strings(matches) // newest version last (v1.19.9 < v1.22.0 sorts right for these names)
			return matches[len(matches)-1], nil
		}
	}
	return "", ErrNoJar
}

// startFirestore runs the emulator jar with java directly (not the wrapper script, which
// does not exec java and so orphans it on kill).
func startFirestore(ctx context.Context, s *Suite) (*process, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrNoJava
	}
	jar, err := FindFirestoreJar()
	if err != nil {
		return nil, err
	}
	p := s.cfg.Ports
	args := []string{java,
		"-Duser.language=en",
		// Serial GC and the quick compiler: the emulator idles at ~200 MiB and starts
		// faster. The heap may grow to 2 GiB: the emulator keeps every project's
		// documents in memory for the life of the suite, and with 512 MiB a few
		// thousand-message bursts (or a long `hearth dev` session) filled it and the
		// emulator spent most of its time in full collections.
		"-Xmx2g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", jar, "com.google.cloud.datastore.emulator.firestore.CloudFirestore", "start",
		"--host=" + p.Firestore.Host,
		"--port=" + strconv.Itoa(p.Firestore.Port),
		"--websocket_port=" + strconv.Itoa(p.FirestoreWebsocket.Port),
		"--project_id=" + s.cfg.ProjectID,
		// Fixed at start: trigger events for every project go to Hearth's receiver.
		"--functions_emulator=" + p.Functions.Addr(),
	}
	proc, err := startProcess("Firestore emulator", s.stateDir, os.Environ(), filepath.Join(s.stateDir, "firestore.log"), args...)
	if err != nil {
		return nil, err
	}
	if err := proc.waitHTTP(ctx, "http://"+p.Firestore.Addr()+"/"); err != nil {
		proc.stop(s.grace)
		if strings.Contains(proc.tail(40), "UnsupportedClassVersionError") {
			return nil, fmt.Errorf("%w\nthis jar needs a newer Java than the one on PATH", err)
		}
		return nil, err
	}
	return proc, nil
}
