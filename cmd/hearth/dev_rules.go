package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/rules"
)

// devRules loads the Firestore rules named in firebase.json into the emulator, and reloads
// them whenever the file changes (after `hearth rules render`, say).
func devRules(ctx context.Context, s *devStack, suite *emulator.Suite, log *slog.Logger) error {
	host, project := s.cfg.Ports.Firestore.Addr(), s.cfg.ProjectID
	path := filepath.Join(s.cfg.Root, s.cfg.FirestoreRules)
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("firestore rules: %w (run `hearth rules render`)", err)
	}
	if err := emulator.LoadFirestoreRules(ctx, host, project, string(src)); err != nil {
		return err
	}
	s.runners = append(s.runners, func(ctx context.Context) error {
		return rules.Watch(ctx, path, func(src string) error {
			err := emulator.LoadFirestoreRules(ctx, host, project, src)
			if err != nil {
				log.Warn("rules not reloaded; the previous rules stay in force", "file", path, "err", err)
			} else {
				log.Info("rules reloaded", "file", path)
			}
			return err
		})
	})
	return nil
}
