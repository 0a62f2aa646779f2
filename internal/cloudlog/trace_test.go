package cloudlog

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTraceFromHeader(t *testing.T) {
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		name        string
		traceparent string
		cloud       string
		want        Trace
		ok          bool
	}{
		{"traceparent sampled", "00-" + tid + "-00f067aa0ba902b7-01", "", Trace{tid, "00f067aa0ba902b7", true}, true},
		{"traceparent wins", "00-" + tid + "-00f067aa0ba902b7-00", "11111111111111111111111111111111/1;o=1", Trace{tid, "00f067aa0ba902b7", false}, true},
		{"future version with extra field", "01-" + tid + "-00f067aa0ba902b7-01-extra", "", Trace{tid, "00f067aa0ba902b7", true}, true},
		{"cloud trace", "", "105445aa7843bc8bf206b12000100000/1234567890123456789;o=1", Trace{"105445aa7843bc8bf206b12000100000", "112210f47de98115", true}, true},
		{"cloud trace upper case, no span", "", "105445AA7843BC8BF206B12000100000", Trace{"105445aa7843bc8bf206b12000100000", "", false}, true},
		{"bad traceparent falls back", "00-" + tid + "-00f067aa0ba902b7", "105445aa7843bc8bf206b12000100000/5;o=0", Trace{"105445aa7843bc8bf206b12000100000", "0000000000000005", false}, true},
		{"version ff", "ff-" + tid + "-00f067aa0ba902b7-01", "", Trace{}, false},
		{"version 00 with extra", "00-" + tid + "-00f067aa0ba902b7-01-x", "", Trace{}, false},
		{"zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", Trace{}, false},
		{"zero span id", "00-" + tid + "-0000000000000000-01", "", Trace{}, false},
		{"upper case traceparent", "00-" + strings.ToUpper(tid) + "-00f067aa0ba902b7-01", "", Trace{}, false},
		{"quote injection", "00-" + tid[:31] + "\"-00f067aa0ba902b7-01", "", Trace{}, false},
		{"cloud span not a number", "", tid + "/abc;o=1", Trace{}, false},
		{"cloud span overflows", "", tid + "/99999999999999999999999", Trace{}, false},
		{"cloud short id", "", "abc/1", Trace{}, false},
		{"huge header", strings.Repeat("0", 1<<16), strings.Repeat("a", 1<<16), Trace{}, false},
		{"nothing", "", "", Trace{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.traceparent != "" {
				h.Set("traceparent", tt.traceparent)
			}
			if tt.cloud != "" {
				h.Set("X-Cloud-Trace-Context", tt.cloud)
			}
			got, ok := TraceFromHeader(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("TraceFromHeader(%q, %q) = %+v, %v; want %+v, %v", tt.traceparent, tt.cloud, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	var got Trace
	var ok bool
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = TraceFromContext(r.Context())
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/16;o=1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if want := (Trace{"105445aa7843bc8bf206b12000100000", "0000000000000010", true}); !ok || got != want {
		t.Errorf("trace in handler = %+v, %v; want %+v", got, ok, want)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if ok {
		t.Errorf("trace without headers = %+v, want none", got)
	}
}
