package model

import (
	"strings"
	"testing"
)

func TestValidateDevice(t *testing.T) {
	valid := Device{Token: "fcm:APA91bH-abc_DEF", Platform: PlatformAndroid, Locale: "en-US", AppVersion: "2.3.1 (451)", UpdatedAt: t0}
	tests := []struct {
		name      string
		deviceID  string
		edit      func(*Device)
		wantField string
	}{
		{"valid", "3f1c2b9e-8d7a-4c6b-9e0f-1a2b3c4d5e6f", func(*Device) {}, ""},
		{"ios no optionals", "d1", func(d *Device) { d.Platform = PlatformIOS; d.Locale = ""; d.AppVersion = "" }, ""},
		{"web", "d1", func(d *Device) { d.Platform = PlatformWeb }, ""},
		{"token max", "d1", func(d *Device) { d.Token = strings.Repeat("t", MaxDeviceTokenLen) }, ""},
		{"token too long", "d1", func(d *Device) { d.Token = strings.Repeat("t", MaxDeviceTokenLen+1) }, "token"},
		{"token empty", "d1", func(d *Device) { d.Token = "" }, "token"},
		{"token space", "d1", func(d *Device) { d.Token = "a b" }, "token"},
		{"token non-ascii", "d1", func(d *Device) { d.Token = "aé" }, "token"},
		{"platform empty", "d1", func(d *Device) { d.Platform = "" }, "platform"},
		{"platform unknown", "d1", func(d *Device) { d.Platform = "windows" }, "platform"},
		{"locale lang", "d1", func(d *Device) { d.Locale = "de" }, ""},
		{"locale script region", "d1", func(d *Device) { d.Locale = "zh-Hant-TW" }, ""},
		{"locale ios underscore", "d1", func(d *Device) { d.Locale = "en_GB" }, ""},
		{"locale numeric region", "d1", func(d *Device) { d.Locale = "es-419" }, ""},
		{"locale one letter", "d1", func(d *Device) { d.Locale = "e" }, "locale"},
		{"locale digits in language", "d1", func(d *Device) { d.Locale = "e1-US" }, "locale"},
		{"locale trailing dash", "d1", func(d *Device) { d.Locale = "en-" }, "locale"},
		{"locale double dash", "d1", func(d *Device) { d.Locale = "en--US" }, "locale"},
		{"locale long subtag", "d1", func(d *Device) { d.Locale = "en-abcdefghi" }, "locale"},
		{"locale too long", "d1", func(d *Device) { d.Locale = "en" + strings.Repeat("-abcdefgh", 4) }, "locale"},
		{"app version max", "d1", func(d *Device) { d.AppVersion = runes('9', MaxAppVersionLen) }, ""},
		{"app version too long", "d1", func(d *Device) { d.AppVersion = runes('9', MaxAppVersionLen+1) }, "appVersion"},
		{"bad device id", "..", func(*Device) {}, "deviceId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid
			tt.edit(&d)
			if err := ValidateDevice(tt.deviceID, d); !wantFields(err, tt.wantField) {
				t.Errorf("ValidateDevice(%q, %+v) = %v, want error on %q", tt.deviceID, d, err, tt.wantField)
			}
		})
	}
}
