package media

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// Cleaning a video or an MP3 in the media worker. A video can be 200 MiB, more than
// an image job hands the child in one buffer, so this op streams: the request's
// data follows its header on stdin, and the child answers on file descriptor 3 with
// the cleaned copy in frames, then the outcome:
//
//	"HMC1"
//	frames:  u32 length (1 .. maxCleanFrame), that many bytes; a length of 0 ends them
//	outcome: u8 kind (0 cleaned, 1 rejected), u8 changed,
//	         u16 length + reason, u16 length + message (for a rejection)
//
// The child runs cleanOpaque under the same limits as an image job; the parent
// copies the frames into its destination (a hash, or the storage writer), at most
// the input's size in all.

const (
	// opClean strips the metadata of a video or MP3 (cleanOpaque), streamed.
	opClean = "clean"

	workerCleanMagic = "HMC1"
	// maxCleanFrame bounds one frame of the cleaned copy.
	maxCleanFrame = 1 << 20
	// maxCleanInput bounds what a clean job streams: the largest video or audio.
	maxCleanInput = max(model.MaxVideoSize, model.MaxAudioSize)
)

// serveClean is the child's side of a clean job of n bytes of contentType, read from
// in. It returns the exit code.
func serveClean(in *bufio.Reader, contentType string, n uint64, out, errOut io.Writer) int {
	if n > uint64(maxCleanInput) {
		fmt.Fprintf(errOut, "media worker: clean job of %d bytes > %d\n", n, maxCleanInput)
		return workerExitProtocol
	}
	w := bufio.NewWriterSize(out, 64<<10)
	w.WriteString(workerCleanMagic)
	changed, err := cleanOpaque(&frameWriter{w: w}, contentType, io.LimitReader(in, int64(n)), int64(n))
	var rej *rejectError
	if err != nil && !errors.As(err, &rej) {
		// Not the file's fault (the parent stopped sending): no outcome, exit 1.
		fmt.Fprintln(errOut, "media worker:", err)
		return 1
	}
	w.Write([]byte{0, 0, 0, 0})
	var o []byte
	if rej != nil {
		reason, msg := trimTo(string(rej.reason), 255), trimTo(rej.err.Error(), 1024)
		o = append(o, 1, 0)
		o = binary.BigEndian.AppendUint16(o, uint16(len(reason)))
		o = append(o, reason...)
		o = binary.BigEndian.AppendUint16(o, uint16(len(msg)))
		o = append(o, msg...)
	} else {
		o = append(o, 0, boolByte(changed), 0, 0, 0, 0)
	}
	w.Write(o)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(errOut, "media worker: write result:", err)
		return 1
	}
	return 0
}

// frameWriter writes what it is given as frames of at most maxCleanFrame bytes.
type frameWriter struct{ w io.Writer }

func (f *frameWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := min(len(p), maxCleanFrame)
		if _, err := f.w.Write(binary.BigEndian.AppendUint32(nil, uint32(k))); err != nil {
			return written, err
		}
		if _, err := f.w.Write(p[:k]); err != nil {
			return written, err
		}
		written += k
		p = p[k:]
	}
	return written, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// errCleanDestination marks a failed write to the parent's destination: not the
// file's fault, so the event is retried.
var errCleanDestination = errors.New("write the cleaned copy")

// clean runs cleanOpaque in a child: the size bytes of src go to the child, the
// cleaned copy to dst. A child that dies, runs out of its limits, misses the deadline
// or answers more than size bytes rejects the file as too-complex; a failure to read
// src or write dst, a child that cannot start, or the end of ctx is an error to retry.
func (w *worker) clean(ctx context.Context, dst io.Writer, sniffed string, src io.Reader, size int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if size < 0 || size > maxCleanInput {
		return false, reject(RejectSizeMismatch, "%d bytes > %d", size, maxCleanInput)
	}
	wctx, cancel := context.WithTimeout(ctx, w.wall)
	defer cancel()
	cmd, stderr := w.command(wctx)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return false, fmt.Errorf("media worker: %w", err)
	}
	result, resultW, err := os.Pipe()
	if err != nil {
		return false, fmt.Errorf("media worker: %w", err)
	}
	defer result.Close()
	cmd.ExtraFiles = []*os.File{resultW} // fd 3 in the child
	start := time.Now()
	err = cmd.Start()
	resultW.Close()
	if err != nil {
		return false, fmt.Errorf("start media worker %s: %w", w.path, err)
	}
	// The upload goes in while the copy comes out. The outcome is sent before stdin
	// is closed, so a child that stops because its input ended finds it there.
	sent := make(chan error, 1)
	go func() {
		err := writeWorkerHeader(stdin, opClean, sniffed, uint64(size))
		if err == nil {
			_, err = io.CopyN(stdin, src, size)
		}
		sent <- err
		stdin.Close()
	}()
	changed, rerr := readCleanResponse(result, dst, size)
	if rerr != nil && !errors.As(rerr, new(*rejectError)) {
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(rerr, errCleanDestination) {
		return false, rerr
	}
	if werr == nil && (rerr == nil || errors.As(rerr, new(*rejectError))) {
		return changed, rerr
	}
	select {
	case err := <-sent:
		if err != nil && !errors.Is(err, os.ErrClosed) && !isBrokenPipe(err) {
			return false, fmt.Errorf("media worker: send the upload: %w", err)
		}
	default: // still sending (the child died first): the child's failure decides
	}
	why := fmt.Sprintf("media worker %s after %s", exitStatus(werr), time.Since(start).Round(time.Millisecond))
	if wctx.Err() != nil {
		why = fmt.Sprintf("media worker killed at the %s deadline", w.wall)
	} else if rerr != nil {
		why += ": " + rerr.Error()
	}
	if tail := strings.TrimSpace(stderr.buf.String()); tail != "" {
		first, _, _ := strings.Cut(tail, "\n")
		why += ": " + first
	}
	return false, reject(RejectTooComplex, "%s", why)
}

// readCleanResponse copies the frames of a clean job's answer into dst, at most max
// bytes in all, and returns its outcome: whether anything was removed, or the
// rejection. errCleanDestination wraps a failed write to dst; any other error is a
// malformed answer.
func readCleanResponse(r io.Reader, dst io.Writer, max int64) (bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(workerCleanMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != workerCleanMagic {
		return false, fmt.Errorf("%w: no clean answer (%v)", errWorkerProtocol, err)
	}
	var total int64
	for {
		var n uint32
		if err := binary.Read(br, binary.BigEndian, &n); err != nil {
			return false, fmt.Errorf("%w: frame: %v", errWorkerProtocol, err)
		}
		if n == 0 {
			break
		}
		if n > maxCleanFrame || total+int64(n) > max {
			return false, fmt.Errorf("%w: a frame of %d bytes after %d, more than the %d of the input", errWorkerProtocol, n, total, max)
		}
		if _, err := io.CopyN(dst, br, int64(n)); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return false, fmt.Errorf("%w: frame cut short", errWorkerProtocol)
			}
			return false, fmt.Errorf("%w: %w", errCleanDestination, err)
		}
		total += int64(n)
	}
	var kind [2]byte
	if _, err := io.ReadFull(br, kind[:]); err != nil {
		return false, fmt.Errorf("%w: outcome: %v", errWorkerProtocol, err)
	}
	str := func() (string, error) {
		var n uint16
		if err := binary.Read(br, binary.BigEndian, &n); err != nil {
			return "", err
		}
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		return string(b), err
	}
	reason, err := str()
	if err != nil {
		return false, fmt.Errorf("%w: outcome: %v", errWorkerProtocol, err)
	}
	msg, err := str()
	if err != nil {
		return false, fmt.Errorf("%w: outcome: %v", errWorkerProtocol, err)
	}
	switch {
	case kind[0] == 0:
		return kind[1] == 1, nil
	case kind[0] == 1 && knownReason(RejectReason(reason)):
		return false, reject(RejectReason(reason), "%s", msg)
	}
	return false, fmt.Errorf("%w: outcome %d %q", errWorkerProtocol, kind[0], reason)
}

// isBrokenPipe reports a write to a child that has exited.
func isBrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }
