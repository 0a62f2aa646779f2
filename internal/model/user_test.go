package model

import (
	"strings"
	"testing"
)

func TestValidateUser(t *testing.T) {
	valid := User{DisplayName: "Ann", PhotoURL: "https://example.com/a.png", CreatedAt: t0,
		Settings: UserSettings{ReadReceipts: boolPtr(true), NotificationPreviews: boolPtr(false)}}
	tests := []struct {
		name      string
		uid       string
		edit      func(*User)
		wantField string
	}{
		{"valid", "u1", func(*User) {}, ""},
		{"no photo, no settings", "u1", func(u *User) { u.PhotoURL = ""; u.Settings = UserSettings{} }, ""},
		{"name 1 rune", "u1", func(u *User) { u.DisplayName = "A" }, ""},
		{"name max runes multibyte", "u1", func(u *User) { u.DisplayName = runes('名', MaxDisplayNameLen) }, ""},
		{"name max emoji", "u1", func(u *User) { u.DisplayName = runes('😀', MaxDisplayNameLen) }, ""},
		{"name empty", "u1", func(u *User) { u.DisplayName = "" }, "displayName"},
		{"name too long", "u1", func(u *User) { u.DisplayName = runes('a', MaxDisplayNameLen+1) }, "displayName"},
		{"name too long multibyte", "u1", func(u *User) { u.DisplayName = runes('名', MaxDisplayNameLen+1) }, "displayName"},
		{"name newline", "u1", func(u *User) { u.DisplayName = "A\nB" }, "displayName"},
		{"name invalid utf8", "u1", func(u *User) { u.DisplayName = "\xff" }, "displayName"},
		{"photo http", "u1", func(u *User) { u.PhotoURL = "http://example.com/a.png" }, "photoURL"},
		{"photo javascript", "u1", func(u *User) { u.PhotoURL = "javascript:alert(1)" }, "photoURL"},
		{"photo no host", "u1", func(u *User) { u.PhotoURL = "https:///a.png" }, "photoURL"},
		{"photo userinfo", "u1", func(u *User) { u.PhotoURL = "https://user:pw@example.com/" }, "photoURL"},
		{"photo max len", "u1", func(u *User) {
			u.PhotoURL = "https://e.com/" + strings.Repeat("a", MaxPhotoURLLen-len("https://e.com/"))
		}, ""},
		{"photo too long", "u1", func(u *User) {
			u.PhotoURL = "https://e.com/" + strings.Repeat("a", MaxPhotoURLLen-len("https://e.com/")+1)
		}, "photoURL"},
		{"bad uid", "u/1", func(*User) {}, "uid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := valid
			tt.edit(&u)
			if err := ValidateUser(tt.uid, u); !wantFields(err, tt.wantField) {
				t.Errorf("ValidateUser(%q, %+v) = %v, want error on %q", tt.uid, u, err, tt.wantField)
			}
		})
	}
}

func TestUserSettingsDefaults(t *testing.T) {
	tests := []struct {
		in   *bool
		want bool
	}{{nil, true}, {boolPtr(true), true}, {boolPtr(false), false}}
	for _, tt := range tests {
		s := UserSettings{ReadReceipts: tt.in, NotificationPreviews: tt.in}
		if got := s.ReadReceiptsEnabled(); got != tt.want {
			t.Errorf("ReadReceiptsEnabled(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if got := s.NotificationPreviewsEnabled(); got != tt.want {
			t.Errorf("NotificationPreviewsEnabled(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
