package model

import (
	"errors"
	"regexp"
	"testing"
	"unicode"
)

// TestInvisibleRunesSorted: IsInvisible stops at the first range above r, so
// the table must be sorted and without overlaps.
func TestInvisibleRunesSorted(t *testing.T) {
	rs := InvisibleRunes()
	for i, rr := range rs {
		if rr.Lo > rr.Hi || (i > 0 && rr.Lo <= rs[i-1].Hi) {
			t.Errorf("InvisibleRunes()[%d] = %U-%U: not sorted, or overlaps %U-%U", i, rr.Lo, rr.Hi, rs[max(i-1, 0)].Lo, rs[max(i-1, 0)].Hi)
		}
	}
}

// TestIsInvisible names what the set must and must not hold.
func TestIsInvisible(t *testing.T) {
	refused := map[rune]string{
		0x00: "NUL", '\t': "tab", '\n': "newline", 0x1B: "escape", 0x7F: "delete", 0x85: "next line", 0x9F: "C1",
		0xAD: "soft hyphen", 0x34F: "grapheme joiner", 0x61C: "arabic letter mark", 0x3164: "hangul filler",
		0x200B: "zero width space", 0x200E: "LRM", 0x200F: "RLM", 0x2028: "line separator", 0x2029: "paragraph separator",
		0x202A: "LRE", 0x202B: "RLE", 0x202C: "PDF", 0x202D: "LRO", 0x202E: "RLO",
		0x2060: "word joiner", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI",
		0xFEFF: "BOM", 0xFFF9: "interlinear annotation", 0xE0001: "language tag", 0xE0041: "tag A", 0xE007F: "cancel tag",
		0x1D173: "musical begin beam",
	}
	for r, name := range refused {
		if !IsInvisible(r) {
			t.Errorf("IsInvisible(%U %s) = false, want true", r, name)
		}
	}
	allowed := map[rune]string{
		' ': "space", 'a': "a", 0xE9: "é", 0x301: "combining acute", 0x200C: "ZWNJ", 0x200D: "ZWJ",
		0xFE0F: "variation selector 16", 0xE0100: "variation selector 17", 0x180B: "mongolian FVS1",
		0x05D0: "hebrew alef", 0x0627: "arabic alef", 0x1F600: "emoji", 0x3000: "ideographic space", 0x10FFFF: "last code point",
	}
	for r, name := range allowed {
		if IsInvisible(r) {
			t.Errorf("IsInvisible(%U %s) = true, want false", r, name)
		}
	}
	// Every control character unicode.IsControl knows is in the set (the
	// validators refused them before the set existed).
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsControl(r) && !IsInvisible(r) {
			t.Errorf("IsInvisible(%U) = false for a control character", r)
		}
	}
}

// TestLinePattern checks the rules' pattern accepts exactly the code points
// IsInvisible does not refuse (one by one, and inside longer text).
func TestLinePattern(t *testing.T) {
	re := regexp.MustCompile(`^(?:` + LinePattern() + `)$`)
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates are not characters of a UTF-8 string
		}
		if got, want := re.MatchString(string(r)), !IsInvisible(r); got != want {
			t.Fatalf("LinePattern() matches %U = %v, want %v", r, got, want)
		}
	}
	for _, s := range []string{"Team 🚀", "می‌خواهم", "👩‍💻 Dev", "❤️", "שלום (Shalom)", ""} {
		if !re.MatchString(s) {
			t.Errorf("LinePattern() refuses %q, want it accepted", s)
		}
	}
	for _, s := range []string{"admin\u202Egnp.exe", "ad\u200Bmin", "x\u2066y\u2069", "a\nb"} {
		if re.MatchString(s) {
			t.Errorf("LinePattern() accepts %q, want it refused", s)
		}
	}
}

func TestValidateRefusesInvisible(t *testing.T) {
	for _, name := range []string{"Eve\u202E", "\u200BAlice", "Bob\u2067", "Ca\u00ADrol", "Dan\u2028", "E\uFEFF"} {
		err := ValidateUser("u1", User{DisplayName: name})
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "displayName" {
			t.Errorf("ValidateUser(displayName %+q) = %v, want one error on displayName", name, err)
		}
		room := Room{Type: RoomGroup, Title: "Team " + name, CreatedBy: "u0", CreatedAt: t0, MemberIDs: []string{"u0"}, MemberCount: 1, LastMessageAt: t0}
		err = ValidateRoom("g1", room)
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "title" {
			t.Errorf("ValidateRoom(title %+q) = %v, want one error on title", room.Title, err)
		}
	}
	for _, name := range []string{"Zoë 👩‍💻", "می‌خواهم", "❤️ Team"} {
		if err := ValidateUser("u1", User{DisplayName: name}); err != nil {
			t.Errorf("ValidateUser(displayName %q) = %v, want nil", name, err)
		}
	}
}
