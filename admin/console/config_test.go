package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/admin/console"
)

// TestConsoleAuthProxy: an Auth proxy origin goes into config.json and the
// CSP's connect-src in place of Google's hosts; anything but a plain
// http(s) origin is refused, since it lands in a response header.
func TestConsoleAuthProxy(t *testing.T) {
	t.Parallel()
	h, err := console.New(console.Config{ProjectID: "p", APIKey: "k", AuthProxyURL: "https://auth.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/config.json", nil))
	if body := rec.Body.String(); !strings.Contains(body, `"identityToolkit":"https://auth.example.com/identitytoolkit.googleapis.com"`) ||
		!strings.Contains(body, `"emulator":false`) {
		t.Errorf("config.json = %s", body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://auth.example.com;") {
		t.Errorf("CSP = %q", csp)
	}
	for _, bad := range []string{
		"https://auth.example.com; script-src *", "https://auth.example.com/path", "javascript:alert(1)",
		"auth.example.com", "https://auth.example.com?x=1", "https://u:p@auth.example.com", "https://a.example.com 'unsafe-inline'",
	} {
		if _, err := console.New(console.Config{ProjectID: "p", AuthProxyURL: bad}); err == nil {
			t.Errorf("AuthProxyURL %q: no error", bad)
		}
	}
}
