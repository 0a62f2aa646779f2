package emulator

import (
	"fmt"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
)

// localFCM is the fake FCM v1 endpoint; no Google emulator for FCM exists.
type localFCM struct{ srv *fcmfake.Server }

func startFCM(s *Suite) (*localFCM, error) {
	srv := fcmfake.New(fcmfake.Config{Logger: s.log})
	if err := srv.Start(s.life, s.cfg.Ports.FCM.Addr()); err != nil {
		return nil, fmt.Errorf("fake FCM on %s: %w", s.cfg.Ports.FCM.Addr(), err)
	}
	return &localFCM{srv: srv}, nil
}

func (l *localFCM) close() { l.srv.Close() }

// FCM returns the fake FCM server, to read what was sent.
func (s *Suite) FCM() *fcmfake.Server { return s.fcm.srv }
