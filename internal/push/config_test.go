package push

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/envconfig"
)

func TestConfigFromEnvironment(t *testing.T) {
	env := map[string]string{"HEARTH_PUSH_WINDOW": "3s", "HEARTH_PUSH_LEASE": "1m", "HEARTH_PUSH_LOG": "1",
		"HEARTH_PUSH_CONCURRENCY": "8", "HEARTH_PUSH_TOKEN_MAX_AGE": "24h", "HEARTH_PUSH_POLL": "250ms"}
	var c Config
	if err := envconfig.Parse(envconfig.Map(env), &c); err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if c.Window != 3*time.Second || c.Lease != time.Minute || !c.LogEachPush || c.MaxConcurrentBatches != 8 ||
		c.TokenMaxAge != 24*time.Hour || c.PollInterval != 250*time.Millisecond {
		t.Errorf("Parse() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

// TestConfigEnvDefaults: the env tags' defaults are the Default* constants.
func TestConfigEnvDefaults(t *testing.T) {
	var c Config
	if err := envconfig.Parse(envconfig.Map(nil), &c); err != nil {
		t.Fatalf("Parse(nothing set) = %v", err)
	}
	if c.Window != DefaultWindow || c.Lease != DefaultLease || c.PollInterval != DefaultPollInterval ||
		c.MaxConcurrentBatches != DefaultMaxConcurrentBatches || c.TokenMaxAge != DefaultTokenMaxAge || c.LogEachPush {
		t.Errorf("Parse(nothing set) = %+v, want the Default* constants", c)
	}
}

// TestConfigBadValues: every bad value is an error naming its variable, all at once, and
// no bad number becomes a zero.
func TestConfigBadValues(t *testing.T) {
	bad := map[string]string{"HEARTH_PUSH_WINDOW": "soon", "HEARTH_PUSH_CONCURRENCY": "lots", "HEARTH_PUSH_LOG": "loud",
		"HEARTH_PUSH_TOKEN_MAX_AGE": "9 months"}
	var c Config
	err := envconfig.Parse(envconfig.Map(bad), &c)
	if err == nil {
		t.Fatal("Parse(bad values) = nil error")
	}
	for name, v := range bad {
		if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), v) {
			t.Errorf("Parse(bad values) = %v, want it to name %s and %q", err, name, v)
		}
	}
	var neg Config
	if err := envconfig.Parse(envconfig.Map(map[string]string{"HEARTH_PUSH_LEASE": "-1s", "HEARTH_PUSH_CONCURRENCY": "-2"}), &neg); err != nil {
		t.Fatal(err)
	}
	err = neg.Validate()
	for _, name := range []string{"HEARTH_PUSH_LEASE", "HEARTH_PUSH_CONCURRENCY"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate(negative lease and concurrency) = %v, want it to name %s", err, name)
		}
	}
}
