package model

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// fieldsOf returns the field names of a *ValidationError (nil for nil) and
// fails loudly on any other error type, which would break errors.As users.
func fieldsOf(err error) []string {
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return []string{"<not a *ValidationError: " + err.Error() + ">"}
	}
	out := make([]string, len(ve.Fields))
	for i, f := range ve.Fields {
		out[i] = f.Field
	}
	return out
}

// wantFields reports whether err is nil when want is "" or a
// *ValidationError naming want among its fields.
func wantFields(err error, want string) bool {
	got := fieldsOf(err)
	if want == "" {
		return got == nil
	}
	return slices.Contains(got, want)
}

func boolPtr(b bool) *bool { return &b }

// runes returns a string of n copies of r.
func runes(r rune, n int) string { return strings.Repeat(string(r), n) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
