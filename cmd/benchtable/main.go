// Command benchtable turns `go test -bench` output into the table of
// docs/performance.md: for every figure, the median of its runs (-count N),
// the goal and whether the median meets it. `make bench` pipes the benchmarks
// into it:
//
//	go test -run '^$' -bench ... -count 5 ./... | go run ./cmd/benchtable
//
// It reads standard input, copies it to standard error (so a run stays
// visible), and prints the table on standard output. A figure whose benchmark
// did not run is listed as "not run".
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// figure is one row of the table: a metric of a benchmark, and its goal.
type figure struct {
	name      string // what is measured
	bench     string // benchmark name without the -GOMAXPROCS suffix
	unit      string // metric unit as the benchmark reports it
	goal      string // as written in the table
	meets     func(v float64) bool
	precision int
}

func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
func atMost(x float64) func(float64) bool  { return func(v float64) bool { return v <= x } }

// figures are the rows of docs/performance.md, in its order.
var figures = []figure{
	{"POST /v1/uploads through the router, 16 clients", "BenchmarkUploadRouteParallel", "uploads/s", "≥ 500/s", atLeast(500), 0},
	{"POST /v1/uploads, one at a time (latency)", "BenchmarkUploadRoute", "ms/upload", "—", nil, 1},
	{"GET /v1/me vs /healthz, HTTP loopback (throughput ratio)", "BenchmarkAPI/http-paired", "me/healthz", "≥ 0.90", atLeast(0.90), 2},
	{"GET /v1/me vs /healthz, in process (throughput ratio)", "BenchmarkAPI/paired", "me/healthz", "≥ 0.70", atLeast(0.70), 2},
	{"message → inbox vs write → listener floor, p50 (ratio)", "BenchmarkInboxLatency", "p50-ratio", "≤ 2.0", atMost(2.0), 2},
	{"message → inbox vs write → listener floor, p99 (ratio)", "BenchmarkInboxLatency", "p99-ratio", "≤ 2.0", atMost(2.0), 2},
	{"message → inbox, p50 (ms)", "BenchmarkInboxLatency", "inbox-p50-ms", "—", nil, 1},
	{"write → listener floor, p50 (ms)", "BenchmarkInboxLatency", "listener-p50-ms", "—", nil, 1},
	{"10k-device fan-out, 2 ms simulated RTT (ms)", "BenchmarkFanout10k/rtt=2ms", "fanout-ms", "≤ 1000 ms", atMost(1000), 0},
	{"10k-device fan-out vs naive sender, 2 ms RTT (speed-up)", "BenchmarkFanout10k/rtt=2ms", "speedup-x", "—", nil, 1},
	{"message in a room of 1,000 → every inbox, p99 (ms)", "BenchmarkLargeRoom/members=1000", "p99-ms", "≤ 3000 ms", atMost(3000), 0},
	{"message in a room of 1,000: document writes per member", "BenchmarkLargeRoom/members=1000", "writes/member/msg", "≤ 1.1", atMost(1.1), 2},
	{"message in a room of 1,000: document reads per member", "BenchmarkLargeRoom/members=1000", "reads/member/msg", "≤ 1.1", atMost(1.1), 2},
	{"burst of 20 in a room of 1,000: writes per member", "BenchmarkLargeRoom/members=1000", "burst-writes/member", "≤ 3", atMost(3), 1},
	{"message in a room of 100 → every inbox, p99 (ms)", "BenchmarkLargeRoom/members=100", "p99-ms", "—", nil, 0},
	{"message in a room of 5 → every inbox, p99 (ms)", "BenchmarkLargeRoom/members=5", "p99-ms", "—", nil, 0},
	{"revocation reaches another instance (median ms)", "BenchmarkRevocationPropagation", "other-instance-ms", "—", nil, 0},
	{"burst: every count and badge exact after the burst's end (ms)", "BenchmarkBurst", "converge-ms", "≤ 10000 ms", atMost(10000), 0},
	{"burst: the emulator's last delivery after the burst's end, no-op handler (floor, ms)", "BenchmarkBurst", "floor-ms", "—", nil, 0},
	{"burst: convergence vs the floor (ratio)", "BenchmarkBurst", "converge-over-floor", "—", nil, 1},
	{"burst: messages absorbed per second (burst start → exact)", "BenchmarkBurst", "absorbed-msg/s", "—", nil, 0},
}

// breakdown are the parts of the inbox latency (BenchmarkInboxLatency), in ms.
var breakdown = []string{"deliver-ms", "pickup-ms", "reads-ms", "queries-ms", "commit-ms", "between-ms", "listen-ms"}

// resultLine is "BenchmarkName-2   	  300	  17229723 ns/op	  58.04 uploads/s ...".
var resultLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// results maps benchmark → unit → the values of its runs.
type results map[string]map[string][]float64

func parse(r io.Reader, echo io.Writer) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if echo != nil {
			fmt.Fprintln(echo, line)
		}
		m := resultLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		if len(f)%2 != 0 {
			continue // not a result line after all
		}
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if res[m[1]] == nil {
				res[m[1]] = map[string][]float64{}
			}
			res[m[1]][f[i+1]] = append(res[m[1]][f[i+1]], v)
		}
	}
	return res, sc.Err()
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// table writes the markdown table of res.
func table(w io.Writer, res results) {
	fmt.Fprintln(w, "| figure | benchmark (metric) | goal | median | runs | meets |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, f := range figures {
		vs := res[f.bench][f.unit]
		if len(vs) == 0 {
			fmt.Fprintf(w, "| %s | `%s` (%s) | %s | not run | 0 | |\n", f.name, f.bench, f.unit, f.goal)
			continue
		}
		med := median(vs)
		verdict := ""
		if f.meets != nil {
			verdict = "no"
			if f.meets(med) {
				verdict = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | `%s` (%s) | %s | %.*f | %d | %s |\n", f.name, f.bench, f.unit, f.goal, f.precision, med, len(vs), verdict)
	}
	inbox := res["BenchmarkInboxLatency"]
	if len(inbox["deliver-ms"]) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Where message → inbox goes (BenchmarkInboxLatency, ms, median of the runs' medians):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| "+strings.Join(breakdown, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(breakdown)))
	var cells []string
	for _, k := range breakdown {
		if vs := inbox[k]; len(vs) > 0 {
			cells = append(cells, strconv.FormatFloat(median(vs), 'f', 1, 64))
		} else {
			cells = append(cells, "—")
		}
	}
	fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
}

func main() {
	res, err := parse(os.Stdin, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(res) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on standard input")
		os.Exit(1)
	}
	table(os.Stdout, res)
}
