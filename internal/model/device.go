package model

import (
	"strings"
	"time"
	"unicode"
)

// Platform is the operating system of a device, which picks the FCM payload
// (APNs or Android options).
type Platform string

// The platforms.
const (
	PlatformIOS     Platform = "ios"
	PlatformAndroid Platform = "android"
	PlatformWeb     Platform = "web"
)

// Valid reports whether p is one of the defined platforms.
func (p Platform) Valid() bool {
	switch p {
	case PlatformIOS, PlatformAndroid, PlatformWeb:
		return true
	}
	return false
}

// Platforms returns every Platform.
func Platforms() []Platform {
	return []Platform{PlatformIOS, PlatformAndroid, PlatformWeb}
}

// Device is users/{uid}/devices/{deviceId}: one FCM registration. Hearth
// writes it (PUT /v1/devices/{deviceId}); the owner may read it. The
// deviceId is chosen by the app (e.g. its Firebase installation id or a
// UUID kept in local storage), so re-registering replaces the old token.
type Device struct {
	Token      string    `firestore:"token"`
	Platform   Platform  `firestore:"platform"`
	Locale     string    `firestore:"locale,omitempty"`
	AppVersion string    `firestore:"appVersion,omitempty"`
	UpdatedAt  time.Time `firestore:"updatedAt"`
}

// ValidateDevice checks a device registration: deviceId a valid id, token
// 1..MaxDeviceTokenLen bytes without spaces or control characters, platform
// a valid Platform, locale empty or BCP 47-like ("en", "en-US", "zh-Hant-TW";
// "_" is accepted as separator because iOS identifiers use it), appVersion at
// most MaxAppVersionLen runes.
func ValidateDevice(deviceID string, d Device) error {
	var c checker
	if reason := idProblem(deviceID); reason != "" {
		c.add("deviceId", "%s", reason)
	}
	switch {
	case d.Token == "":
		c.add("token", "required")
	case len(d.Token) > MaxDeviceTokenLen:
		c.add("token", "too long: %d > %d bytes", len(d.Token), MaxDeviceTokenLen)
	case strings.ContainsFunc(d.Token, func(r rune) bool { return r > unicode.MaxASCII || r <= ' ' || r == 0x7f }):
		c.add("token", "must be printable ASCII without spaces")
	}
	if !d.Platform.Valid() {
		c.add("platform", "must be one of %q", Platforms())
	}
	if d.Locale != "" && !validLocale(d.Locale) {
		c.add("locale", "must be a BCP 47 language tag like en-US")
	}
	c.text("appVersion", d.AppVersion, 0, MaxAppVersionLen, false)
	return c.err()
}

// validLocale accepts a language subtag of 2..8 letters followed by subtags
// of 1..8 letters or digits, separated by '-' or '_', at most MaxLocaleLen
// bytes. It is a shape check, not a registry lookup: the locale only picks
// notification text.
func validLocale(s string) bool {
	if len(s) > MaxLocaleLen {
		return false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) == 0 || strings.Count(s, "-")+strings.Count(s, "_") != len(parts)-1 {
		return false // empty subtag: leading, trailing or doubled separator
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 8 || i == 0 && len(p) < 2 {
			return false
		}
		for _, r := range p {
			letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			if !letter && (i == 0 || !('0' <= r && r <= '9')) {
				return false
			}
		}
	}
	return true
}
