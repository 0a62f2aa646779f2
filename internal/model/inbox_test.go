package model

import (
	"testing"
	"unicode/utf8"
)

func TestPreviewOf(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"short", "hello", "hello"},
		{"exactly max", runes('a', MaxPreviewLen), runes('a', MaxPreviewLen)},
		{"one over", runes('a', MaxPreviewLen+1), runes('a', MaxPreviewLen-1) + "…"},
		{"multibyte over", runes('😀', MaxPreviewLen+10), runes('😀', MaxPreviewLen-1) + "…"},
		{"multibyte exactly", runes('ж', MaxPreviewLen), runes('ж', MaxPreviewLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PreviewOf(tt.in)
			if got != tt.want {
				t.Errorf("PreviewOf(%d runes) = %q, want %q", utf8.RuneCountInString(tt.in), got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > MaxPreviewLen || !utf8.ValidString(got) {
				t.Errorf("PreviewOf(%d runes) = %d runes, valid=%v, want <= %d, valid", utf8.RuneCountInString(tt.in), n, utf8.ValidString(got), MaxPreviewLen)
			}
		})
	}
}
