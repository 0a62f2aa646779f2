package emulator

import (
	"context"
	"crypto/rsa"
	"fmt"
	"path/filepath"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

// localStorage is the in-process Cloud Storage plus the throwaway service-account key that
// signs its URLs. The key is written to a file (HEARTH_STORAGE_SIGNER) so that `hearth
// serve` and tests in other processes sign exactly as production does with a key file.
type localStorage struct {
	srv        *storagefake.Server
	signerFile string
}

func startStorage(ctx context.Context, s *Suite) (*localStorage, error) {
	signer, err := storagefake.NewTestSigner()
	if err != nil {
		return nil, fmt.Errorf("storage signer: %w", err)
	}
	file := filepath.Join(s.stateDir, "storage-signer.json")
	if err := signer.WriteServiceAccountFile(file, s.cfg.ProjectID); err != nil {
		return nil, fmt.Errorf("storage signer: %w", err)
	}
	p := s.cfg.Ports
	srv, err := storagefake.Start(s.life, storagefake.Config{
		Addr:        p.Storage.Addr(),
		Bucket:      s.cfg.Bucket,
		ProjectID:   s.cfg.ProjectID,
		PubSubAddr:  p.PubSub.Addr(),
		EventPrefix: "media/", // thumbnails under thumbs/ must not re-trigger the checks
		Signers:     map[string]*rsa.PublicKey{signer.AccessID(): signer.PublicKey()},
		Logger:      s.log.With("component", "storage"),
	})
	if err != nil {
		return nil, fmt.Errorf("local storage on %s: %w", p.Storage.Addr(), err)
	}
	if err := srv.Ready(ctx); err != nil {
		srv.Close()
		return nil, fmt.Errorf("local storage: %w", err)
	}
	return &localStorage{srv: srv, signerFile: file}, nil
}

func (l *localStorage) close() { l.srv.Close() }

// Storage returns the in-process storage server (to subscribe to its upload events).
func (s *Suite) Storage() *storagefake.Server { return s.storage.srv }
