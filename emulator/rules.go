package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrRulesRejected is wrapped by LoadFirestoreRules when the emulator does not compile the
// rules; the old rules then stay in force.
var ErrRulesRejected = errors.New("firestore rules rejected")

// LoadFirestoreRules loads rules source into the Firestore emulator at host for project.
// Rules are per project in the emulator, so each test can load its own.
func LoadFirestoreRules(ctx context.Context, host, project, source string) error {
	body, _ := json.Marshal(map[string]any{
		"rules": map[string]any{"files": []map[string]string{{"name": "firestore.rules", "content": source}}},
	})
	url := fmt.Sprintf("http://%s/emulator/v1/projects/%s:securityRules", host, project)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	// Without a JSON content type the emulator answers 404.
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("load rules into %s: %w", host, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("load rules for %s: %w: %s %s", project, ErrRulesRejected, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// RuleCoverage returns the emulator's rule coverage report for project (JSON).
func RuleCoverage(ctx context.Context, host, project string) ([]byte, error) {
	url := fmt.Sprintf("http://%s/emulator/v1/projects/%s:ruleCoverage", host, project)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rule coverage: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rule coverage: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rule coverage for %s: %s", project, resp.Status)
	}
	return raw, nil
}
