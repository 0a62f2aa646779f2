// Package rules holds Hearth's Firestore and Cloud Storage security rules as
// code: templates rendered from the limits in internal/model (so the rules and
// the Go validators can never disagree), the committed rendered files that
// firebase.json points at, loading them into the Firestore emulator, watching
// them during development, and publishing them through the Firebase Rules API.
//
// The rules are tested as an attacker would try them: end-user tokens against
// the real Firestore emulator (see rules_test.go and docs/security.md).
package rules

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/hearth-chat/hearth/internal/model"
)

// Paths of the rendered files relative to the checkout root, as firebase.json
// names them.
const (
	FirestoreRulesPath = "rules/firestore.rules"
	StorageRulesPath   = "rules/storage.rules"
	IndexesPath        = "rules/firestore.indexes.json"
)

//go:embed firestore.rules.tmpl storage.rules.tmpl
var templates embed.FS

// Render returns the Firestore and Storage rules rendered from the templates
// and model.RuleValues. The output is deterministic: rendering twice gives
// the same bytes, so the committed files can be checked against it.
func Render() (firestoreRules, storageRules []byte, err error) {
	data := newRuleData(model.RuleValues())
	firestoreRules, err = render("firestore.rules.tmpl", data)
	if err != nil {
		return nil, nil, err
	}
	storageRules, err = render("storage.rules.tmpl", data)
	if err != nil {
		return nil, nil, err
	}
	return firestoreRules, storageRules, nil
}

// ruleData is what the templates see: the model's limits plus values derived
// from them per media message type.
type ruleData struct {
	model.RuleLimits
	// MediaMessageTypes are the client message types that carry media.
	MediaMessageTypes []string
	// ContentTypesByType maps a media message type to its allowed content types.
	ContentTypesByType map[string][]string
	// MaxSizeByType maps a media message type to its upload limit in bytes.
	MaxSizeByType map[string]int64
}

func newRuleData(v model.RuleLimits) ruleData {
	d := ruleData{
		RuleLimits:         v,
		ContentTypesByType: map[string][]string{},
		MaxSizeByType:      map[string]int64{},
	}
	for _, t := range v.ClientMessageTypes {
		mt := model.MessageType(t)
		if !mt.HasMedia() {
			continue
		}
		d.MediaMessageTypes = append(d.MediaMessageTypes, t)
		d.ContentTypesByType[t] = model.ContentTypes(mt)
		d.MaxSizeByType[t] = model.MaxUploadSize(mt)
	}
	return d
}

func render(name string, data ruleData) ([]byte, error) {
	t, err := template.New(name).Funcs(template.FuncMap{
		"str":  ruleString,
		"strs": ruleList,
		"rmap": ruleMap,
	}).Option("missingkey=error").ParseFS(templates, name)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// ruleString quotes s as a rules string literal: single quotes, with
// backslashes and quotes escaped (so a regular expression like \p{Cc} reaches
// the rules engine intact).
func ruleString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// ruleList renders a rules list literal of strings: ['a', 'b'].
func ruleList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = ruleString(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// ruleMap renders a rules map literal with keys in sorted order, so the
// output is deterministic: {'a': 1, 'b': 2}.
func ruleMap(m any) (string, error) {
	var parts []string
	switch m := m.(type) {
	case map[string]string:
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, ruleString(k)+": "+ruleString(m[k]))
		}
	case map[string][]string:
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, ruleString(k)+": "+ruleList(m[k]))
		}
	case map[string]int64:
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, ruleString(k)+": "+strconv.FormatInt(m[k], 10))
		}
	default:
		return "", fmt.Errorf("rmap: unsupported %T", m)
	}
	return "{" + strings.Join(parts, ", ") + "}", nil
}

// WriteRendered renders the rules and writes them to firestorePath and
// storagePath, each only when its content differs, and returns the paths it
// rewrote. Each file is replaced atomically (a temporary file renamed over
// it), so a watcher never reads half a file.
func WriteRendered(firestorePath, storagePath string) (written []string, err error) {
	stale, rendered, err := compare(firestorePath, storagePath)
	if err != nil {
		return nil, err
	}
	for _, p := range stale {
		if err := writeAtomic(p, rendered[p]); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// Stale returns which of firestorePath and storagePath are missing or differ
// from a fresh Render (for `hearth rules render --check` and CI).
func Stale(firestorePath, storagePath string) ([]string, error) {
	stale, _, err := compare(firestorePath, storagePath)
	return stale, err
}

func compare(firestorePath, storagePath string) (stale []string, rendered map[string][]byte, err error) {
	fsRules, stRules, err := Render()
	if err != nil {
		return nil, nil, err
	}
	rendered = map[string][]byte{firestorePath: fsRules, storagePath: stRules}
	for _, p := range []string{firestorePath, storagePath} {
		cur, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		if err != nil || !bytes.Equal(cur, rendered[p]) {
			stale = append(stale, p)
		}
	}
	return stale, rendered, nil
}

func writeAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
