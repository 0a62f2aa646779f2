package model

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"unicode"
)

func TestRuleValues(t *testing.T) {
	v := RuleValues()
	checks := []struct {
		name      string
		got, want int64
	}{
		{"MaxTextLen", int64(v.MaxTextLen), 4000},
		{"MaxTitleLen", int64(v.MaxTitleLen), 100},
		{"MaxDisplayNameLen", int64(v.MaxDisplayNameLen), 64},
		{"MaxMembers", int64(v.MaxMembers), 1000},
		{"MaxIDLen", int64(v.MaxIDLen), 128},
		{"TypingIntervalMs", v.TypingIntervalMs, 300},
		{"HeartbeatIntervalS", v.HeartbeatIntervalS, 25},
		{"OfflineAfterS", v.OfflineAfterS, 70},
		{"EditIntervalMs", v.EditIntervalMs, 1000},
		{"RenameIntervalMs", v.RenameIntervalMs, 60000},
		{"PresenceStateIntervalMs", v.PresenceStateIntervalMs, 5000},
		{"MaxImageSize", v.MaxImageSize, 20 * 1024 * 1024},
		{"MaxVideoSize", v.MaxVideoSize, 200 * 1024 * 1024},
		{"MaxAudioSize", v.MaxAudioSize, 20 * 1024 * 1024},
		{"MaxFileSize", v.MaxFileSize, 50 * 1024 * 1024},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("RuleValues().%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if slices.Contains(v.ClientMessageTypes, string(MessageSystem)) || len(v.ClientMessageTypes) != len(v.MessageTypes)-1 {
		t.Errorf("RuleValues().ClientMessageTypes = %v, want every type but system", v.ClientMessageTypes)
	}
	if got := v.ContentTypeExts["video/quicktime"]; got != "mov" {
		t.Errorf("RuleValues().ContentTypeExts[video/quicktime] = %q, want mov", got)
	}
	for _, p := range []string{v.IDPattern, v.RoomIDPattern, v.ReservedIDPattern, v.ExtPattern, v.NoControlCharsPattern} {
		if _, err := regexp.Compile(p); err != nil {
			t.Errorf("regexp.Compile(%q) = %v, want nil", p, err)
		}
	}
	// Fresh values each call: a caller's edit must not leak.
	v.ImageContentTypes[0] = "x"
	v.ContentTypeExts["x"] = "y"
	if w := RuleValues(); w.ImageContentTypes[0] == "x" || w.ContentTypeExts["x"] == "y" {
		t.Errorf("RuleValues() shares state between calls")
	}
}

func TestRuleValuesRenderInTemplate(t *testing.T) {
	tmpl := template.Must(template.New("rules").Parse(
		`text.size() <= {{.MaxTextLen}} && type in [{{range $i, $t := .ClientMessageTypes}}{{if $i}}, {{end}}'{{$t}}'{{end}}]` +
			` && duration.value({{.TypingIntervalMs}}, 'ms')`))
	var b strings.Builder
	if err := tmpl.Execute(&b, RuleValues()); err != nil {
		t.Fatalf("Execute(RuleValues()) = %v, want nil", err)
	}
	want := `text.size() <= 4000 && type in ['text', 'image', 'video', 'audio', 'file'] && duration.value(300, 'ms')`
	if got := b.String(); got != want {
		t.Errorf("rendered = %q, want %q", got, want)
	}
}

// TestNoControlCharsPattern checks the rules' pattern rejects exactly what
// unicode.IsControl (used by the Go validators) rejects.
func TestNoControlCharsPattern(t *testing.T) {
	re := regexp.MustCompile(`^(?:` + NoControlCharsPattern + `)$`)
	for r := rune(0); r <= 0x2FFF; r++ {
		if got, want := re.MatchString(string(r)), !unicode.IsControl(r); got != want {
			t.Errorf("NoControlCharsPattern match %U = %v, want %v", r, got, want)
		}
	}
}
