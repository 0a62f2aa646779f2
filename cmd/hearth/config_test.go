package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/functions"
)

// TestConfigCommand: `hearth config` prints the effective configuration, flags applied;
// it exits 2 naming every variable that does not parse and 1 when the configuration is
// invalid.
func TestConfigCommand(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "my-proj")
	t.Setenv("HEARTH_STORAGE_BUCKET", "")
	t.Setenv("HEARTH_RATE_BURST", "7")
	var out, errOut emutest.Buffer
	if code := run(t.Context(), []string{"config", "-addr", "127.0.0.1:9", "-log-level", "debug"}, &out, &errOut); code != 0 {
		t.Fatalf("hearth config = %d, %s", code, errOut.String())
	}
	for _, want := range []string{"HEARTH_FIRESTORE_PROJECT=my-proj\n", "HEARTH_ADDR=127.0.0.1:9\n", "HEARTH_RATE_BURST=7\n",
		"HEARTH_LOG_LEVEL=DEBUG\n", "HEARTH_PUSH_WINDOW=10s\n", "HEARTH_FUNCTIONS_WORKERS=" + strconv.Itoa(functions.DefaultWorkers) + "\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("hearth config printed\n%s\nwant a line %q", out.String(), want)
		}
	}

	t.Setenv("HEARTH_RATE_BURST", "lots")
	t.Setenv("HEARTH_PUSH_WINDOW", "soon")
	var out2, errOut2 emutest.Buffer
	if code := run(t.Context(), []string{"config"}, &out2, &errOut2); code != 2 ||
		!strings.Contains(errOut2.String(), `HEARTH_RATE_BURST="lots"`) || !strings.Contains(errOut2.String(), `HEARTH_PUSH_WINDOW="soon"`) {
		t.Errorf("hearth config (two bad values) = %d, %q; want 2 naming both", code, errOut2.String())
	}

	t.Setenv("HEARTH_RATE_BURST", "")
	t.Setenv("HEARTH_PUSH_WINDOW", "")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	t.Setenv("HEARTH_FIRESTORE_PROJECT", "")
	t.Setenv("HEARTH_AUTH_PROJECT", "")
	var out3, errOut3 emutest.Buffer
	if code := run(t.Context(), []string{"config"}, &out3, &errOut3); code != 1 || !strings.Contains(errOut3.String(), "GOOGLE_CLOUD_PROJECT") ||
		strings.Contains(out3.String(), "demo-") {
		t.Errorf("hearth config (no project) = %d, %q; want 1 asking for GOOGLE_CLOUD_PROJECT, and no demo project in\n%s", code, errOut3.String(), out3.String())
	}
}
