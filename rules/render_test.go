package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestRenderedFilesCommitted fails when the committed rules differ from a
// fresh Render: run `hearth rules render` and commit the result.
func TestRenderedFilesCommitted(t *testing.T) {
	fsRules, stRules, err := Render()
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	for name, want := range map[string][]byte{"firestore.rules": fsRules, "storage.rules": stRules} {
		got, err := os.ReadFile(name) // tests run in rules/
		if err != nil {
			t.Errorf("read committed %s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("committed rules/%s differs from Render(); run `hearth rules render`:\n%s",
				name, unifiedDiff(string(got), string(want), "committed", "rendered"))
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	a1, b1, err := Render()
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	for range 5 {
		a2, b2, err := Render()
		if err != nil {
			t.Fatalf("Render() error = %v", err)
		}
		if !bytes.Equal(a1, a2) || !bytes.Equal(b1, b2) {
			t.Fatal("Render() gave different bytes on two calls")
		}
	}
}

// TestRenderFromLimits changes the limits and checks the rules follow: the
// numbers in the rules come from model.RuleValues, not from the template.
func TestRenderFromLimits(t *testing.T) {
	v := model.RuleValues()
	v.MaxTextLen = 17
	v.MaxDisplayNameLen = 18
	v.MaxMentions = 19
	v.TypingIntervalMs = 1234
	v.ClientMessageTypes = []string{"text", "image"}
	out, err := render("firestore.rules.tmpl", newRuleData(v))
	if err != nil {
		t.Fatalf("render() error = %v", err)
	}
	for _, want := range []string{
		"chars(m.text) <= 17",
		"isLine(u.displayName, 1, 18)",
		"m.mentions.size() <= 19",
		"duration.value(1234, 'ms')",
		"m.type in ['text', 'image']",
		"md.contentType in {'image': ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/gif']}[type]",
		fmt.Sprintf("md.size <= {'image': %d}[type]", model.MaxImageSize),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("render(changed limits) lacks %q", want)
		}
	}
	// And the real render carries the real values.
	fsRules, _, err := Render()
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	for _, want := range []string{
		fmt.Sprintf("chars(m.text) <= %d", model.MaxTextLen),
		fmt.Sprintf("duration.value(%d, 'ms')", model.TypingInterval.Milliseconds()),
		fmt.Sprintf("'video': %d", model.MaxVideoSize),
		fmt.Sprintf("'video/quicktime': '%s'", "mov"),
		ruleString(model.IDPattern),
		"s.matches(" + ruleString(model.LinePattern()) + ")",
	} {
		if !strings.Contains(string(fsRules), want) {
			t.Errorf("Render() firestore.rules lacks %q", want)
		}
	}
}

func TestRuleLiterals(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[^\p{Cc}]*`, `'[^\\p{Cc}]*'`},
		{"it's", `'it\'s'`},
		{"a\nb", `'a\nb'`},
		{"", "''"},
	} {
		if got := ruleString(c.in); got != c.want {
			t.Errorf("ruleString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := ruleList([]string{"a", "b'c"}); got != `['a', 'b\'c']` {
		t.Errorf("ruleList = %s", got)
	}
	if got, err := ruleMap(map[string]int64{"b": 2, "a": 1}); err != nil || got != "{'a': 1, 'b': 2}" {
		t.Errorf("ruleMap = %s, %v", got, err)
	}
	if _, err := ruleMap(map[int]int{}); err == nil {
		t.Error("ruleMap(map[int]int) error = nil, want an error")
	}
}

func TestWriteRenderedAndStale(t *testing.T) {
	dir := t.TempDir()
	fsPath, stPath := filepath.Join(dir, "firestore.rules"), filepath.Join(dir, "storage.rules")
	stale, err := Stale(fsPath, stPath)
	if err != nil || !slices.Equal(stale, []string{fsPath, stPath}) {
		t.Fatalf("Stale(missing files) = %v, %v; want both", stale, err)
	}
	written, err := WriteRendered(fsPath, stPath)
	if err != nil || !slices.Equal(written, []string{fsPath, stPath}) {
		t.Fatalf("WriteRendered() = %v, %v; want both", written, err)
	}
	if stale, err := Stale(fsPath, stPath); err != nil || len(stale) != 0 {
		t.Errorf("Stale(after write) = %v, %v; want none", stale, err)
	}
	if written, err := WriteRendered(fsPath, stPath); err != nil || len(written) != 0 {
		t.Errorf("WriteRendered(again) = %v, %v; want nothing written (idempotent)", written, err)
	}
	if err := os.WriteFile(stPath, []byte("edited by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	if stale, err := Stale(fsPath, stPath); err != nil || !slices.Equal(stale, []string{stPath}) {
		t.Errorf("Stale(after hand edit) = %v, %v; want [%s]", stale, err, stPath)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir has %d entries after writes, want 2 (no temporary files left)", len(entries))
	}
}
