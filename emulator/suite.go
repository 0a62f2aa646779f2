package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options tune a Suite beyond firebase.json.
type Options struct {
	// StateDir holds logs, the Auth emulator's working folder and the local storage
	// signing key. Empty: Root/.hearth.
	StateDir string
	// StartTimeout bounds the whole start (default 3 min: the Auth emulator alone needs
	// ~8 s of CPU, more when the machine is busy running tests).
	StartTimeout time.Duration
	// Logger receives the suite's own log lines (default: discard).
	Logger *slog.Logger
	// RemoveStateDir deletes StateDir on Stop (for temporary suites).
	RemoveStateDir bool
}

// Suite is a running local Firebase suite.
type Suite struct {
	cfg      Config
	opts     Options
	stateDir string
	grace    time.Duration
	log      *slog.Logger

	firestore *process
	auth      *process
	storage   *localStorage
	fcm       *localFCM
	receiver  *Receiver
	servers   []*http.Server

	life     context.Context // ends when the suite stops: in-process servers run under it
	endLife  context.CancelFunc
	stopOnce sync.Once
	stopErr  error
	died     chan string // name of a child that exited on its own
}

// Start starts every part of the suite and waits until each answers. On error nothing is
// left running.
func Start(ctx context.Context, cfg Config, opts Options) (*Suite, error) {
	if !osSupported {
		return nil, ErrUnsupportedOS
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 3 * time.Minute
	}
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(cfg.Root, ".hearth")
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	if err := cfg.Ports.claimPorts(); err != nil {
		return nil, err
	}
	s := &Suite{cfg: cfg, opts: opts, stateDir: opts.StateDir, grace: 5 * time.Second, log: opts.Logger.With("component", "emulators"), died: make(chan string, 4)}
	s.receiver = NewReceiver(opts.Logger)
	s.life, s.endLife = context.WithCancel(context.WithoutCancel(ctx))

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	// The receiver is bound before Firestore starts: the emulator posts to it from the
	// first write on.
	if err := s.serve("functions receiver", cfg.Ports.Functions.Addr(), s.receiver.Handler()); err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	g.Go(func() error {
		p, err := startFirestore(gctx, s)
		mu.Lock()
		s.firestore = p
		mu.Unlock()
		return err
	})
	g.Go(func() error {
		p, err := startAuth(gctx, s)
		mu.Lock()
		s.auth = p
		mu.Unlock()
		return err
	})
	g.Go(func() error {
		st, err := startStorage(gctx, s)
		mu.Lock()
		s.storage = st
		mu.Unlock()
		return err
	})
	g.Go(func() error {
		f, err := startFCM(s)
		mu.Lock()
		s.fcm = f
		mu.Unlock()
		return err
	})
	if err := g.Wait(); err != nil {
		s.Stop()
		return nil, err
	}
	for _, p := range []*process{s.firestore, s.auth} {
		go func() {
			<-p.done
			select {
			case s.died <- p.name:
			default:
			}
		}()
	}
	return s, nil
}

// serve runs h on addr until the suite stops.
func (s *Suite) serve(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %s cannot listen on %s: %v", ErrPortInUse, name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server stopped", "server", name, "err", err)
		}
	}()
	return nil
}

// Config returns the suite's configuration with the ports it really uses.
func (s *Suite) Config() Config { return s.cfg }

// Receiver returns the functions receiver, to route a project's trigger events.
func (s *Suite) Receiver() *Receiver { return s.receiver }

// Pids returns the process ids of the suite's children (java, node).
func (s *Suite) Pids() []int {
	var pids []int
	for _, p := range []*process{s.firestore, s.auth} {
		if p != nil {
			pids = append(pids, p.Pid())
		}
	}
	return pids
}

// Env returns the standard variables that point SDKs and Hearth at this suite, sorted.
func (s *Suite) Env() []string {
	p := s.cfg.Ports
	env := map[string]string{
		"FIRESTORE_EMULATOR_HOST":        p.Firestore.Addr(),
		"FIREBASE_AUTH_EMULATOR_HOST":    p.Auth.Addr(),
		"STORAGE_EMULATOR_HOST":          p.Storage.Addr(),
		"PUBSUB_EMULATOR_HOST":           p.PubSub.Addr(),
		"HEARTH_FCM_EMULATOR_HOST":       p.FCM.Addr(),
		"HEARTH_FUNCTIONS_EMULATOR_HOST": p.Functions.Addr(),
		"GOOGLE_CLOUD_PROJECT":           s.cfg.ProjectID,
		"HEARTH_STORAGE_BUCKET":          s.cfg.Bucket,
	}
	if s.storage != nil {
		env["HEARTH_STORAGE_SIGNER"] = s.storage.signerFile
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Wait blocks until ctx ends or a child emulator exits on its own; the latter is an error.
func (s *Suite) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case name := <-s.died:
		return fmt.Errorf("%s exited unexpectedly; see the logs in %s", name, s.stateDir)
	}
}

// Stop stops every part and waits for the children to exit. It is safe to call twice.
func (s *Suite) Stop() error {
	s.stopOnce.Do(func() {
		var (
			errs []string
			mu   sync.Mutex
			wg   sync.WaitGroup
		)
		for _, p := range []*process{s.firestore, s.auth} {
			if p == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.stop(s.grace); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, srv := range s.servers {
			_ = srv.Shutdown(ctx)
		}
		s.endLife()
		if s.storage != nil {
			s.storage.close()
		}
		if s.fcm != nil {
			s.fcm.close()
		}
		wg.Wait()
		if s.opts.RemoveStateDir {
			os.RemoveAll(s.stateDir)
		}
		if len(errs) > 0 {
			s.stopErr = errors.New(strings.Join(errs, "; "))
		}
	})
	return s.stopErr
}

// StartLocal starts the suite of the Hearth checkout at or above the working folder. With
// freePorts it ignores the ports of firebase.json and keeps its state in a temporary folder
// that Stop removes: what tests and CI use, so that they never collide with `make dev`.
func StartLocal(ctx context.Context, freePorts bool, log *slog.Logger) (*Suite, error) {
	root, err := FindRoot(".")
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(root)
	if err != nil {
		return nil, err
	}
	opts := Options{Logger: log}
	if !freePorts {
		return Start(ctx, cfg, opts)
	}
	// A port picked free may be taken before its emulator binds it (see freePort):
	// then the suite starts again, on other ports (Start picks them on its own copy of
	// cfg, so every attempt picks afresh).
	cfg.Ports = FreePorts(cfg.Ports)
	for attempt := 1; ; attempt++ {
		if opts.StateDir, err = os.MkdirTemp("", "hearth-suite-"); err != nil {
			return nil, fmt.Errorf("state folder: %w", err)
		}
		opts.RemoveStateDir = true
		s, err := Start(ctx, cfg, opts)
		if err == nil {
			return s, nil
		}
		os.RemoveAll(opts.StateDir) // Start removes it only when it got as far as Stop
		if attempt == startAttempts || !isPortCollision(err) || ctx.Err() != nil {
			return nil, err
		}
		if log != nil {
			log.Warn("a port picked for the emulator suite was taken meanwhile; starting again on other ports", "attempt", attempt, "err", err)
		}
	}
}

// startAttempts bounds how often StartLocal starts a free-port suite again after a
// port collision.
const startAttempts = 3
