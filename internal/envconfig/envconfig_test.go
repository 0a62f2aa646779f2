package envconfig

import (
	"strings"
	"testing"
	"time"
)

type level string

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low", "high":
		*l = level(b)
		return nil
	}
	return &badLevel{string(b)}
}

type badLevel struct{ v string }

func (e *badLevel) Error() string { return "level " + e.v + ": want low or high" }

type inner struct {
	Workers int `env:"T_INNER_WORKERS" envDefault:"2" doc:"inner workers"`
}

type sample struct {
	Workers int           `env:"T_WORKERS" envDefault:"8" doc:"workers"`
	Size    int64         `env:"T_SIZE" envDefault:"1024" doc:"size"`
	Rate    float64       `env:"T_RATE" envDefault:"2.5" doc:"rate"`
	Wait    time.Duration `env:"T_WAIT" envDefault:"1s" doc:"wait"`
	On      bool          `env:"T_ON" envDefault:"off" doc:"switch"`
	Level   level         `env:"T_LEVEL" envDefault:"low" doc:"enum"`
	List    []string      `env:"T_LIST" doc:"list"`
	Token   string        `env:"T_TOKEN" secret:"true" doc:"a secret"`
	Count   int           `env:"T_COUNT" secret:"true" doc:"a secret number"`
	Inner   inner
	Derived string // no tag: not a setting
}

func TestParseDefaults(t *testing.T) {
	var s sample
	if err := Parse(Map(nil), &s); err != nil {
		t.Fatal(err)
	}
	if s.Workers != 8 || s.Size != 1024 || s.Rate != 2.5 || s.Wait != time.Second || s.On || s.Level != "low" ||
		s.List != nil || s.Token != "" || s.Inner.Workers != 2 {
		t.Errorf("Parse(nothing) = %+v", s)
	}
}

func TestParseValues(t *testing.T) {
	var s sample
	err := Parse(Map(map[string]string{"T_WORKERS": "3", "T_ON": "ON", "T_LEVEL": "high", "T_LIST": " a, ,b ",
		"T_WAIT": "", "T_INNER_WORKERS": "5", "T_TOKEN": "tok"}), &s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers != 3 || !s.On || s.Level != "high" || strings.Join(s.List, "|") != "a|b" || s.Wait != time.Second ||
		s.Inner.Workers != 5 || s.Token != "tok" {
		t.Errorf("Parse() = %+v", s)
	}
}

// TestParseErrorsNameVariables: every bad value, of every kind, is reported at once and
// names its variable, even where a field name repeats (Workers, Inner.Workers).
func TestParseErrorsNameVariables(t *testing.T) {
	bad := map[string]string{"T_WORKERS": "many", "T_SIZE": "1KiB", "T_RATE": "fast", "T_WAIT": "soon", "T_ON": "maybe",
		"T_LEVEL": "medium", "T_INNER_WORKERS": "3.5"}
	var s sample
	err := Parse(Map(bad), &s)
	if err == nil {
		t.Fatal("Parse(bad) = nil error")
	}
	for name, v := range bad {
		if !strings.Contains(err.Error(), name+`="`+v+`"`) {
			t.Errorf("Parse(bad) = %v\nwant it to name %s=%q", err, name, v)
		}
	}
	got := BadVars(err)
	if len(got) != len(bad) {
		t.Errorf("BadVars = %q, want the %d bad variables", got, len(bad))
	}
	if strings.Contains(err.Error(), "T_COUNT") || strings.Contains(err.Error(), "T_TOKEN") {
		t.Errorf("Parse(bad) = %v, names a variable that was fine", err)
	}
}

// TestSecretNeverShown: neither Format nor a parse error shows a secret's value.
func TestSecretNeverShown(t *testing.T) {
	const secret = "s3cr3t-9876543210"
	var s sample
	err := Parse(Map(map[string]string{"T_COUNT": secret}), &s)
	if err == nil || !strings.Contains(err.Error(), "T_COUNT") || strings.Contains(err.Error(), secret) ||
		strings.Contains(err.Error(), "9876543210") {
		t.Errorf("Parse(bad secret) = %v, want an error naming T_COUNT without its value", err)
	}
	s = sample{}
	if err := Parse(Map(map[string]string{"T_TOKEN": secret}), &s); err != nil {
		t.Fatal(err)
	}
	for _, f := range Fields(&s) {
		if out := Format(f); strings.Contains(out, secret) {
			t.Errorf("Format(%s) = %q, shows the secret", f.Var, out)
		}
		if f.Var == "T_TOKEN" && Format(f) == "" {
			t.Error("Format(T_TOKEN) = \"\", want it to say the secret is set")
		}
	}
}

func TestFields(t *testing.T) {
	var vars []string
	for _, f := range Fields(&sample{}) {
		vars = append(vars, f.Path+"="+f.Var)
	}
	want := "Workers=T_WORKERS Size=T_SIZE Rate=T_RATE Wait=T_WAIT On=T_ON Level=T_LEVEL List=T_LIST Token=T_TOKEN Count=T_COUNT Inner.Workers=T_INNER_WORKERS"
	if got := strings.Join(vars, " "); got != want {
		t.Errorf("Fields = %s\nwant %s", got, want)
	}
	if n := len(OwnFields(&sample{})); n != 9 {
		t.Errorf("OwnFields = %d fields, want 9 (not Inner's)", n)
	}
}

func TestParseSwitch(t *testing.T) {
	for in, want := range map[string]bool{"on": true, "ON": true, " yes ": true, "1": true, "true": true, "t": true,
		"off": false, "No": false, "0": false, "FALSE": false, "f": false} {
		if got, err := ParseSwitch(in); err != nil || got != want {
			t.Errorf("ParseSwitch(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "maybe", "2", "onn"} {
		if _, err := ParseSwitch(in); err == nil {
			t.Errorf("ParseSwitch(%q) = nil error", in)
		}
	}
}

// TestWriteHidesSecrets: Write prints every setting, a secret only as set or unset.
func TestWriteHidesSecrets(t *testing.T) {
	const secret = "s3cr3t 'quoted' value"
	var s sample
	if err := Parse(Map(map[string]string{"T_TOKEN": secret, "T_LIST": "a,b", "T_WAIT": "90s"}), &s); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	Write(&b, "Sample", Fields(&s))
	out := b.String()
	if strings.Contains(out, "s3cr3t") || !strings.Contains(out, "T_TOKEN='(secret, set)'\n") {
		t.Errorf("Write shows the secret, or not that it is set:\n%s", out)
	}
	for _, want := range []string{"# Sample\n", "T_WORKERS=8\n", "T_LIST=a,b\n", "T_WAIT=1m30s\n", "T_ON=off\n", "T_COUNT=\n", "T_INNER_WORKERS=2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("Write = \n%s\nwant a line %q", out, want)
		}
	}
}
