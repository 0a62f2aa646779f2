package model

import (
	"fmt"
	"strings"
)

// RuneRange is an inclusive range of code points.
type RuneRange struct {
	Lo, Hi rune
}

// invisibleRunes are the characters that one-line text shown to other users
// (display names, room titles, and the other one-line fields the
// validators check) must not contain. Each is invisible, or changes the
// order or look of the text around it without showing itself, so it lets
// a name pass for another ("ad\u200Bmin" looks like "admin"), carry hidden
// text (tag characters), or flip what follows it in a chat list or a push
// notification ("\u202Egnp.exe" shows as "exe.png"). Names and titles are
// shown inside other text, so a client cannot tell whether such a character
// was meant; there is no loss in refusing them in a name.
//
// The set is the C0 and C1 controls, the line and paragraph separators, and
// Unicode's Default_Ignorable_Code_Point characters, except the ones that
// writing needs and that show no trick of their own:
//
//   - U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER: Persian and
//     the Indic scripts need them inside words, and emoji sequences (👩‍💻)
//     are joined with U+200D;
//   - U+FE00–U+FE0F and U+E0100–U+E01EF, the variation selectors: emoji
//     presentation (❤️ is U+2764 U+FE0F) and ideographic variants;
//   - U+180B–U+180F, the Mongolian variation selectors and vowel separator,
//     which Mongolian text needs.
//
// Refused on purpose although some text uses them: U+200E and U+200F (LEFT-
// TO-RIGHT and RIGHT-TO-LEFT MARK) and U+061C (ARABIC LETTER MARK), which
// reorder neutral characters around them without showing (apps show each
// name in its own bidi isolate, so a name needs no marks), and the tag
// characters U+E0020–U+E007F, which make the subdivision flags (England,
// Scotland, Wales) but can also spell any hidden ASCII text.
//
// The Go validators (checker.text) and the security rules (LinePattern,
// rendered into isLine()) are made from this one table, so they refuse the
// same characters. Message text is multi-line and not checked against it.
var invisibleRunes = [...]RuneRange{
	{0x0000, 0x001F},   // C0 controls, tab and newline included
	{0x007F, 0x009F},   // DELETE and the C1 controls (U+0085 NEXT LINE)
	{0x00AD, 0x00AD},   // SOFT HYPHEN
	{0x034F, 0x034F},   // COMBINING GRAPHEME JOINER
	{0x061C, 0x061C},   // ARABIC LETTER MARK
	{0x115F, 0x1160},   // HANGUL CHOSEONG and JUNGSEONG FILLER (blank letters)
	{0x17B4, 0x17B5},   // KHMER VOWEL INHERENT AQ and AA
	{0x200B, 0x200B},   // ZERO WIDTH SPACE
	{0x200E, 0x200F},   // LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK
	{0x2028, 0x2029},   // LINE and PARAGRAPH SEPARATOR
	{0x202A, 0x202E},   // bidi embeddings and overrides (LRE RLE PDF LRO RLO)
	{0x2060, 0x206F},   // WORD JOINER, invisible operators, bidi isolates (LRI RLI FSI PDI), deprecated format characters
	{0x3164, 0x3164},   // HANGUL FILLER
	{0xFEFF, 0xFEFF},   // ZERO WIDTH NO-BREAK SPACE (byte order mark)
	{0xFFA0, 0xFFA0},   // HALFWIDTH HANGUL FILLER
	{0xFFF0, 0xFFFB},   // reserved, and the interlinear annotation characters
	{0x1BCA0, 0x1BCA3}, // SHORTHAND FORMAT controls
	{0x1D173, 0x1D17A}, // MUSICAL SYMBOL format controls (BEGIN BEAM ...)
	{0xE0000, 0xE00FF}, // LANGUAGE TAG, the tag characters, and reserved
	{0xE01F0, 0xE0FFF}, // reserved default-ignorable code points
}

// InvisibleRunes returns the ranges of characters one-line text may not
// contain (see invisibleRunes for the choice), in ascending order. Each
// call returns a fresh slice.
func InvisibleRunes() []RuneRange {
	return append([]RuneRange(nil), invisibleRunes[:]...)
}

// IsInvisible reports whether r is one of the characters one-line text may
// not contain: a control, a bidirectional formatting character or another
// invisible one (see InvisibleRunes).
func IsInvisible(r rune) bool {
	for _, rr := range invisibleRunes {
		if r < rr.Lo {
			return false
		}
		if r <= rr.Hi {
			return true
		}
	}
	return false
}

// LinePattern is the whole-string RE2 pattern of one-line text: any string
// without a character of InvisibleRunes. The security rules check display
// names with it (isLine), so they refuse what the Go validators refuse.
func LinePattern() string {
	var b strings.Builder
	b.WriteString("[^")
	for _, rr := range invisibleRunes {
		if rr.Lo == rr.Hi {
			fmt.Fprintf(&b, `\x{%X}`, rr.Lo)
		} else {
			fmt.Fprintf(&b, `\x{%X}-\x{%X}`, rr.Lo, rr.Hi)
		}
	}
	b.WriteString("]*")
	return b.String()
}
