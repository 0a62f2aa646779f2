package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/push"
)

// Config is the whole configuration of Hearth: the settings every component shares and
// one typed sub-config per component. LoadConfig reads it from the environment; the
// env tags of the fields (here and in the sub-configs) are the one table of settings,
// printed by `hearth config` and rendered into docs/configuration.md.
type Config struct {
	// Project is the Google Cloud project, the default of every project id below
	// (API.FirestoreProject, API.AuthProject, Media.PubSubProject). There is no
	// default: a missing project is an error, never a demo project.
	Project string `env:"GOOGLE_CLOUD_PROJECT" doc:"Google Cloud / Firebase project; the default of every project id (set by Cloud Run and Cloud Functions)"`

	// Port is the port Cloud Run asks the service to listen on: API.Addr is ":$PORT"
	// when HEARTH_ADDR is unset.
	Port string `env:"PORT" doc:"port to listen on, set by Cloud Run; the API listens on :$PORT when HEARTH_ADDR is unset"`

	// Role is what this process serves and runs (see Roles).
	Role Roles `env:"HEARTH_ROLE" envDefault:"all" doc:"what hearth serve does, comma separated: api (/v1, /admin/v1), events (/events/*, /schedulers/*; needs HEARTH_EVENTS=on), worker (the background loops), or all; every role serves /healthz, /readyz, /metrics"`

	// Log configures the process logger.
	Log LogConfig

	// API is the API server (admin package).
	API admin.Config
	// Functions is the Firestore triggers and schedulers (functions package).
	Functions functions.Config
	// Push is the push notifications (internal/push).
	Push push.Config
	// Media is the media upload checks (internal/media); off without a bucket.
	Media media.Config
}

// LogConfig configures the process logger.
type LogConfig struct {
	// Format is json (Cloud Logging reads it) or text.
	Format LogFormat `env:"HEARTH_LOG_FORMAT" envDefault:"json" doc:"log format: json or text"`
	// Level is the lowest level logged.
	Level slog.Level `env:"HEARTH_LOG_LEVEL" envDefault:"info" doc:"lowest level logged: debug, info, warn or error"`
}

// LogFormat is the format of the process logs.
type LogFormat string

// The log formats.
const (
	LogJSON LogFormat = "json"
	LogText LogFormat = "text"
)

// UnmarshalText implements encoding.TextUnmarshaler (env, flags).
func (f *LogFormat) UnmarshalText(b []byte) error {
	v := LogFormat(strings.ToLower(strings.TrimSpace(string(b))))
	if v != LogJSON && v != LogText {
		return fmt.Errorf("log format %q: want json or text", b)
	}
	*f = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (f LogFormat) MarshalText() ([]byte, error) { return []byte(f), nil }

// section is one part of Config: its settings and how it is validated.
type section struct {
	title    string
	fields   []envconfig.Field
	validate func() error
}

// sections lists the parts of c, in the order of the docs and `hearth config`.
func (c *Config) sections() []section {
	none := func() error { return nil } // checked where they are used
	return []section{
		{"Project and process", envconfig.OwnFields(c), none},
		{"Logs", envconfig.Fields(&c.Log), none},
		{"API (admin.Config)", envconfig.Fields(&c.API), c.API.Validate},
		{"Triggers and schedulers (functions.Config)", envconfig.Fields(&c.Functions), c.Functions.Validate},
		{"Push notifications (push.Config)", envconfig.Fields(&c.Push), c.Push.Validate},
		{"Media checks (media.Config)", envconfig.Fields(&c.Media), func() error {
			if c.Media.Bucket == "" {
				return nil // media is off
			}
			return c.Media.Validate()
		}},
	}
}

// LoadConfig reads every setting through lookup (os.LookupEnv in production, a map in
// tests) and validates each component. It reports every error at once: each variable
// that does not parse (by name), and what is invalid in each component whose variables
// all parsed. A missing project is an error: only `hearth dev` picks a demo project,
// and it does so by passing one.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	c, err := ParseEnv(lookup)
	return c, errors.Join(err, c.validate(envconfig.BadVars(err)))
}

// ParseEnv reads every setting through lookup and fills in what follows from them (the
// project ids from GOOGLE_CLOUD_PROJECT, the listen address from PORT, the media
// settings of the emulator and credential variables), without validating: for callers
// that apply flags before Validate.
func ParseEnv(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	err := envconfig.Parse(lookup, &c)
	if addr, _ := lookup("HEARTH_ADDR"); addr == "" && c.Port != "" {
		c.API.Addr = ":" + c.Port
	}
	for _, p := range []*string{&c.API.FirestoreProject, &c.API.AuthProject, &c.Media.PubSubProject} {
		if *p == "" {
			*p = c.Project
		}
	}
	c.Media = c.Media.Resolve()
	return c, err
}

// Validate reports every invalid setting of every component.
func (c Config) Validate() error { return c.validate(nil) }

// validate validates the sections none of whose variables is in bad.
func (c *Config) validate(bad []string) error {
	var errs []error
	for _, sec := range c.sections() {
		if slices.ContainsFunc(sec.fields, func(f envconfig.Field) bool { return slices.Contains(bad, f.Var) }) {
			continue // its parse errors are reported; its zero values would only add noise
		}
		if err := sec.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.validateRole(); err != nil {
		errs = append(errs, err)
	}
	if c.Media.Bucket != c.API.StorageBucket {
		errs = append(errs, fmt.Errorf("media bucket %q differs from the API's %q (HEARTH_STORAGE_BUCKET, -storage-bucket)", c.Media.Bucket, c.API.StorageBucket))
	}
	return errors.Join(errs...)
}

// validateRole refuses a role this configuration cannot serve. `all` (or all three
// named) serves the events routes only when HEARTH_EVENTS is on; a process that names
// events without all the roles is an events service, and without HEARTH_EVENTS it
// would answer 404 to every event.
func (c *Config) validateRole() error {
	switch {
	case c.Role == 0 || c.Role&^RoleAll != 0:
		return fmt.Errorf("role %d: want api, events, worker, or all (HEARTH_ROLE, -role)", c.Role)
	case c.Role != RoleAll && c.Role.Has(RoleEvents) && !c.API.Events:
		return fmt.Errorf("role %s serves events, but HEARTH_EVENTS is off: set HEARTH_EVENTS=on (-events) "+
			"with HEARTH_EVENTS_AUDIENCE and HEARTH_EVENTS_SERVICE_ACCOUNTS, or drop the events role", c.Role)
	}
	return nil
}

// RegisterFlags defines the flags of `hearth serve` on fs, with c's current values as
// defaults: those of the API (admin.Config.RegisterFlags) and -role, -log-format,
// -log-level.
// Flags win over the environment.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.API.RegisterFlags(fs)
	// The media checks use the API's bucket: one flag sets both.
	if f := fs.Lookup("storage-bucket"); f != nil {
		f.Value = bucketFlag{api: &c.API.StorageBucket, media: &c.Media.Bucket}
	}
	fs.TextVar(&c.Role, "role", c.Role, "what this process does, comma separated: api (/v1, /admin/v1), events (/events/*, /schedulers/*; needs -events), "+
		"worker (the background loops: schedulers, media receiver), or all; every role serves /healthz, /readyz, /metrics (HEARTH_ROLE)")
	fs.TextVar(&c.Log.Format, "log-format", c.Log.Format, "log format: json or text (HEARTH_LOG_FORMAT)")
	fs.TextVar(&c.Log.Level, "log-level", c.Log.Level, "log level: debug, info, warn, error (HEARTH_LOG_LEVEL)")
}

// bucketFlag sets the API's and the media checks' bucket.
type bucketFlag struct{ api, media *string }

func (b bucketFlag) String() string {
	if b.api == nil {
		return ""
	}
	return *b.api
}

func (b bucketFlag) Set(v string) error {
	*b.api, *b.media = v, v
	return nil
}

// Write prints the effective configuration as VAR=value lines, one commented section
// per component (envconfig.Write). Secret values are never printed.
func (c *Config) Write(w io.Writer) error {
	var b strings.Builder
	for i, sec := range c.sections() {
		if i > 0 {
			b.WriteString("\n")
		}
		envconfig.Write(&b, sec.title, sec.fields)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteDocs renders docs/configuration.md from the env and doc tags of Config.
func WriteDocs(w io.Writer) error {
	var c Config
	var b strings.Builder
	b.WriteString(`# Configuration

<!-- Generated from the struct tags of app.Config and its sub-configs: do not edit.
     Regenerate with: go test ./app -run TestConfigurationDoc -update -->

Every component of Hearth reads its settings from environment variables, all of them in
one place: ` + "`app.LoadConfig`" + `. It reports every bad value at once, each naming its
variable (a number that does not parse is an error, never a zero), then what is invalid
in each component. ` + "`hearth serve`" + ` flags override the variables of the API
(` + "`hearth serve -h`" + `). An unset or empty variable takes the default.

` + "`hearth config`" + ` prints the effective configuration as ` + "`VAR=value`" + ` lines
(with the same flags as ` + "`hearth serve`" + `), never the value of a secret, and
exits non-zero when the configuration is invalid.

There is no demo project outside ` + "`hearth dev`" + `: without ` + "`GOOGLE_CLOUD_PROJECT`" + `
(or the project variables below) the configuration is invalid. Only ` + "`hearth dev`" + `
runs against the local suite's demo project, which it names itself.

Types: *duration* is a Go duration (` + "`90s`, `1m30s`, `6480h`" + `); *switch* is on/off
(also true/false, yes/no, 1/0); *list* is comma separated; *enum* takes one of the values
its description names.
`)
	for _, sec := range c.sections() {
		fmt.Fprintf(&b, "\n## %s\n\n| Variable | Type | Default | Description |\n|---|---|---|---|\n", sec.title)
		for _, f := range sec.fields {
			def := "—"
			if f.Default != "" {
				def = "`" + f.Default + "`"
			}
			doc := f.Doc
			if f.Secret {
				doc += " (secret: never printed)"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Var, envconfig.TypeName(f.Type), def, strings.ReplaceAll(doc, "|", `\|`))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
