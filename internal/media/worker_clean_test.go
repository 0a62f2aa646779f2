package media

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// TestWorkerCleans: videos and MP3s cleaned in a worker child come back exactly as
// cleaned in this process, with the same answer to "was anything removed".
func TestWorkerCleans(t *testing.T) {
	w := testWorker(t)
	for _, c := range []struct{ file, sniffed string }{
		{"iphone.mov", "video/quicktime"},
		{"clip.mp4", "video/mp4"},
		{"voice.m4a", "audio/mp4"},
		{"tagged.mp3", "audio/mpeg"},
		{"tagged-v23.mp3", "audio/mpeg"},
	} {
		t.Run(c.file, func(t *testing.T) {
			data := readFixture(t, c.file)
			var want bytes.Buffer
			wantChanged, err := cleanOpaque(&want, c.sniffed, bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("cleanOpaque = %v", err)
			}
			var got bytes.Buffer
			changed, err := w.clean(t.Context(), &got, c.sniffed, bytes.NewReader(data), int64(len(data)))
			if err != nil || changed != wantChanged || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("worker clean = %v, %v (%d bytes, equal %v); want %v, nil and the in-process copy (%d bytes)",
					changed, err, got.Len(), bytes.Equal(got.Bytes(), want.Bytes()), wantChanged, want.Len())
			}
		})
	}
}

// TestWorkerCleanRejects: a file the walk refuses comes back with its reason; a child
// killed at the deadline rejects the file as too-complex; a destination that fails is
// an error to retry, not a rejection.
func TestWorkerCleanRejects(t *testing.T) {
	w := testWorker(t)
	ctx := t.Context()
	notAudio := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0x55}, 64)...)
	if _, err := w.clean(ctx, &bytes.Buffer{}, "audio/mpeg", bytes.NewReader(notAudio), int64(len(notAudio))); rejectReason(err) != RejectMalformed {
		t.Errorf("MP3 without audio = %v, want a %s rejection", err, RejectMalformed)
	}

	// A source that never delivers: the child waits for its input until the deadline.
	stalled, never := io.Pipe()
	defer never.Close()
	slow := *w
	slow.wall = 500 * time.Millisecond
	if _, err := slow.clean(ctx, &bytes.Buffer{}, "video/quicktime", stalled, 4096); rejectReason(err) != RejectTooComplex {
		t.Errorf("child killed at the deadline = %v, want a %s rejection", err, RejectTooComplex)
	}

	data := readFixture(t, "iphone.mov")

	_, err := w.clean(ctx, failingWriter{}, "video/quicktime", bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, errCleanDestination) || rejectReason(err) != "" {
		t.Errorf("failing destination = %v, want errCleanDestination and no rejection", err)
	}

	short := data[:len(data)/2] // the source ends before its size: retry, not reject
	if _, err := w.clean(ctx, &bytes.Buffer{}, "video/quicktime", bytes.NewReader(short), int64(len(data))); err == nil || rejectReason(err) != "" {
		t.Errorf("source shorter than its size = %v, want an error to retry", err)
	}
}

// TestReadCleanResponseBounded: an answer longer than the input, or with an oversized
// frame, is refused before it is copied.
func TestReadCleanResponseBounded(t *testing.T) {
	frame := func(n int) []byte {
		return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, bytes.Repeat([]byte{'x'}, n)...)
	}
	long := append([]byte(workerCleanMagic), frame(10)...)
	var dst bytes.Buffer
	if _, err := readCleanResponse(bytes.NewReader(long), &dst, 9); !errors.Is(err, errWorkerProtocol) || dst.Len() != 0 {
		t.Errorf("answer of 10 bytes for 9 = %v (%d copied), want errWorkerProtocol and nothing copied", err, dst.Len())
	}
	huge := append([]byte(workerCleanMagic), 0x7f, 0xff, 0xff, 0xff)
	if _, err := readCleanResponse(bytes.NewReader(huge), &dst, 1<<40); !errors.Is(err, errWorkerProtocol) {
		t.Errorf("frame of 2 GiB = %v, want errWorkerProtocol", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("storage is down") }
