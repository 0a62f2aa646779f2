// Package envconfig reads Hearth's typed config structs from environment variables
// with github.com/caarlos0/env, and describes them (for `hearth config` and
// docs/configuration.md) from the same struct tags.
//
// A setting is a struct field with these tags:
//
//	env:"HEARTH_X"       the variable (required for a setting)
//	envDefault:"10s"     its default, in the variable's own syntax
//	doc:"..."            one line for the docs and `hearth config`
//	secret:"true"        its value is never printed, nor echoed in an error
//
// Nested structs without an env tag are walked. An unset or empty variable leaves
// the default; a value that does not parse is an error naming the variable, never a
// zero.
package envconfig

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Lookup reads one variable (os.LookupEnv in production, a map in tests).
type Lookup func(string) (string, bool)

// Map returns a Lookup of m.
func Map(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Overlay returns a Lookup that answers from over first, then from base.
func Overlay(base Lookup, over map[string]string) Lookup {
	return func(k string) (string, bool) {
		if v, ok := over[k]; ok {
			return v, true
		}
		return base(k)
	}
}

// VarError is a variable whose value does not parse.
type VarError struct {
	// Var is the variable.
	Var string
	// Err says why (without the value of a secret).
	Err error
}

func (e *VarError) Error() string { return e.Var + e.Err.Error() }

func (e *VarError) Unwrap() error { return e.Err }

// BadVars returns the variables of the VarErrors in err (one, or joined).
func BadVars(err error) []string {
	var out []string
	if ve, ok := err.(*VarError); ok {
		out = append(out, ve.Var)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, BadVars(e)...)
		}
	}
	return out
}

// Field describes one setting of a config struct.
type Field struct {
	// Path is the Go path of the field below the struct given to Fields: "Retry.MaxAttempts".
	Path string
	// Var is the environment variable.
	Var string
	// Default is the envDefault tag ("" without one).
	Default string
	// Doc is the doc tag.
	Doc string
	// Secret marks a value that is never shown.
	Secret bool
	// Type is the field's type.
	Type reflect.Type
	// Value is the field's value in the struct given to Fields.
	Value reflect.Value
}

// Fields lists the settings of the struct v points to (or is), nested structs
// included, in field order.
func Fields(v any) []Field {
	var out []Field
	walk(structValue(v), "", true, &out)
	return out
}

// OwnFields lists the settings of the struct v points to (or is) without those of
// its nested structs.
func OwnFields(v any) []Field {
	var out []Field
	walk(structValue(v), "", false, &out)
	return out
}

func structValue(v any) reflect.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	return rv
}

func walk(rv reflect.Value, prefix string, deep bool, out *[]Field) {
	rt := rv.Type()
	for i := range rt.NumField() {
		sf := rt.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
		if name == "" || name == "-" {
			if deep && sf.Type.Kind() == reflect.Struct && name == "" {
				walk(rv.Field(i), prefix+sf.Name+".", deep, out)
			}
			continue
		}
		*out = append(*out, Field{
			Path:    prefix + sf.Name,
			Var:     name,
			Default: sf.Tag.Get("envDefault"),
			Doc:     sf.Tag.Get("doc"),
			Secret:  sf.Tag.Get("secret") == "true",
			Type:    sf.Type,
			Value:   rv.Field(i),
		})
	}
}

// Vars returns the variables of v's settings, each once, in field order.
func Vars(v any) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range Fields(v) {
		if !seen[f.Var] {
			seen[f.Var] = true
			out = append(out, f.Var)
		}
	}
	return out
}

// Parse fills the struct v points to from the variables lookup returns, defaults
// included. It reports every variable that does not parse, each error naming its
// variable (and its value, unless the setting is secret). On error, v must not be
// used.
func Parse(lookup Lookup, v any) error {
	environment := make(map[string]string) // non-nil: caarlos0 reads os.Environ for a nil map
	for _, name := range Vars(v) {
		if val, ok := lookup(name); ok {
			environment[name] = val
		}
	}
	err := env.ParseWithOptions(v, options(environment))
	if err == nil {
		return nil
	}
	// caarlos0 names the struct field of a bad value, not its variable, and field
	// names repeat across components (Workers): parse each set variable alone to
	// find the bad ones.
	var errs []error
	for _, f := range Fields(v) {
		val := environment[f.Var]
		if val == "" && f.Default == "" {
			continue
		}
		if perr := parseOne(f, environment); perr != nil {
			errs = append(errs, perr)
		}
	}
	var agg env.AggregateError
	if errors.As(err, &agg) {
		for _, e := range agg.Errors {
			var pe env.ParseError
			if !errors.As(e, &pe) {
				errs = append(errs, e) // not a value of a variable: a bad tag, say
			}
		}
	}
	if len(errs) == 0 {
		return err // the one-variable parses did not reproduce it: report it as it came
	}
	return errors.Join(errs...)
}

// parseOne parses f's variable alone into a fresh value of f's type.
func parseOne(f Field, environment map[string]string) error {
	tag := fmt.Sprintf(`env:%q`, f.Var)
	if f.Default != "" {
		tag += fmt.Sprintf(` envDefault:%q`, f.Default)
	}
	st := reflect.StructOf([]reflect.StructField{{Name: "V", Type: f.Type, Tag: reflect.StructTag(tag)}})
	one := map[string]string{}
	if val, ok := environment[f.Var]; ok {
		one[f.Var] = val
	}
	err := env.ParseWithOptions(reflect.New(st).Interface(), options(one))
	if err == nil {
		return nil
	}
	var pe env.ParseError
	if !errors.As(err, &pe) {
		return &VarError{Var: f.Var, Err: fmt.Errorf(": %w", err)}
	}
	val, set := environment[f.Var]
	switch {
	case !set || val == "":
		return &VarError{Var: f.Var, Err: fmt.Errorf(": default %q is not a valid %s: %w", f.Default, TypeName(f.Type), pe.Err)}
	case f.Secret:
		return &VarError{Var: f.Var, Err: fmt.Errorf(": not a valid %s (secret value not shown)", TypeName(f.Type))}
	}
	return &VarError{Var: f.Var, Err: fmt.Errorf("=%q: not a valid %s: %w", val, TypeName(f.Type), pe.Err)}
}

var (
	boolType  = reflect.TypeFor[bool]()
	listType  = reflect.TypeFor[[]string]()
	durType   = reflect.TypeFor[time.Duration]()
	textUnmar = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func options(environment map[string]string) env.Options {
	return env.Options{
		Environment: environment,
		FuncMap: map[reflect.Type]env.ParserFunc{
			boolType: func(v string) (any, error) { return ParseSwitch(v) },
			listType: func(v string) (any, error) { return SplitList(v), nil },
		},
	}
}

// ParseSwitch reads a boolean setting: on/off, true/false, yes/no, 1/0, t/f, in any case.
func ParseSwitch(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "t":
		return true, nil
	case "off", "false", "no", "0", "f":
		return false, nil
	}
	return false, fmt.Errorf("%q: want on or off (true/false, yes/no, 1/0)", v)
}

// SplitList reads a comma-separated list, trimming spaces and dropping empty items.
func SplitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// TypeName is the type of a setting as the docs name it.
func TypeName(t reflect.Type) string {
	switch {
	case t == durType:
		return "duration"
	case t == boolType:
		return "switch"
	case t == listType:
		return "list"
	case reflect.PointerTo(t).Implements(textUnmar):
		return "enum"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.String:
		return "string"
	}
	return t.String()
}

// Write prints fields as a "# title" line and VAR=value lines, each value quoted for a
// POSIX shell where it needs it; a secret shows only whether it is set.
func Write(b *strings.Builder, title string, fields []Field) {
	fmt.Fprintf(b, "# %s\n", title)
	for _, f := range fields {
		fmt.Fprintf(b, "%s=%s\n", f.Var, shellQuote(Format(f)))
	}
}

// shellQuote quotes v for a POSIX shell when it needs it.
func shellQuote(v string) string {
	if strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:,@+=", r))
	}) < 0 {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// Format renders f's current value in its variable's syntax; a secret shows only
// whether it is set.
func Format(f Field) string {
	if f.Secret {
		if f.Value.IsZero() {
			return ""
		}
		return "(secret, set)"
	}
	if f.Value.IsZero() && f.Default == "" {
		return "" // unset: the component derives it (see its doc)
	}
	v := f.Value.Interface()
	switch x := v.(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case []string:
		return strings.Join(x, ",")
	case time.Duration:
		return x.String()
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return fmt.Sprintf("(%v)", err)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}
