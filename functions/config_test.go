package functions

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/envconfig"
)

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HEARTH_FUNCTIONS_WORKERS": "4", "HEARTH_PRESENCE_SWEEP": "5s", "HEARTH_FUNCTIONS_QUEUE": "10",
		"HEARTH_FUNCTIONS_TIMEOUT": "2s", "HEARTH_TYPING_CLEANUP": "1m"}
	var c Config
	if err := envconfig.Parse(envconfig.Map(env), &c); err != nil {
		t.Fatal(err)
	}
	if c.Workers != 4 || c.PresenceSweepInterval != 5*time.Second || c.QueueSize != 10 || c.HandlerTimeout != 2*time.Second ||
		c.TypingCleanupInterval != time.Minute {
		t.Errorf("Parse() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

// TestConfigEnvDefaults: the env tags' defaults are the Default* constants.
func TestConfigEnvDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	if err := envconfig.Parse(envconfig.Map(nil), &c); err != nil {
		t.Fatal(err)
	}
	if c.Workers != DefaultWorkers || c.QueueSize != DefaultQueueSize || c.HandlerTimeout != DefaultHandlerTimeout ||
		c.PresenceSweepInterval != DefaultPresenceSweepInterval || c.TypingCleanupInterval != DefaultTypingCleanupInterval {
		t.Errorf("Parse(nothing set) = %+v, want the Default* constants", c)
	}
}

// TestConfigBadValues: a bad number is an error naming its variable (never a zero that
// then means "the default"), every one at once; a negative one fails validation.
func TestConfigBadValues(t *testing.T) {
	t.Parallel()
	bad := map[string]string{"HEARTH_FUNCTIONS_WORKERS": "many", "HEARTH_FUNCTIONS_QUEUE": "1e3", "HEARTH_PRESENCE_SWEEP": "15"}
	var c Config
	err := envconfig.Parse(envconfig.Map(bad), &c)
	for name := range bad {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Parse(bad values) = %v, want it to name %s", err, name)
		}
	}
	var neg Config
	if err := envconfig.Parse(envconfig.Map(map[string]string{"HEARTH_FUNCTIONS_WORKERS": "-1", "HEARTH_TYPING_CLEANUP": "-1s"}), &neg); err != nil {
		t.Fatal(err)
	}
	err = neg.Validate()
	for _, name := range []string{"HEARTH_FUNCTIONS_WORKERS", "HEARTH_TYPING_CLEANUP"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate(negative) = %v, want it to name %s", err, name)
		}
	}
}
