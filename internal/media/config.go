package media

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

// Limits and defaults of the media pipeline. Every limit is a named constant; the
// configurable ones are defaults of Config fields.
const (
	// UploadURLTTL is how long a signed upload URL is valid (15
	// minutes: long enough for a slow mobile upload of a large video, short enough
	// that a leaked URL is soon useless).
	UploadURLTTL = 15 * time.Minute

	// DefaultDownloadURLTTL is how long a signed download URL is valid.
	DefaultDownloadURLTTL = 10 * time.Minute

	// DefaultDownloadMaxAge is the max-age of the 302 that carries a download URL. It
	// is well below DefaultDownloadURLTTL so that a cached redirect always leaves the
	// client time to fetch before the URL expires.
	DefaultDownloadMaxAge = 5 * time.Minute

	// DefaultDailyUploads is how many upload URLs one user may obtain per UTC day.
	DefaultDailyUploads = 500

	// DefaultDailyUploadBytes is how many declared bytes one user may upload per UTC
	// day (2 GiB: ten maximum-size videos).
	DefaultDailyUploadBytes int64 = 2 << 30

	// MaxPixels is the largest image (width × height) Hearth decodes. Checked with
	// image.DecodeConfig before decoding, it stops decompression bombs: a few KB of
	// PNG can declare gigapixels. 50 MP covers 48 MP phone cameras.
	MaxPixels = 50_000_000

	// MaxDecodedBytes bounds the memory of one decoded image (pixels × bytes per
	// pixel of the decoder's colour model), so that 16-bit PNGs cannot use 8 bytes a
	// pixel of MaxPixels.
	MaxDecodedBytes = 256 << 20

	// MaxSide is the largest width or height Hearth decodes.
	MaxSide = 20000

	// ThumbMaxSide is the longest side of a thumbnail, in pixels.
	ThumbMaxSide = 320

	// ThumbQuality is the JPEG quality of thumbnails.
	ThumbQuality = 80

	// StoredJPEGQuality is the JPEG quality of a re-encoded (metadata-stripped) photo.
	StoredJPEGQuality = 90

	// MaxFileNameLen is the longest fileName kept (runes); longer names are cut.
	MaxFileNameLen = 200

	// DefaultSubscription is the Pub/Sub subscription Run creates on the local
	// storage's notification topic.
	DefaultSubscription = "hearth-media"

	// DefaultTopic is the notification topic of the local storage (storagefake's
	// default), in the Pub/Sub project.
	DefaultTopic = "gcs-events"

	// DefaultWorkers is how many images are decoded at once per process; with
	// MaxDecodedBytes it bounds the memory of processing.
	DefaultWorkers = 2

	// DefaultWorkerMemory is the memory a media worker process may map beyond what
	// it holds when it starts (enforced as RLIMIT_AS = its address space at start +
	// this; the Go runtime's start-up reservations, 1.5 GB of mostly unbacked address
	// space, are not counted against the job). A job holds at most MaxDecodedBytes of
	// pixels, the upload, the cleaned copy and the thumbnail; a 48 MP HEIC decoded in
	// WebAssembly peaks at about 1 GiB (BenchmarkWorkerWorstFile), hence 2 GiB.
	DefaultWorkerMemory int64 = 2 << 30

	// DefaultWorkerCPU is the CPU time a media worker may use (RLIMIT_CPU). The
	// worst accepted image (50 MP PNG, re-encoded) takes a few seconds of one core.
	DefaultWorkerCPU = 30 * time.Second

	// DefaultWorkerTimeout is the wall-clock time after which a media worker is
	// killed, whatever it is doing: twice its CPU time, for a loaded machine.
	DefaultWorkerTimeout = 60 * time.Second

	// DefaultExpireGrace is how long after its URL expired a pending upload is left to
	// its finalize event before the expiry sweep settles it: an upload that began just
	// before the expiry may still be arriving, and an event that is merely late should
	// win over the sweep.
	DefaultExpireGrace = 10 * time.Minute

	// DefaultExpireInterval is how often Service.Run sweeps expired uploads.
	DefaultExpireInterval = time.Minute

	// expirePage is how many expired uploads one query of the sweep reads.
	expirePage = 100

	// storedCacheControl is set on rewritten objects and thumbnails: only the one
	// client that fetched it may cache it, for a day (objects never change in place).
	storedCacheControl = "private, max-age=86400"
)

// Config configures the media pipeline. LoadConfig reads it from the environment;
// every field is documented with its variable.
type Config struct {
	// Bucket holds media and thumbnails (HEARTH_STORAGE_BUCKET). Required.
	Bucket string

	// SignerFile is a service-account JSON key that signs URLs (HEARTH_STORAGE_SIGNER,
	// else GOOGLE_APPLICATION_CREDENTIALS when that file is a service-account key). The
	// local suite writes one whose key its storage trusts.
	SignerFile string
	// SignerEmail is the service account that signs through IAM signBlob when there is
	// no key file (HEARTH_STORAGE_SIGNER_EMAIL). Empty: the storage client detects it
	// (the credentials' client_email, or the metadata server's default account on
	// Google Cloud). The account needs roles/iam.serviceAccountTokenCreator on itself.
	SignerEmail string

	// URLHost is the host[:port] signed URLs name (HEARTH_STORAGE_URL_HOST). Default:
	// STORAGE_EMULATOR_HOST when set (so devices reach the local storage; an Android
	// emulator would set 10.0.2.2:9199), else storage.googleapis.com.
	URLHost string
	// URLInsecure makes signed URLs http:// (HEARTH_STORAGE_URL_INSECURE); true by
	// default under STORAGE_EMULATOR_HOST, which serves plain HTTP.
	URLInsecure bool

	// AllowedTypes restricts the upload allow-list (HEARTH_MEDIA_TYPES, comma
	// separated). Empty: every type of model.MediaKindOf. Each must be on the model's
	// list, because the object extension and the rules come from it.
	AllowedTypes []string

	// DailyUploads and DailyUploadBytes are the per-user quotas per UTC day
	// (HEARTH_UPLOAD_QUOTA_COUNT, HEARTH_UPLOAD_QUOTA_BYTES). Zero: the defaults;
	// negative: unlimited.
	DailyUploads     int
	DailyUploadBytes int64

	// DownloadURLTTL and DownloadMaxAge: see DefaultDownloadURLTTL and
	// DefaultDownloadMaxAge (HEARTH_MEDIA_DOWNLOAD_TTL, HEARTH_MEDIA_DOWNLOAD_MAX_AGE,
	// Go durations). DownloadMaxAge must be below DownloadURLTTL.
	DownloadURLTTL time.Duration
	DownloadMaxAge time.Duration

	// PubSubProject, Topic and Subscription are where Run receives the storage
	// notifications (HEARTH_MEDIA_PUBSUB_PROJECT default GOOGLE_CLOUD_PROJECT or
	// demo-hearth; HEARTH_MEDIA_TOPIC default DefaultTopic; HEARTH_MEDIA_SUBSCRIPTION
	// default DefaultSubscription). Run creates the subscription under
	// PUBSUB_EMULATOR_HOST; in production it must exist (or use Eventarc and Handler).
	PubSubProject string
	Topic         string
	Subscription  string
	// PubSubEnabled makes Run receive notifications. LoadConfig sets it when
	// PUBSUB_EMULATOR_HOST or HEARTH_MEDIA_SUBSCRIPTION is set.
	PubSubEnabled bool

	// Workers is how many images are processed at once (HEARTH_MEDIA_WORKERS): each
	// one in its own worker process.
	Workers int

	// WorkerMemory, WorkerCPU and WorkerTimeout are the limits of one media worker
	// process: memory in bytes beyond its start-up address space
	// (HEARTH_MEDIA_WORKER_MEMORY; enforced on Linux only), CPU time and wall-clock time (HEARTH_MEDIA_WORKER_CPU,
	// HEARTH_MEDIA_WORKER_TIMEOUT, Go durations). Zero: DefaultWorkerMemory,
	// DefaultWorkerCPU, DefaultWorkerTimeout. A worker over a limit rejects its upload
	// as too-complex.
	WorkerMemory  int64
	WorkerCPU     time.Duration
	WorkerTimeout time.Duration
	// WorkerPath is the executable started as a media worker. Default: this process's
	// own executable (os.Executable), which serves as the worker when started with
	// HEARTH_MEDIA_WORKER in its environment (any binary that links this package).
	WorkerPath string

	// ExpireGrace and ExpireInterval drive the expiry sweep (Processor.ExpireUploads),
	// which settles uploads still pending ExpireGrace after their URL expired
	// (HEARTH_MEDIA_EXPIRE_GRACE, default DefaultExpireGrace) every ExpireInterval
	// (HEARTH_MEDIA_EXPIRE_INTERVAL, default DefaultExpireInterval; negative: Run does
	// not sweep, for deployments that call ExpireUploads some other way). Go durations.
	ExpireGrace    time.Duration
	ExpireInterval time.Duration
}

// LoadConfig reads a Config from environment variables through getenv (os.Getenv in
// production; tests pass a map lookup). It does not validate: New does.
func LoadConfig(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Config{
		Bucket:        getenv("HEARTH_STORAGE_BUCKET"),
		SignerFile:    getenv("HEARTH_STORAGE_SIGNER"),
		SignerEmail:   getenv("HEARTH_STORAGE_SIGNER_EMAIL"),
		URLHost:       getenv("HEARTH_STORAGE_URL_HOST"),
		PubSubProject: getenv("HEARTH_MEDIA_PUBSUB_PROJECT"),
		Topic:         getenv("HEARTH_MEDIA_TOPIC"),
		Subscription:  getenv("HEARTH_MEDIA_SUBSCRIPTION"),
	}
	if cfg.SignerFile == "" {
		if f := getenv("GOOGLE_APPLICATION_CREDENTIALS"); f != "" && isServiceAccountKeyFile(f) {
			cfg.SignerFile = f
		}
	}
	emulator := getenv("STORAGE_EMULATOR_HOST")
	if emulator != "" {
		host := emulator
		if i := strings.Index(host, "://"); i >= 0 {
			cfg.URLInsecure = host[:i] == "http"
			host = host[i+3:]
		} else {
			cfg.URLInsecure = true
		}
		if cfg.URLHost == "" {
			cfg.URLHost = strings.TrimSuffix(host, "/")
		}
	}
	if v := getenv("HEARTH_STORAGE_URL_INSECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("HEARTH_STORAGE_URL_INSECURE: %w", err)
		}
		cfg.URLInsecure = b
	}
	if v := getenv("HEARTH_MEDIA_TYPES"); v != "" {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				cfg.AllowedTypes = append(cfg.AllowedTypes, t)
			}
		}
	}
	var err error
	if cfg.DailyUploads, err = envInt(getenv, "HEARTH_UPLOAD_QUOTA_COUNT"); err != nil {
		return cfg, err
	}
	n, err := envInt(getenv, "HEARTH_UPLOAD_QUOTA_BYTES")
	if err != nil {
		return cfg, err
	}
	cfg.DailyUploadBytes = int64(n)
	if cfg.Workers, err = envInt(getenv, "HEARTH_MEDIA_WORKERS"); err != nil {
		return cfg, err
	}
	mem, err := envInt(getenv, "HEARTH_MEDIA_WORKER_MEMORY")
	if err != nil {
		return cfg, err
	}
	cfg.WorkerMemory = int64(mem)
	if cfg.WorkerCPU, err = envDuration(getenv, "HEARTH_MEDIA_WORKER_CPU"); err != nil {
		return cfg, err
	}
	if cfg.WorkerTimeout, err = envDuration(getenv, "HEARTH_MEDIA_WORKER_TIMEOUT"); err != nil {
		return cfg, err
	}
	if cfg.DownloadURLTTL, err = envDuration(getenv, "HEARTH_MEDIA_DOWNLOAD_TTL"); err != nil {
		return cfg, err
	}
	if cfg.DownloadMaxAge, err = envDuration(getenv, "HEARTH_MEDIA_DOWNLOAD_MAX_AGE"); err != nil {
		return cfg, err
	}
	if cfg.ExpireGrace, err = envDuration(getenv, "HEARTH_MEDIA_EXPIRE_GRACE"); err != nil {
		return cfg, err
	}
	if cfg.ExpireInterval, err = envDuration(getenv, "HEARTH_MEDIA_EXPIRE_INTERVAL"); err != nil {
		return cfg, err
	}
	if cfg.PubSubProject == "" {
		cfg.PubSubProject = getenv("GOOGLE_CLOUD_PROJECT")
	}
	cfg.PubSubEnabled = getenv("PUBSUB_EMULATOR_HOST") != "" || cfg.Subscription != ""
	return cfg, nil
}

func envInt(getenv func(string) string, name string) (int, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

func envDuration(getenv func(string) string, name string) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// validate checks cfg and fills in defaults.
func (c *Config) validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("Bucket (HEARTH_STORAGE_BUCKET) is required"))
	}
	for _, t := range c.AllowedTypes {
		if _, ok := model.MediaKindOf(t); !ok {
			errs = append(errs, fmt.Errorf("AllowedTypes: %q is not an allowed media type of the data model", t))
		}
	}
	if c.DailyUploads == 0 {
		c.DailyUploads = DefaultDailyUploads
	}
	if c.DailyUploadBytes == 0 {
		c.DailyUploadBytes = DefaultDailyUploadBytes
	}
	if c.DownloadURLTTL == 0 {
		c.DownloadURLTTL = DefaultDownloadURLTTL
	}
	if c.DownloadMaxAge == 0 {
		c.DownloadMaxAge = min(DefaultDownloadMaxAge, c.DownloadURLTTL/2)
	}
	switch {
	case c.DownloadURLTTL < time.Second || c.DownloadURLTTL > 7*24*time.Hour:
		errs = append(errs, fmt.Errorf("DownloadURLTTL %s: want 1s..7 days (the V4 limit)", c.DownloadURLTTL))
	case c.DownloadMaxAge < 0 || c.DownloadMaxAge >= c.DownloadURLTTL:
		errs = append(errs, fmt.Errorf("DownloadMaxAge %s must be below DownloadURLTTL %s", c.DownloadMaxAge, c.DownloadURLTTL))
	}
	if c.PubSubProject == "" {
		c.PubSubProject = "demo-hearth"
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Subscription == "" {
		c.Subscription = DefaultSubscription
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("Workers %d: want > 0", c.Workers))
	}
	if c.WorkerMemory == 0 {
		c.WorkerMemory = DefaultWorkerMemory
	}
	if c.WorkerCPU == 0 {
		c.WorkerCPU = DefaultWorkerCPU
	}
	if c.WorkerTimeout == 0 {
		c.WorkerTimeout = DefaultWorkerTimeout
	}
	switch {
	case c.WorkerMemory < 64<<20:
		errs = append(errs, fmt.Errorf("WorkerMemory %d: want at least 64 MiB", c.WorkerMemory))
	case c.WorkerCPU < time.Second:
		errs = append(errs, fmt.Errorf("WorkerCPU %s: want at least 1s", c.WorkerCPU))
	case c.WorkerTimeout < c.WorkerCPU:
		errs = append(errs, fmt.Errorf("WorkerTimeout %s must not be below WorkerCPU %s", c.WorkerTimeout, c.WorkerCPU))
	}
	if c.WorkerPath == "" {
		exe, err := os.Executable()
		if err != nil {
			errs = append(errs, fmt.Errorf("WorkerPath: cannot find this executable: %w", err))
		}
		c.WorkerPath = exe
	}
	if c.ExpireGrace == 0 {
		c.ExpireGrace = DefaultExpireGrace
	}
	if c.ExpireGrace < 0 {
		errs = append(errs, fmt.Errorf("ExpireGrace %s: must not be negative", c.ExpireGrace))
	}
	if c.ExpireInterval == 0 {
		c.ExpireInterval = DefaultExpireInterval
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("media config: %w", err)
	}
	return nil
}

// allowed reports whether contentType may be uploaded under this config.
func (c *Config) allowed(contentType string) bool {
	if _, ok := model.MediaKindOf(contentType); !ok {
		return false
	}
	return len(c.AllowedTypes) == 0 || slices.Contains(c.AllowedTypes, contentType)
}

// allowedList is the effective allow-list, for error messages.
func (c *Config) allowedList() []string {
	if len(c.AllowedTypes) > 0 {
		return c.AllowedTypes
	}
	var all []string
	for _, k := range []model.MessageType{model.MessageImage, model.MessageVideo, model.MessageAudio, model.MessageFile} {
		all = append(all, model.ContentTypes(k)...)
	}
	return all
}

// Deps are the clients the media pipeline uses. Firestore and Storage are required.
type Deps struct {
	// Firestore is an admin client of the project that holds rooms and messages.
	Firestore *firestore.Client
	// Storage reads, rewrites and deletes objects (storage.NewClient: under
	// STORAGE_EMULATOR_HOST it needs no credentials).
	Storage *storage.Client
	// Clock tells the time (quota days, record times, URL expiry, which uploads have
	// expired) and paces Service.Run's expiry sweep. Default clock.System; tests pass
	// a clock.Fake.
	Clock clock.Clock
	// Logger is the parent logger. Default slog.Default().
	Logger *slog.Logger
}

func (d *Deps) validate() error {
	var errs []error
	if d.Firestore == nil {
		errs = append(errs, errors.New("Deps.Firestore is required"))
	}
	if d.Storage == nil {
		errs = append(errs, errors.New("Deps.Storage is required"))
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("media deps: %w", err)
	}
	return nil
}
