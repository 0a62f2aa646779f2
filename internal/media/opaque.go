package media

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/model"
)

// strippable reports whether cleanOpaque removes metadata from a video or audio
// upload whose bytes sniffed as sniffed. The choice follows the bytes, not the
// declared type: a .mov labelled video/quicktime is often plain MP4.
func strippable(sniffed string) bool {
	switch sniffed {
	case "video/mp4", "video/quicktime", "audio/mp4", "audio/mpeg":
		return true
	}
	return false
}

// cleanOpaque writes to dst the video or audio upload src (size bytes, sniffed as
// sniffed) without its metadata, and reports whether anything was removed:
//
//   - MP4, QuickTime, M4A: udta, meta and vendor uuid boxes become free boxes of the
//     same size (stripISOBMFF). It streams, so a 200 MiB video costs a few buffers.
//   - MP3: the ID3v2, ID3v1, APE and Lyrics3 tags go (stripID3). An MP3 is at most
//     model.MaxAudioSize, so it is read whole.
//   - Anything else (strippable false) is copied as it is.
//
// It is pure: it reads src and writes dst and nothing else, so it can run in a
// worker process over pipes. It is deterministic: the same input gives the same
// output, which lets the caller hash a first run and write a second. A file that
// cannot be walked is a *rejectError (RejectMalformed, RejectTooComplex); errors of
// src and dst are returned wrapped.
//
// The processor runs it in a media worker (Processor.cleanInWorker, a streamed job);
// a panic in a walk still rejects the file as malformed rather than end the process
// it runs in.
func cleanOpaque(dst io.Writer, sniffed string, src io.Reader, size int64) (changed bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			changed, err = false, reject(RejectMalformed, "%s: the metadata walk failed: %v", sniffed, r)
		}
	}()
	switch sniffed {
	case "video/mp4", "video/quicktime", "audio/mp4":
		return stripISOBMFF(dst, src, size)
	case "audio/mpeg":
		if size > model.MaxAudioSize {
			return false, reject(RejectSizeMismatch, "%d bytes > %d for audio", size, model.MaxAudioSize)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(src, data); err != nil {
			return false, fmt.Errorf("mp3: read: %w", err) // the size was checked: retry
		}
		audio, changed, err := stripID3(data)
		if err != nil {
			return false, err
		}
		if _, err := dst.Write(audio); err != nil {
			return false, fmt.Errorf("mp3: write: %w", err)
		}
		return changed, nil
	}
	if _, err := io.Copy(dst, src); err != nil {
		return false, fmt.Errorf("copy: %w", err)
	}
	return false, nil
}

// cleanStored strips the metadata of a checked video or audio object (head is what
// was already read of r for sniffing) and, when anything was removed, replaces the
// object with the cleaned copy. It reads the object twice rather than hold a video in
// memory: once to learn the cleaned copy's MD5, which is recorded first (so the
// finalize event of the rewrite is recognised as Hearth's own), then to write the
// copy, only over the generation that was checked. It returns the MD5 ("" when
// nothing changed) and the stored size.
func (p *Processor) cleanStored(ctx context.Context, obj Object, rec Upload, sniffed string, head []byte, r io.Reader) (string, int64, error) {
	sum := md5.New()
	changed, err := p.cleanInWorker(ctx, sum, sniffed, io.MultiReader(bytes.NewReader(head), r), obj.Size)
	if err != nil || !changed {
		return "", obj.Size, err
	}
	md5b64 := base64.StdEncoding.EncodeToString(sum.Sum(nil))
	ref, _ := model.ParseObjectPath(rec.ObjectPath)
	if _, err := p.fs.Doc(UploadPath(ref.ID)).Update(ctx, []firestore.Update{{Path: "rewriteMD5", Value: md5b64}}); err != nil {
		return "", 0, fmt.Errorf("record rewrite: %w", err)
	}

	src, err := p.bucket.Object(obj.Name).Generation(obj.Generation).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return "", 0, errSuperseded
	}
	if err != nil {
		return "", 0, fmt.Errorf("reopen: %w", err)
	}
	defer src.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := p.bucket.Object(obj.Name).If(storage.Conditions{GenerationMatch: obj.Generation}).NewWriter(wctx)
	w.ContentType = rec.ContentType
	w.CacheControl = storedCacheControl
	w.MD5 = sum.Sum(nil) // the service refuses a copy that differs from the hashed one
	w.ChunkSize = 0      // one streamed request
	n := &countingWriter{w: w}
	if _, err := p.cleanInWorker(wctx, n, sniffed, src, obj.Size); err != nil {
		cancel() // abandons the upload
		_ = w.Close()
		return "", 0, fmt.Errorf("rewrite: %w", err)
	}
	err = w.Close()
	if isPreconditionFailed(err) {
		return "", 0, errSuperseded
	}
	if err != nil {
		return "", 0, fmt.Errorf("rewrite: %w", err)
	}
	return md5b64, n.n, nil
}

// cleanInWorker runs cleanOpaque in a media worker, as one of the Config.Workers
// children that may run at once: whatever a file does to the walk, the service
// loses one child process and the file is rejected.
func (p *Processor) cleanInWorker(ctx context.Context, dst io.Writer, sniffed string, src io.Reader, size int64) (bool, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-p.sem }()
	return p.worker.clean(ctx, dst, sniffed, src, size)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
