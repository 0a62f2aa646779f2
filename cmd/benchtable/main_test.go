package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkUploadRouteParallel-2   	    1460	   2143669 ns/op	       466.5 uploads/s
BenchmarkUploadRouteParallel-2   	    1464	   1711331 ns/op	       584.3 uploads/s
BenchmarkUploadRouteParallel-2   	    1464	   1711331 ns/op	       520.0 uploads/s
BenchmarkAPI/paired-2         	   13798	    116040 ns/op	      3917 healthz-p50-ns	      8266 me-p50-ns	         0.4739 me/healthz
BenchmarkAPI/paired-2         	   13798	    116040 ns/op	      3917 healthz-p50-ns	      8266 me-p50-ns	         0.7500 me/healthz
BenchmarkBurst-2   	       1	21130136487 ns/op	        11.12 absorbed-msg/s	      3249 converge-ms	        18.57 converge-over-floor	      3074 extra-ms	       174.9 floor-ms	        27.95 offered-msg/s
BenchmarkBurst-2   	       1	21130136487 ns/op	        13.00 absorbed-msg/s	     12000 converge-ms	        20.00 converge-over-floor	      3074 extra-ms	       200.0 floor-ms	        27.95 offered-msg/s
BenchmarkBurst-2   	       1	21130136487 ns/op	        15.00 absorbed-msg/s	      2000 converge-ms	        10.00 converge-over-floor	      3074 extra-ms	       150.0 floor-ms	        27.95 offered-msg/s
BenchmarkInboxLatency-2   	      60	  73983599 ns/op	        18.28 deliver-ms	 3.8 p50-ratio	 1.4 p99-ratio
--- BENCH: BenchmarkInboxLatency-2
    bench_test.go:188: only 60 messages
PASS
`

func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sample), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res["BenchmarkUploadRouteParallel"]["uploads/s"]; len(got) != 3 {
		t.Fatalf("uploads/s runs = %v, want 3", got)
	}
	var out strings.Builder
	table(&out, res)
	for _, want := range []string{
		"| POST /v1/uploads through the router, 16 clients | `BenchmarkUploadRouteParallel` (uploads/s) | ≥ 500/s | 520 | 3 | yes |",
		"| GET /v1/me vs /healthz, in process (throughput ratio) | `BenchmarkAPI/paired` (me/healthz) | ≥ 0.70 | 0.61 | 2 | no |",
		"| message → inbox vs write → listener floor, p50 (ratio) | `BenchmarkInboxLatency` (p50-ratio) | ≤ 2.0 | 3.80 | 1 | no |",
		"| message → inbox vs write → listener floor, p99 (ratio) | `BenchmarkInboxLatency` (p99-ratio) | ≤ 2.0 | 1.40 | 1 | yes |",
		"| 10k-device fan-out, 2 ms simulated RTT (ms) | `BenchmarkFanout10k/rtt=2ms` (fanout-ms) | ≤ 1000 ms | not run | 0 | |",
		"| 18.3 | — |",
		"| burst: every count and badge exact after the burst's end (ms) | `BenchmarkBurst` (converge-ms) | ≤ 10000 ms | 3249 | 3 | yes |",
		"| burst: the emulator's last delivery after the burst's end, no-op handler (floor, ms) | `BenchmarkBurst` (floor-ms) | — | 175 | 3 |  |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
