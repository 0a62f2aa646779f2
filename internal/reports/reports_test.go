package reports

import (
	"testing"

	"github.com/hearth-chat/hearth/internal/clock"
)

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		ok   bool
		name string
	}{
		{Config{HideThreshold: DefaultHideThreshold, PerHour: DefaultPerHour}, true, "defaults"},
		{Config{HideThreshold: 1, PerHour: 1}, true, "smallest"},
		{Config{HideThreshold: 0, PerHour: 1}, false, "threshold 0"},
		{Config{HideThreshold: 1, PerHour: 0}, false, "per hour 0"},
		{Config{HideThreshold: -1, PerHour: -1}, false, "negative"},
	} {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%s %+v) = %v, want ok %v", tt.name, tt.cfg, err, tt.ok)
		}
	}
}

func TestNewNeedsDeps(t *testing.T) {
	if _, err := New(Config{HideThreshold: 1, PerHour: 1}, Deps{Clock: clock.System{}}); err == nil {
		t.Error("New(no Firestore, rooms, auditor) = nil error")
	}
}

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		id            string
		room, message string
		ok            bool
	}{
		{"team~m1", "team", "m1", true},
		{"team~m_1-x", "team", "m_1-x", true},
		{"team", "", "", false},
		{"~m1", "", "", false},
		{"team~", "", "", false},
		{"te_am~m1", "", "", false}, // '_' is no room id character
		{"team~m1~x", "", "", false},
		{"team~m/1", "", "", false},
		{"team~__x__", "", "", false},
	} {
		r, m, ok := ParseID(tt.id)
		if r != tt.room || m != tt.message || ok != tt.ok {
			t.Errorf("ParseID(%q) = %q, %q, %v, want %q, %q, %v", tt.id, r, m, ok, tt.room, tt.message, tt.ok)
		}
	}
}
