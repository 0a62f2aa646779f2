// Package storagefake is Hearth's local Cloud Storage: fake-gcs-server in
// process, behind a verifier that checks V4 signed URLs the way Cloud Storage
// does, plus OBJECT_FINALIZE notifications through an in-process Pub/Sub fake
// (pstest).
//
// fake-gcs-server accepts any signed-URL upload whatever its signature, expiry,
// headers or size, so tests against it alone would
// never catch a wrong upload header. Requests that carry V4 signing parameters
// are verified here first; everything else (the JSON API, and XML reads by an
// admin client pointed at STORAGE_EMULATOR_HOST) passes straight through, as
// the emulator has no other authentication. Signed uploads honour the
// x-goog-if-generation-match precondition (412 ConditionNotMet, as Cloud
// Storage answers), and reads pinned to a generation (generation=N) serve that
// generation or 404 NoSuchKey.
package storagefake

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// HealthPath is the readiness path served on the storage address; it answers
// 200 once the server is serving.
const HealthPath = "/_internal/healthcheck"

// Default values applied by New for empty Config fields.
const (
	DefaultAddr      = "127.0.0.1:0"
	DefaultProjectID = "demo-hearth"
	DefaultTopic     = "gcs-events"
)

// shutdownTimeout bounds the graceful HTTP shutdown in Close.
const shutdownTimeout = 5 * time.Second

// Config configures a Server. Only Bucket is required.
type Config struct {
	// Addr is the storage listen address. "127.0.0.1:0" (the default) picks a
	// free port; Hearth's suite uses 127.0.0.1:9199 (firebase.json).
	Addr string
	// PublicHost is the host:port clients use (STORAGE_EMULATOR_HOST, the
	// Hostname of signed URLs). Default: the address actually bound, with an
	// unspecified IP (0.0.0.0, ::) replaced by 127.0.0.1.
	PublicHost string
	// Bucket is created at start (e.g. "demo-hearth.appspot.com").
	Bucket string
	// ProjectID owns the Pub/Sub topic. Default DefaultProjectID.
	ProjectID string
	// PubSubAddr is where the pstest Pub/Sub fake listens ("127.0.0.1:0" for a
	// free port). Empty switches notifications off.
	PubSubAddr string
	// Topic receives OBJECT_FINALIZE events. Default DefaultTopic.
	Topic string
	// EventPrefix limits events to objects whose name starts with it (e.g.
	// "media/", so thumbnails written elsewhere do not re-trigger). Empty: all.
	EventPrefix string
	// Signers maps a service-account e-mail (the access id in
	// X-Goog-Credential) to the public key that verifies its signed URLs.
	// More keys can be added later with Server.TrustKey.
	Signers map[string]*rsa.PublicKey
	// Now is the verifier's clock (expiry checks). Default time.Now. Tests
	// move it forward instead of sleeping.
	Now func() time.Time
	// Logger receives rejections and fake-gcs output. Default slog.Default().
	Logger *slog.Logger
}

// Server is a running local Cloud Storage. Build it with New (then Run) or
// Start; stop it with Close.
type Server struct {
	cfg        Config
	log        *slog.Logger
	publicHost string
	ln         net.Listener
	http       *http.Server
	gcs        *fakestorage.Server
	verifier   *verifier

	// Pub/Sub side; nil when notifications are off.
	ps       *pstest.Server
	psClient *pubsub.Client

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, binds the storage listener, starts the Pub/Sub fake (when
// cfg.PubSubAddr is set), creates the topic and the bucket. Addresses are
// known when it returns; HTTP requests are served once Run is called.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Server{
		cfg: cfg,
		log: cfg.Logger.With("component", "storagefake"),
	}
	s.verifier = newVerifier(cfg.Now, s.log)
	for id, key := range cfg.Signers {
		s.verifier.trustKey(id, key)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen storage %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.publicHost = cfg.PublicHost
	if s.publicHost == "" {
		s.publicHost = publicHostOf(ln.Addr())
	}

	opts := fakestorage.Options{
		Scheme:      "http",
		NoListener:  true, // we serve fake.HTTPHandler() on our own listener, behind the verifier
		PublicHost:  s.publicHost,
		ExternalURL: "http://" + s.publicHost,
		Writer:      slogWriter{s.log},
	}
	if cfg.PubSubAddr != "" {
		if err := s.startPubSub(); err != nil {
			s.Close()
			return nil, err
		}
		opts.EventOptions = fakestorage.EventManagerOptions{
			ProjectID:    cfg.ProjectID,
			TopicName:    cfg.Topic,
			Bucket:       cfg.Bucket,
			ObjectPrefix: cfg.EventPrefix,
			NotifyOn:     fakestorage.EventNotificationOptions{Finalize: true},
		}
	}
	gcs, err := newFakeGCS(opts, s.PubSubAddr())
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("start fake-gcs-server: %w", err)
	}
	s.gcs = gcs
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: cfg.Bucket})

	s.http = &http.Server{
		Handler:           s.verifier.wrap(rewriteHost(s.publicHost, xmlObjects(s.publicHost, gcs.HTTPHandler()))),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Start is New followed by Run in the background: the server stops when ctx is
// done or Close is called. Convenient for tests (t.Cleanup(srv.Close)).
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	go func() {
		if err := s.Run(ctx); err != nil {
			s.log.Error("storage server stopped", "err", err)
		}
	}()
	return s, nil
}

// Run serves HTTP until ctx is done (then it closes the server and returns nil)
// or serving fails. It is meant to run under an errgroup.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.log.Info("storage emulator serving", "addr", s.publicHost, "bucket", s.cfg.Bucket, "pubsub", s.PubSubAddr())
	select {
	case <-ctx.Done():
		return s.Close()
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil // Close was called
		}
		s.Close()
		return fmt.Errorf("serve storage %s: %w", s.publicHost, err)
	}
}

// Close stops serving and releases the listener, fake-gcs and the Pub/Sub
// fake. It is safe to call more than once and from several goroutines.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.http != nil {
			// Shutdown runs outside any request, so a fresh context is right here.
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shut down storage http: %w", err))
			}
			cancel()
		}
		if s.ln != nil {
			s.ln.Close() // Shutdown only closes it if Serve had started
		}
		if s.gcs != nil {
			s.gcs.Stop()
		}
		if s.psClient != nil {
			if err := s.psClient.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close pubsub client: %w", err))
			}
		}
		if s.ps != nil {
			if err := s.ps.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close pubsub fake: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Addr is the host:port to put in STORAGE_EMULATOR_HOST and in the Hostname of
// signed URLs.
func (s *Server) Addr() string { return s.publicHost }

// URL is the base URL of the storage endpoint, "http://" + Addr().
func (s *Server) URL() string { return "http://" + s.publicHost }

// Bucket is the name of the bucket created at start.
func (s *Server) Bucket() string { return s.cfg.Bucket }

// TrustKey makes signed URLs whose credential names accessID verifiable with
// key. Several keys may be trusted for one access id (key rotation).
func (s *Server) TrustKey(accessID string, key *rsa.PublicKey) {
	s.verifier.trustKey(accessID, key)
}

// Ready returns nil once the storage endpoint answers its health check.
func (s *Server) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+HealthPath, nil)
	if err != nil {
		return fmt.Errorf("storage readiness request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("storage readiness %s: %w", s.publicHost, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("storage readiness %s: status %d", s.publicHost, resp.StatusCode)
	}
	return nil
}

func (c Config) validate() error {
	if c.Bucket == "" {
		return errors.New("storagefake config: Bucket is required")
	}
	if strings.ContainsAny(c.Bucket, "/ ") {
		return fmt.Errorf("storagefake config: invalid bucket name %q", c.Bucket)
	}
	for id, key := range c.Signers {
		if id == "" || key == nil {
			return fmt.Errorf("storagefake config: signer %q needs an access id and a public key", id)
		}
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.ProjectID == "" {
		c.ProjectID = DefaultProjectID
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// publicHostOf turns a bound address into one a client can dial.
func publicHostOf(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// rewriteHost sends path-style requests that arrived under another name for
// this server (localhost:PORT, 10.0.2.2:PORT from an Android emulator) to
// fake-gcs with Host = publicHost. Without it fake-gcs takes an unknown Host
// header for a bucket name (fake-gcs-server's PublicHost option).
// Virtual-hosted requests (bucket.publicHost) are left alone. The signature
// was already checked against the Host the client really sent.
func rewriteHost(publicHost string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != publicHost && !strings.HasSuffix(r.Host, "."+publicHost) {
			r.Host = publicHost
		}
		next.ServeHTTP(w, r)
	})
}

// slogWriter turns fake-gcs-server's log lines (access log, "sent event",
// "error publishing event") into debug records.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug(strings.TrimSpace(string(p)), "source", "fake-gcs-server")
	return len(p), nil
}
