package media

import (
	"github.com/prometheus/client_golang/prometheus"

	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
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

// Config configures the media pipeline. The env tags name the variables app.LoadConfig
// reads (docs/configuration.md is generated from them), then Resolve derives what
// follows from the emulator and credential variables; New validates and fills in the
// defaults of zero fields.
type Config struct {
	// Bucket holds media and thumbnails. Required.
	Bucket string `env:"HEARTH_STORAGE_BUCKET" doc:"Cloud Storage bucket of media uploads and thumbnails; unset: media is off"`

	// SignerFile is a service-account JSON key that signs URLs. Empty: Resolve takes
	// Credentials when that file is a service-account key. The local suite writes one
	// whose key its storage trusts.
	SignerFile string `env:"HEARTH_STORAGE_SIGNER" doc:"service-account JSON key file that signs upload and download URLs; default GOOGLE_APPLICATION_CREDENTIALS when that is a service-account key"`
	// SignerEmail is the service account that signs through IAM signBlob when there is
	// no key file. Empty: the storage client detects it (the credentials' client_email,
	// or the metadata server's default account on Google Cloud). The account needs
	// roles/iam.serviceAccountTokenCreator on itself.
	SignerEmail string `env:"HEARTH_STORAGE_SIGNER_EMAIL" doc:"service account that signs URLs through IAM signBlob when there is no key file; default: detected from the credentials"`
	// Credentials is the Application Default Credentials file, a default of SignerFile.
	Credentials string `env:"GOOGLE_APPLICATION_CREDENTIALS" doc:"Application Default Credentials file (read by the Google client libraries); a service-account key here also signs URLs"`

	// URLHost is the host[:port] signed URLs name. Empty: Resolve takes
	// StorageEmulatorHost when set (so devices reach the local storage; an Android
	// emulator would set 10.0.2.2:9199), else storage.googleapis.com.
	URLHost string `env:"HEARTH_STORAGE_URL_HOST" doc:"host[:port] that signed URLs name; default STORAGE_EMULATOR_HOST when set, else storage.googleapis.com"`
	// URLInsecure makes signed URLs http://. Resolve turns it on under a plain-HTTP
	// StorageEmulatorHost.
	URLInsecure bool `env:"HEARTH_STORAGE_URL_INSECURE" envDefault:"off" doc:"signed URLs use http://; on by default under a plain-HTTP STORAGE_EMULATOR_HOST"`
	// StorageEmulatorHost is the local storage (STORAGE_EMULATOR_HOST, also read by the
	// storage client itself): signed URLs point at it.
	StorageEmulatorHost string `env:"STORAGE_EMULATOR_HOST" doc:"local Cloud Storage emulator ([http://]host:port); signed URLs point at it. Demo projects only"`

	// AllowedTypes restricts the upload allow-list. Empty: every type of
	// model.MediaKindOf. Each must be on the model's list, because the object
	// extension and the rules come from it.
	AllowedTypes []string `env:"HEARTH_MEDIA_TYPES" doc:"comma-separated content types that may be uploaded; default every media type of the data model"`

	// DailyUploads is how many upload URLs one user may obtain per UTC day. Zero: the
	// default; negative: unlimited.
	DailyUploads int `env:"HEARTH_UPLOAD_QUOTA_COUNT" envDefault:"500" doc:"upload URLs one user may obtain per UTC day; negative: unlimited"`
	// DailyUploadBytes is how many declared bytes one user may upload per UTC day.
	// Zero: the default; negative: unlimited.
	DailyUploadBytes int64 `env:"HEARTH_UPLOAD_QUOTA_BYTES" envDefault:"2147483648" doc:"declared bytes one user may upload per UTC day (2 GiB); negative: unlimited"`

	// DownloadURLTTL: see DefaultDownloadURLTTL.
	DownloadURLTTL time.Duration `env:"HEARTH_MEDIA_DOWNLOAD_TTL" envDefault:"10m" doc:"validity of a signed download URL (1s to 7 days)"`
	// DownloadMaxAge: see DefaultDownloadMaxAge. It must be below DownloadURLTTL; zero
	// takes the smaller of DefaultDownloadMaxAge and half of DownloadURLTTL.
	DownloadMaxAge time.Duration `env:"HEARTH_MEDIA_DOWNLOAD_MAX_AGE" doc:"max-age of the redirect that carries a download URL; below the URL's TTL; default 5m or half the TTL, whichever is smaller"`

	// PubSubProject is the project of the storage notifications Run receives.
	PubSubProject string `env:"HEARTH_MEDIA_PUBSUB_PROJECT" doc:"project of the storage-notification topic and subscription; default GOOGLE_CLOUD_PROJECT"`
	// Topic is the storage notifications' topic.
	Topic string `env:"HEARTH_MEDIA_TOPIC" envDefault:"gcs-events" doc:"Pub/Sub topic of the storage notifications"`
	// Subscription is where Run receives the storage notifications. Run creates it under
	// PUBSUB_EMULATOR_HOST; in production it must exist (or use Eventarc and Handler).
	// Zero: DefaultSubscription.
	Subscription string `env:"HEARTH_MEDIA_SUBSCRIPTION" doc:"Pub/Sub subscription of the storage notifications (default hearth-media); setting it turns the subscriber on"`
	// PubSubEmulatorHost is the local Pub/Sub (PUBSUB_EMULATOR_HOST, also read by the
	// Pub/Sub client itself).
	PubSubEmulatorHost string `env:"PUBSUB_EMULATOR_HOST" doc:"local Pub/Sub emulator (host:port); turns the storage-notification subscriber on. Demo projects only"`
	// PubSubEnabled makes Run receive notifications. Resolve sets it when
	// PubSubEmulatorHost or Subscription is set.
	PubSubEnabled bool

	// Workers is how many images are processed at once, each one in its own worker
	// process. Zero: the default.
	Workers int `env:"HEARTH_MEDIA_WORKERS" envDefault:"2" doc:"images processed at once, each in its own worker process"`

	// WorkerMemory is the memory in bytes a worker process may map beyond its start-up
	// address space (enforced on Linux only). Zero: DefaultWorkerMemory. A worker over a
	// limit rejects its upload as too-complex.
	WorkerMemory int64 `env:"HEARTH_MEDIA_WORKER_MEMORY" envDefault:"2147483648" doc:"bytes a media worker may map beyond its start-up address space (Linux only); at least 64 MiB"`
	// WorkerCPU is the CPU time of one worker process. Zero: DefaultWorkerCPU.
	WorkerCPU time.Duration `env:"HEARTH_MEDIA_WORKER_CPU" envDefault:"30s" doc:"CPU time of one media worker; at least 1s"`
	// WorkerTimeout is the wall-clock time of one worker process. Zero:
	// DefaultWorkerTimeout.
	WorkerTimeout time.Duration `env:"HEARTH_MEDIA_WORKER_TIMEOUT" envDefault:"60s" doc:"wall-clock time after which a media worker is killed; not below HEARTH_MEDIA_WORKER_CPU"`
	// WorkerPath is the executable started as a media worker. Default: this process's
	// own executable (os.Executable), which serves as the worker when started with
	// HEARTH_MEDIA_WORKER in its environment (any binary that links this package).
	WorkerPath string

	// ExpireGrace is how long after its URL expired a pending upload is left to its
	// finalize event before the expiry sweep (Processor.ExpireUploads) settles it.
	ExpireGrace time.Duration `env:"HEARTH_MEDIA_EXPIRE_GRACE" envDefault:"10m" doc:"how long after its URL expired a pending upload waits for its finalize event before the expiry sweep settles it"`
	// ExpireInterval is how often Run sweeps; negative: Run does not sweep, for
	// deployments that call ExpireUploads some other way.
	ExpireInterval time.Duration `env:"HEARTH_MEDIA_EXPIRE_INTERVAL" envDefault:"1m" doc:"how often expired uploads are swept; negative: never (call the sweep another way)"`
}

// Resolve returns c with the settings that follow from the environment filled in:
// SignerFile from Credentials (when that is a service-account key), URLHost and
// URLInsecure from StorageEmulatorHost, PubSubEnabled from PubSubEmulatorHost or
// Subscription. It never overrides a field already set, so it can be applied twice.
func (c Config) Resolve() Config {
	if c.SignerFile == "" && c.Credentials != "" && isServiceAccountKeyFile(c.Credentials) {
		c.SignerFile = c.Credentials
	}
	if c.StorageEmulatorHost != "" {
		host := c.StorageEmulatorHost
		insecure := true
		if scheme, rest, ok := strings.Cut(host, "://"); ok {
			insecure = scheme == "http"
			host = rest
		}
		c.URLInsecure = c.URLInsecure || insecure
		if c.URLHost == "" {
			c.URLHost = strings.TrimSuffix(host, "/")
		}
	}
	c.PubSubEnabled = c.PubSubEnabled || c.PubSubEmulatorHost != "" || c.Subscription != ""
	return c
}

// Validate reports every invalid field (New checks the same), without requiring
// Bucket: media is off without one.
func (c Config) Validate() error {
	return c.check(false)
}

// validate checks cfg and fills in defaults.
func (c *Config) validate() error {
	return c.check(true)
}

// check fills in the defaults of c's zero fields and reports every invalid field.
func (c *Config) check(needBucket bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if needBucket && c.Bucket == "" {
		bad("HEARTH_STORAGE_BUCKET (Bucket) is required")
	}
	for _, t := range c.AllowedTypes {
		if _, ok := model.MediaKindOf(t); !ok {
			bad("HEARTH_MEDIA_TYPES (AllowedTypes): %q is not an allowed media type of the data model", t)
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
		bad("HEARTH_MEDIA_DOWNLOAD_TTL (DownloadURLTTL) %s: want 1s..7 days (the V4 limit)", c.DownloadURLTTL)
	case c.DownloadMaxAge < 0 || c.DownloadMaxAge >= c.DownloadURLTTL:
		bad("HEARTH_MEDIA_DOWNLOAD_MAX_AGE (DownloadMaxAge) %s must be below HEARTH_MEDIA_DOWNLOAD_TTL %s", c.DownloadMaxAge, c.DownloadURLTTL)
	}
	if c.PubSubEnabled && c.PubSubProject == "" {
		bad("HEARTH_MEDIA_PUBSUB_PROJECT (PubSubProject) is required to receive storage notifications; set it or GOOGLE_CLOUD_PROJECT")
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
		bad("HEARTH_MEDIA_WORKERS (Workers) %d: want > 0", c.Workers)
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
	if c.WorkerMemory < 64<<20 {
		bad("HEARTH_MEDIA_WORKER_MEMORY (WorkerMemory) %d: want at least 64 MiB", c.WorkerMemory)
	}
	if c.WorkerCPU < time.Second {
		bad("HEARTH_MEDIA_WORKER_CPU (WorkerCPU) %s: want at least 1s", c.WorkerCPU)
	} else if c.WorkerTimeout < c.WorkerCPU {
		bad("HEARTH_MEDIA_WORKER_TIMEOUT (WorkerTimeout) %s must not be below HEARTH_MEDIA_WORKER_CPU %s", c.WorkerTimeout, c.WorkerCPU)
	}
	if c.WorkerPath == "" {
		exe, err := os.Executable()
		if err != nil {
			bad("WorkerPath: cannot find this executable: %w", err)
		}
		c.WorkerPath = exe
	}
	if c.ExpireGrace == 0 {
		c.ExpireGrace = DefaultExpireGrace
	}
	if c.ExpireGrace < 0 {
		bad("HEARTH_MEDIA_EXPIRE_GRACE (ExpireGrace) %s: must not be negative", c.ExpireGrace)
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
	// Registerer receives the media checks' metrics (hearth_media_*; see
	// docs/observability.md); nil keeps them unexported.
	Registerer prometheus.Registerer
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
