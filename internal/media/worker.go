package media

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// The media worker. Decoding, cleaning and thumbnailing an upload run in a child
// process: the binary that embeds this package (hearth, or a test binary) started
// again with HEARTH_MEDIA_WORKER set in its environment. The child applies its
// resource limits to itself (setrlimit: address space, CPU seconds, no files, no
// core dumps) before it reads a byte of the upload, processes one job from stdin and
// writes one framed result to stdout. The parent kills it at a wall-clock deadline.
// Whatever the file does to the child (a decoder bug, a runaway allocation, hours of
// CPU), the service loses one child process, and the upload is rejected as
// too-complex.
//
// The protocol (all integers big-endian):
//
//	request:  "HMW1" | op (u8 length, bytes) | content type (u8 length, bytes) | data (u64 length, bytes)
//	response: "HMR1" | status u8 (0 ok, 1 rejected) | reason (u8 length) | message (u16 length)
//	          | width u32 | height u32 | stored (u64 length, bytes; length 2^64-1: keep the upload)
//	          | thumbnail (u64 length, bytes) | rendition (u64 length, bytes)
//	          | peak resident memory of the child (u64 bytes; 0 when unknown)
//
// The request comes on stdin, the response goes to file descriptor 3 (a pipe the
// parent passes): stdout and stderr are only logged, so nothing a library prints
// (libheif's WebAssembly module writes to stdout) can corrupt an answer.
//
// op names what the child does with the bytes: "image" (processImage). Other kinds
// of media can add an op (workerOps) and run in the worker the same way.

const (
	// workerEnv, set in a child's environment, makes this package's init run the
	// worker instead of the program. Its value is the limits (workerLimits.encode).
	workerEnv = "HEARTH_MEDIA_WORKER"

	workerRequestMagic  = "HMW1"
	workerResponseMagic = "HMR1"

	// opImage checks, cleans and thumbnails an image (processImage).
	opImage = "image"

	// workerExitLimits is the child's exit code when it cannot apply its limits.
	workerExitLimits = 3
	// workerExitProtocol is the child's exit code for a request it cannot read.
	workerExitProtocol = 4

	// maxWorkerInput bounds the data of one job the child reads.
	maxWorkerInput = model.MaxImageSize
	// maxWorkerOutput bounds what the parent reads back: a re-encoded image is at
	// most its raw pixels plus framing, and a thumbnail is small.
	maxWorkerOutput = MaxDecodedBytes + 16<<20
	// maxWorkerStderr is how much of a child's stderr is kept for the log.
	maxWorkerStderr = 4 << 10

	// keepUpload is the stored length that means "keep the upload as is".
	keepUpload = ^uint64(0)
)

// workerOps are the jobs a child can do.
var workerOps = map[string]func(contentType string, data []byte) (imageOutput, error){
	opImage: processImage,
}

func init() {
	if v, ok := os.LookupEnv(workerEnv); ok {
		os.Exit(serveWorker(v, os.Stdin, os.NewFile(3, "media-worker-result"), os.Stderr))
	}
}

// workerLimits are the resource limits of one child.
type workerLimits struct {
	// Memory is the address space in bytes the child may add to what it holds when
	// it starts (RLIMIT_AS; Linux only): see DefaultWorkerMemory.
	Memory int64
	// CPU is the CPU-time limit (RLIMIT_CPU, whole seconds, at least 1).
	CPU time.Duration
}

func (l workerLimits) encode() string {
	return fmt.Sprintf("as=%d,cpu=%d", l.Memory, int64((l.CPU+time.Second-1)/time.Second))
}

func decodeWorkerLimits(s string) (workerLimits, error) {
	var l workerLimits
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return l, fmt.Errorf("worker limits %q: bad %s", s, k)
		}
		switch k {
		case "as":
			l.Memory = n
		case "cpu":
			l.CPU = time.Duration(n) * time.Second
		default:
			return l, fmt.Errorf("worker limits %q: unknown %s", s, k)
		}
	}
	if l.Memory == 0 || l.CPU == 0 {
		return l, fmt.Errorf("worker limits %q: want as and cpu", s)
	}
	return l, nil
}

// serveWorker is the child: limits first, then one job from in to out. It returns
// the exit code.
func serveWorker(limits string, in io.Reader, out, errOut io.Writer) int {
	l, err := decodeWorkerLimits(limits)
	if err == nil {
		err = applyWorkerLimits(l)
	}
	if err != nil {
		fmt.Fprintln(errOut, "media worker: cannot apply limits:", err)
		return workerExitLimits
	}
	br := bufio.NewReader(in)
	op, contentType, n, err := readWorkerHeader(br)
	if err == nil && op == opClean {
		return serveClean(br, contentType, n, out, errOut) // a stream, not a buffer
	}
	var data []byte
	if err == nil {
		data, err = readWorkerData(br, n)
	}
	if err != nil {
		fmt.Fprintln(errOut, "media worker:", err)
		return workerExitProtocol
	}
	run, ok := workerOps[op]
	if !ok {
		fmt.Fprintf(errOut, "media worker: unknown op %q\n", op)
		return workerExitProtocol
	}
	res, err := run(contentType, data)
	w := bufio.NewWriter(out)
	if err := writeWorkerResponse(w, res, err, peakRSS()); err != nil {
		fmt.Fprintln(errOut, "media worker:", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(errOut, "media worker: write result:", err)
		return 1
	}
	return 0
}

func writeWorkerRequest(w io.Writer, op, contentType string, data []byte) error {
	if err := writeWorkerHeader(w, op, contentType, uint64(len(data))); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// writeWorkerHeader writes a request up to its data, which is n bytes long.
func writeWorkerHeader(w io.Writer, op, contentType string, n uint64) error {
	if len(op) > 255 || len(contentType) > 255 {
		return errors.New("op or content type too long")
	}
	var hdr []byte
	hdr = append(hdr, workerRequestMagic...)
	hdr = append(hdr, byte(len(op)))
	hdr = append(hdr, op...)
	hdr = append(hdr, byte(len(contentType)))
	hdr = append(hdr, contentType...)
	hdr = binary.BigEndian.AppendUint64(hdr, n)
	_, err := w.Write(hdr)
	return err
}

func readWorkerRequest(r *bufio.Reader) (op, contentType string, data []byte, err error) {
	op, contentType, n, err := readWorkerHeader(r)
	if err != nil {
		return "", "", nil, err
	}
	data, err = readWorkerData(r, n)
	return op, contentType, data, err
}

// readWorkerData reads a request's n bytes of data, at most maxWorkerInput.
func readWorkerData(r *bufio.Reader, n uint64) ([]byte, error) {
	if n > uint64(maxWorkerInput) {
		return nil, fmt.Errorf("request of %d bytes > %d", n, maxWorkerInput)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("read request data: %w", err)
	}
	return data, nil
}

// readWorkerHeader reads a request up to its data: the op, the content type and the
// data's length.
func readWorkerHeader(r *bufio.Reader) (op, contentType string, n uint64, err error) {
	magic := make([]byte, 4)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != workerRequestMagic {
		return "", "", 0, fmt.Errorf("read request: bad magic (%v)", err)
	}
	str := func() (string, error) {
		n, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err
	}
	if op, err = str(); err != nil {
		return "", "", 0, fmt.Errorf("read request op: %w", err)
	}
	if contentType, err = str(); err != nil {
		return "", "", 0, fmt.Errorf("read request type: %w", err)
	}
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return "", "", 0, fmt.Errorf("read request length: %w", err)
	}
	return op, contentType, n, nil
}

// writeWorkerResponse frames the result of a job: res, or the rejection in jobErr.
// Any other error is reported as a rejection too: the parent cannot do better with it
// than the child (the child has no storage or database to retry against).
func writeWorkerResponse(w io.Writer, res imageOutput, jobErr error, peak int64) error {
	var hdr []byte
	hdr = append(hdr, workerResponseMagic...)
	if jobErr != nil {
		reason := RejectUndecodable
		var rej *rejectError
		if errors.As(jobErr, &rej) {
			reason = rej.reason
		}
		msg := jobErr.Error()
		if len(msg) > 1024 {
			msg = msg[:1024]
		}
		hdr = append(hdr, 1, byte(len(reason)))
		hdr = append(hdr, reason...)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(msg)))
		hdr = append(hdr, msg...)
		hdr = append(hdr, make([]byte, 8+8+8+8)...) // no size, stored, thumbnail, rendition
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(max(peak, 0)))
		_, err := w.Write(hdr)
		return err
	}
	hdr = append(hdr, 0, 0, 0, 0)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(res.Width))
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(res.Height))
	if res.Stored == nil {
		hdr = binary.BigEndian.AppendUint64(hdr, keepUpload)
	} else {
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(len(res.Stored)))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	if _, err := w.Write(res.Stored); err != nil {
		return err
	}
	for _, part := range [][]byte{res.Thumb, res.Rendition} {
		if _, err := w.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part)))); err != nil {
			return err
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	_, err := w.Write(binary.BigEndian.AppendUint64(nil, uint64(max(peak, 0))))
	return err
}

// errWorkerProtocol: the child's answer is not a well-formed response.
var errWorkerProtocol = errors.New("malformed worker response")

// readWorkerResponse reads one response, allocating at most maxOut bytes of payload.
func readWorkerResponse(r io.Reader, maxOut int64) (imageOutput, error) {
	out, _, err := readWorkerResponsePeak(r, maxOut)
	return out, err
}

// readWorkerResponsePeak is readWorkerResponse, with the child's own report of its
// peak resident memory.
func readWorkerResponsePeak(r io.Reader, maxOut int64) (imageOutput, int64, error) {
	var peak uint64
	out, err := readResponseBody(r, maxOut, &peak)
	return out, int64(min(peak, 1<<62)), err
}

func readResponseBody(r io.Reader, maxOut int64, peak *uint64) (imageOutput, error) {
	var out imageOutput
	br := bufio.NewReader(io.LimitReader(r, maxOut+64<<10))
	bad := func(what string) (imageOutput, error) {
		return imageOutput{}, fmt.Errorf("%s: %w", what, errWorkerProtocol)
	}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != workerResponseMagic {
		return bad("magic")
	}
	status, err1 := br.ReadByte()
	rl, err2 := br.ReadByte()
	if err1 != nil || err2 != nil || status > 1 {
		return bad("status")
	}
	reason := make([]byte, rl)
	var ml uint16
	if _, err := io.ReadFull(br, reason); err != nil {
		return bad("reason")
	}
	if err := binary.Read(br, binary.BigEndian, &ml); err != nil {
		return bad("message length")
	}
	msg := make([]byte, ml)
	var w, h uint32
	var sl uint64
	if _, err := io.ReadFull(br, msg); err != nil {
		return bad("message")
	}
	if binary.Read(br, binary.BigEndian, &w) != nil || binary.Read(br, binary.BigEndian, &h) != nil ||
		binary.Read(br, binary.BigEndian, &sl) != nil {
		return bad("size")
	}
	if status == 1 {
		if !knownReason(RejectReason(reason)) {
			return bad("reason " + strconv.Quote(string(reason)))
		}
		var skip [8 * 2]byte // thumbnail and rendition lengths (0)
		if _, err := io.ReadFull(br, skip[:]); err != nil || binary.Read(br, binary.BigEndian, peak) != nil {
			return bad("peak")
		}
		return out, &rejectError{reason: RejectReason(reason), err: errors.New(string(msg))}
	}
	if w > MaxSide || h > MaxSide*4 {
		return bad("size")
	}
	out.Width, out.Height = int(w), int(h)
	budget := uint64(maxOut)
	readPart := func(n uint64) ([]byte, bool) {
		if n > budget {
			return nil, false
		}
		budget -= n
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		return b, err == nil
	}
	if sl != keepUpload {
		var ok bool
		if out.Stored, ok = readPart(sl); !ok {
			return bad("stored copy")
		}
	}
	for _, part := range []*[]byte{&out.Thumb, &out.Rendition} {
		var n uint64
		if binary.Read(br, binary.BigEndian, &n) != nil {
			return bad("part length")
		}
		if n > 0 {
			var ok bool
			if *part, ok = readPart(n); !ok {
				return bad("part")
			}
		}
	}
	if binary.Read(br, binary.BigEndian, peak) != nil {
		return bad("peak")
	}
	return out, nil
}

// knownReason reports whether r is a reason a worker may give.
func knownReason(r RejectReason) bool {
	switch r {
	case RejectTypeMismatch, RejectSizeMismatch, RejectTooManyPixels, RejectUndecodable,
		RejectMetadata, RejectMalformed, RejectTooComplex:
		return true
	}
	return false
}

// worker starts children to run jobs.
type worker struct {
	path   string        // the executable
	limits workerLimits  // applied by the child to itself
	wall   time.Duration // the child is killed after this long
	// killed, when set, is told of each child that died without an answer: reason
	// timeout (killed at wall), signal (killed by a signal: its CPU or memory limit, or
	// the kernel) or exit (exited without a well-formed answer).
	killed func(reason string)
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// run does op on data in a new child. A child that exits without a well-formed
// answer (killed at the deadline, over its CPU or memory limit, crashed) rejects the
// upload as too-complex; a child that cannot be started, or a ctx that ends, is an
// error to retry.
func (w *worker) run(ctx context.Context, op, contentType string, data []byte) (imageOutput, error) {
	out, _, err := w.runStats(ctx, op, contentType, data)
	return out, err
}

// workerStats is what one child used, from its rusage.
type workerStats struct {
	MaxRSS int64         // peak resident memory, bytes
	CPU    time.Duration // user + system time
	Wall   time.Duration
}

// stats reads the child's rusage from its process state.
func stats(cmd *exec.Cmd, start time.Time) workerStats {
	st := workerStats{Wall: time.Since(start)}
	if ps := cmd.ProcessState; ps != nil {
		st.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			st.MaxRSS = maxRSSBytes(ru)
		}
	}
	return st
}

// runStats is run, with what the child used (zero when none was started).
func (w *worker) runStats(ctx context.Context, op, contentType string, data []byte) (imageOutput, workerStats, error) {
	var cmd *exec.Cmd
	var start time.Time
	var peak int64
	out, err := w.runChild(ctx, op, contentType, data, &cmd, &start, &peak)
	if cmd == nil {
		return out, workerStats{}, err
	}
	st := stats(cmd, start)
	if peak > 0 {
		// The child's own high-water mark: Linux's ru_maxrss of a child also counts
		// the parent's resident memory at fork time.
		st.MaxRSS = peak
	}
	return out, st, err
}

// runChild does the work of run and reports the child it started in cmdOut.
func (w *worker) runChild(ctx context.Context, op, contentType string, data []byte, cmdOut **exec.Cmd, startOut *time.Time, peakOut *int64) (imageOutput, error) {
	if err := ctx.Err(); err != nil {
		return imageOutput{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, w.wall)
	defer cancel()
	cmd, stderr := w.command(wctx)
	var req bytes.Buffer
	req.Grow(len(data) + 600)
	if err := writeWorkerRequest(&req, op, contentType, data); err != nil {
		return imageOutput{}, fmt.Errorf("media worker request: %w", err)
	}
	cmd.Stdin = &req
	result, resultW, err := os.Pipe()
	if err != nil {
		return imageOutput{}, fmt.Errorf("media worker: %w", err)
	}
	defer result.Close()
	cmd.ExtraFiles = []*os.File{resultW} // fd 3 in the child
	start := time.Now()
	err = cmd.Start()
	resultW.Close() // the child has its copy; EOF when it exits
	if err != nil {
		return imageOutput{}, fmt.Errorf("start media worker %s: %w", w.path, err)
	}
	*cmdOut, *startOut = cmd, start
	res, peak, rerr := readWorkerResponsePeak(result, maxWorkerOutput)
	*peakOut = peak
	if rerr != nil && !errors.As(rerr, new(*rejectError)) {
		// A bad or missing answer: the child is dead or misbehaving; make sure.
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return imageOutput{}, ctx.Err() // shutting down: the event is redelivered
	}
	if rerr == nil || errors.As(rerr, new(*rejectError)) {
		if werr == nil {
			return res, rerr
		}
	}
	// The child died or answered nonsense: the file's fault, unless it never got
	// to apply its limits.
	st := exitStatus(werr)
	if code, ok := exitCode(werr); ok && code == workerExitLimits {
		return imageOutput{}, fmt.Errorf("media worker cannot apply its limits: %s", strings.TrimSpace(stderr.buf.String()))
	}
	why := fmt.Sprintf("media worker %s after %s", st, time.Since(start).Round(time.Millisecond))
	reason := killReason(werr)
	if wctx.Err() != nil {
		why = fmt.Sprintf("media worker killed at the %s deadline", w.wall)
		reason = killTimeout
	}
	if w.killed != nil {
		w.killed(reason)
	}
	if tail := strings.TrimSpace(stderr.buf.String()); tail != "" {
		first, _, _ := strings.Cut(tail, "\n")
		why += ": " + first
	}
	return imageOutput{}, reject(RejectTooComplex, "%s", why)
}

// command is a child to be started under ctx (killed when it ends), its stdout and
// stderr kept (the first maxWorkerStderr bytes) for the log.
func (w *worker) command(ctx context.Context) (*exec.Cmd, *limitedBuffer) {
	cmd := exec.CommandContext(ctx, w.path) //nolint:gosec // our own executable
	// A clean environment: no credentials or emulator hosts reach the child. One
	// core (GOMAXPROCS) and a soft heap goal below the hard limit (GOMEMLIMIT), so
	// the collector works harder before the address space runs out.
	cmd.Env = []string{
		workerEnv + "=" + w.limits.encode(),
		"GOMAXPROCS=1",
		"GOTRACEBACK=single",
		"GOMEMLIMIT=" + strconv.FormatInt(goMemLimit(w.limits.Memory), 10),
	}
	stderr := &limitedBuffer{max: maxWorkerStderr}
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	cmd.WaitDelay = time.Second
	return cmd, stderr
}

// goMemLimit is the soft heap goal of a child that may map budget more bytes: the
// collector works harder as the heap nears it, well before the hard limit.
func goMemLimit(budget int64) int64 {
	return budget * 3 / 4
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err == nil {
			return "answered nonsense"
		}
		return err.Error()
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exited with code %d", ee.ExitCode())
}

// Reasons a child died without an answer (label reason of hearth_media_worker_kills_total).
const (
	killTimeout = "timeout"
	killSignal  = "signal"
	killExit    = "exit"
)

// killReason classifies the Wait error of a child that gave no answer (not at its deadline).
func killReason(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return killSignal
		}
	}
	return killExit
}

func exitCode(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitCode(), true
	}
	return 0, false
}
