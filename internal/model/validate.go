package model

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError says why one field of a document or request is invalid. Field is
// the Firestore field path ("text", "media.size", "mentions[2]") or, for an
// id that lives in the document path, its placeholder name ("roomId").
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError lists every invalid field of a document or request, so a
// client sees all its mistakes at once. Check for it with errors.As; the API
// maps it to 400 INVALID_ARGUMENT.
type ValidationError struct {
	Fields []FieldError
}

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Unwrap returns the field errors, so errors.As can also find a FieldError.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// JoinValidation returns nil or one *ValidationError listing, in order, the fields
// of the *ValidationErrors among errs (nil entries are skipped), so a request that
// is checked by several validators reports all its mistakes at once. An error of
// another kind is returned as it is.
func JoinValidation(errs ...error) error {
	var c checker
	for _, err := range errs {
		if err == nil {
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		c.fields = append(c.fields, ve.Fields...)
	}
	return c.err()
}

// checker collects field errors of one validation.
type checker struct {
	fields []FieldError
}

func (c *checker) add(field, format string, args ...any) {
	c.fields = append(c.fields, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// err returns nil or a *ValidationError; never a typed nil inside an error.
func (c *checker) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: c.fields}
}

// text checks a string of min..max runes. One-line text (multiline false:
// names, titles) may not hold a character of InvisibleRunes: controls,
// newlines, bidirectional formatting and other invisible characters.
func (c *checker) text(field, s string, minLen, maxLen int, multiline bool) {
	if !utf8.ValidString(s) {
		c.add(field, "not valid UTF-8")
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen && n == 0:
		c.add(field, "required")
		return
	case n < minLen:
		c.add(field, "too short: %d < %d characters", n, minLen)
		return
	case n > maxLen:
		c.add(field, "too long: %d > %d characters", n, maxLen)
		return
	}
	if multiline {
		return
	}
	if i := strings.IndexFunc(s, IsInvisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		c.add(field, "contains the invisible or control character %U", r)
	}
}

// httpsURL checks an optional https URL (photoURL); "" is accepted.
func (c *checker) httpsURL(field, s string) {
	if s == "" {
		return
	}
	if n := utf8.RuneCountInString(s); n > MaxPhotoURLLen {
		c.add(field, "too long: %d > %d characters", n, MaxPhotoURLLen)
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
		strings.ContainsFunc(s, unicode.IsSpace) {
		c.add(field, "must be an https URL")
	}
}

// ids checks a list of distinct ids of at most maxLen entries.
func (c *checker) ids(field string, ids []string, maxLen int) {
	if len(ids) > maxLen {
		c.add(field, "too many: %d > %d", len(ids), maxLen)
		return
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if reason := idProblem(id); reason != "" {
			c.add(f, "%s", reason)
			continue
		}
		if seen[id] {
			c.add(f, "duplicate %q", id)
		}
		seen[id] = true
	}
}
