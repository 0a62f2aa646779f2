package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/model"
)

// parsedRules is the outline of a rules file: its service, its functions and
// every allow statement with the full match path it sits under.
type parsedRules struct {
	service   string
	functions map[string]string // name -> body (whitespace collapsed)
	allows    []allowStmt
}

type allowStmt struct {
	path    string   // match paths joined: "/databases/{database}/documents/users/{uid}"
	methods []string // get, list, read, create, update, delete, write
	cond    string   // the expression after "if", whitespace collapsed
}

// parseRules reads the outline of Firebase security rules. It understands the
// subset Hearth's templates use: comments, quoted strings, service, match,
// function and allow blocks. It is a test oracle, not a validator of rules
// syntax (the emulator is).
func parseRules(src string) (parsedRules, error) {
	toks, err := tokenizeRules(src)
	if err != nil {
		return parsedRules{}, err
	}
	p := parsedRules{functions: map[string]string{}}
	var stack []string // open blocks: match paths, or "" for others
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "rules_version":
			for i < len(toks) && toks[i] != ";" {
				i++
			}
		case t == "service":
			if i+2 >= len(toks) || toks[i+2] != "{" {
				return p, fmt.Errorf("service: want name {")
			}
			p.service = toks[i+1]
			stack = append(stack, "")
			i += 2
		case t == "match":
			if i+2 >= len(toks) || toks[i+2] != "{" {
				return p, fmt.Errorf("match %s: want path {", toks[i+1])
			}
			stack = append(stack, toks[i+1])
			i += 2
		case t == "function":
			name, _, _ := strings.Cut(toks[i+1], "(") // "f(x)" or "f(x," is one token
			j := i + 2
			for j < len(toks) && toks[j] != "{" {
				j++
			}
			depth, start := 0, j
			for ; j < len(toks); j++ {
				if toks[j] == "{" {
					depth++
				} else if toks[j] == "}" {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j == len(toks) {
				return p, fmt.Errorf("function %s: no closing brace", name)
			}
			p.functions[name] = strings.Join(toks[start+1:j], " ")
			i = j
		case t == "allow":
			j := i + 1
			var methods []string
			for ; j < len(toks) && toks[j] != ":" && toks[j] != ";"; j++ {
				if toks[j] != "," {
					methods = append(methods, toks[j])
				}
			}
			cond := "true"
			if j < len(toks) && toks[j] == ":" {
				if toks[j+1] != "if" {
					return p, fmt.Errorf("allow %v: want if", methods)
				}
				k := j + 2
				for k < len(toks) && toks[k] != ";" {
					k++
				}
				cond = strings.Join(toks[j+2:k], " ")
				j = k
			}
			var path strings.Builder
			for _, s := range stack {
				path.WriteString(s)
			}
			p.allows = append(p.allows, allowStmt{path: path.String(), methods: methods, cond: cond})
			i = j
		case t == "}":
			if len(stack) == 0 {
				return p, fmt.Errorf("unbalanced }")
			}
			stack = stack[:len(stack)-1]
		default:
			return p, fmt.Errorf("unexpected token %q", t)
		}
	}
	if len(stack) != 0 {
		return p, fmt.Errorf("%d blocks not closed", len(stack))
	}
	return p, nil
}

// tokenizeRules splits rules source into tokens: quoted strings, paths and
// words as single tokens (a call with its arguments stays one token when it
// has no spaces), and the punctuation { } ; : , as their own.
// Comments are dropped.
func tokenizeRules(src string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/' && cur.Len() == 0:
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			cur.WriteString(src[i : j+1])
			i = j
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			flush()
		case c == '{' && cur.Len() > 0:
			cur.WriteByte(c) // a path wildcard: /rooms/{roomId}
		case strings.IndexByte("{};:,", c) >= 0 && !inPathInterpolation(cur.String()):
			flush()
			toks = append(toks, string(c))
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return toks, nil
}

// inPathInterpolation reports whether a token being built is a path with an
// open wildcard or interpolation ("/rooms/{roomId" or "$(x"), whose braces
// belong to the token.
func inPathInterpolation(tok string) bool {
	return strings.Count(tok, "{") > strings.Count(tok, "}") || strings.Count(tok, "(") > strings.Count(tok, ")")
}

func parseRendered(t *testing.T) (fs, st parsedRules) {
	t.Helper()
	fsSrc, stSrc, err := Render()
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	fs, err = parseRules(string(fsSrc))
	if err != nil {
		t.Fatalf("parseRules(firestore.rules) error = %v", err)
	}
	st, err = parseRules(string(stSrc))
	if err != nil {
		t.Fatalf("parseRules(storage.rules) error = %v", err)
	}
	return fs, st
}

// TestStorageRules checks the Storage rules statically: the Storage emulator
// needs Java 21 and is not part of the local suite, so they cannot be
// executed here. No client may write anything; members of the room in the
// path read single objects, as Firestore's rooms/{roomId}.memberIds says;
// admins read everything.
func TestStorageRules(t *testing.T) {
	_, st := parseRendered(t)
	if st.service != "firebase.storage" {
		t.Errorf("storage.rules service = %q, want firebase.storage", st.service)
	}
	var got []string
	for _, a := range st.allows {
		got = append(got, fmt.Sprintf("%s %s: %s", a.path, strings.Join(a.methods, ","), a.cond))
	}
	want := []string{
		"/b/{bucket}/o/" + model.MediaPrefix + "/{roomId}/{uid}/{file} get: isMember(roomId) && isReady(file) || isAdmin() && notRemoved(file)",
		"/b/{bucket}/o/" + model.ThumbPrefix + "/{roomId}/{uid}/{file} get: isMember(roomId) && isReady(file) || isAdmin() && notRemoved(file)",
		// The tokenizer spaces the comma.
		"/b/{bucket}/o/{top}/{rest=**} get: isAdmin() && !(top in ['" + model.MediaPrefix + "' , '" + model.ThumbPrefix + "'])",
	}
	if !slices.Equal(got, want) {
		t.Errorf("storage.rules allows =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	member := st.functions["isMember"]
	for _, part := range []string{
		"request.auth.uid in firestore.get(/databases/(default)/documents/rooms/$(roomId)).data.memberIds",
		"roomId.matches('" + model.RoomIDPattern + "')",
		"signedIn()",
	} {
		if !strings.Contains(member, part) {
			t.Errorf("storage.rules isMember = %q, want it to contain %q", member, part)
		}
	}
	if admin := st.functions["isAdmin"]; !strings.Contains(admin, "request.auth.token.get('admin', false) == true") {
		t.Errorf("storage.rules isAdmin = %q, want the admin claim check", admin)
	}
	// An upload's objects are readable while its record says so: members once it is
	// ready (never while pending or rejected, never once removed), admins until it is
	// removed (media.UploadRemoved).
	record := "/databases/(default)/documents/uploads/$(file.split('[.]')[0])"
	if up := st.functions["upload"]; !strings.Contains(up, record) {
		t.Errorf("storage.rules upload = %q, want the record path %q", up, record)
	}
	if ready := st.functions["isReady"]; !strings.Contains(ready, "firestore.get(upload(file)).data.status == 'ready'") {
		t.Errorf("storage.rules isReady = %q, want the record's status == 'ready'", ready)
	}
	if nr := st.functions["notRemoved"]; !strings.Contains(nr, "firestore.get(upload(file)).data.status != '"+string(media.UploadRemoved)+"'") ||
		!strings.Contains(nr, "!firestore.exists(upload(file))") {
		t.Errorf("storage.rules notRemoved = %q, want the record's status != '%s'", nr, media.UploadRemoved)
	}
}

// TestFirestoreRulesInventory lists every (path, method) the Firestore rules
// grant to anyone. A change here widens or narrows what clients may do and
// should be reviewed as such; docs/security.md has the same table in words.
func TestFirestoreRulesInventory(t *testing.T) {
	fs, _ := parseRendered(t)
	if fs.service != "cloud.firestore" {
		t.Errorf("firestore.rules service = %q, want cloud.firestore", fs.service)
	}
	var got []string
	for _, a := range fs.allows {
		path := strings.TrimPrefix(a.path, "/databases/{database}/documents")
		for _, m := range a.methods {
			got = append(got, path+" "+m)
		}
	}
	want := []string{
		"/{document=**} read",
		"/users/{uid} get",
		"/users/{uid} create",
		"/users/{uid} update",
		"/users/{uid}/memberships/{roomId} get",
		"/users/{uid}/memberships/{roomId} list",
		"/users/{uid}/memberships/{roomId} update",
		"/users/{uid}/devices/{deviceId} get",
		"/users/{uid}/devices/{deviceId} list",
		"/users/{uid}/inbox/{roomId} get",
		"/users/{uid}/inbox/{roomId} list",
		"/users/{uid}/threadMutes/{threadId} get",
		"/users/{uid}/threadMutes/{threadId} list",
		"/users/{uid}/threadMutes/{threadId} create",
		"/users/{uid}/threadMutes/{threadId} delete",
		"/users/{uid}/blocks/{otherUid} get",
		"/users/{uid}/blocks/{otherUid} list",
		"/users/{uid}/blocks/{otherUid} create",
		"/users/{uid}/blocks/{otherUid} delete",
		"/presence/{uid} get",
		"/presence/{uid} create",
		"/presence/{uid} update",
		"/rooms/{roomId} get",
		"/rooms/{roomId} list",
		"/rooms/{roomId}/members/{uid} get",
		"/rooms/{roomId}/members/{uid} list",
		"/rooms/{roomId}/readCounts/{docId} get",
		"/rooms/{roomId}/readCounts/{docId} list",
		"/rooms/{roomId}/messages/{messageId} get",
		"/rooms/{roomId}/messages/{messageId} list",
		"/rooms/{roomId}/messages/{messageId} create",
		"/rooms/{roomId}/messages/{messageId} update",
		"/rooms/{roomId}/typing/{uid} get",
		"/rooms/{roomId}/typing/{uid} list",
		"/rooms/{roomId}/typing/{uid} create",
		"/rooms/{roomId}/typing/{uid} update",
		"/rooms/{roomId}/messages/{messageId}/reactions/{uid} get",
		"/rooms/{roomId}/messages/{messageId}/reactions/{uid} list",
		"/rooms/{roomId}/messages/{messageId}/reactions/{uid} create",
		"/rooms/{roomId}/messages/{messageId}/reactions/{uid} update",
		"/rooms/{roomId}/messages/{messageId}/reactions/{uid} delete",
	}
	if !slices.Equal(got, want) {
		t.Errorf("firestore.rules grants =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, a := range fs.allows {
		if a.cond == "true" || a.cond == "" {
			t.Errorf("firestore.rules %s %v: unconditional allow", a.path, a.methods)
		}
		if strings.HasSuffix(a.path, "/{document=**}") && !slices.Equal(a.methods, []string{"read"}) {
			t.Errorf("firestore.rules catch-all %s grants %v, want read only", a.path, a.methods)
		}
	}
}

func TestParseRules(t *testing.T) {
	src := `rules_version = '2';
// a comment with { braces } and 'quotes'
service cloud.firestore {
  match /databases/{database}/documents {
    function f(x) { let y = x; return y == 'a;b}' && get(/a/$(x)/b).data.c; }
    match /a/{id} {
      allow get, list: if f(id); // trailing comment
      allow create;
    }
  }
}`
	p, err := parseRules(src)
	if err != nil {
		t.Fatalf("parseRules() error = %v", err)
	}
	want := []allowStmt{
		{"/databases/{database}/documents/a/{id}", []string{"get", "list"}, "f(id)"},
		{"/databases/{database}/documents/a/{id}", []string{"create"}, "true"},
	}
	if len(p.allows) != len(want) {
		t.Fatalf("parseRules() allows = %+v, want %+v", p.allows, want)
	}
	for i := range want {
		if p.allows[i].path != want[i].path || !slices.Equal(p.allows[i].methods, want[i].methods) || p.allows[i].cond != want[i].cond {
			t.Errorf("parseRules() allow %d = %+v, want %+v", i, p.allows[i], want[i])
		}
	}
	if got := p.functions["f"]; got != "let y = x ; return y == 'a;b}' && get(/a/$(x)/b).data.c ;" {
		t.Errorf("parseRules() function f = %q", got)
	}
	if p.service != "cloud.firestore" {
		t.Errorf("parseRules() service = %q, want cloud.firestore", p.service)
	}
	for _, bad := range []string{"service x { match /a {", "service x { } }", "allow read: if 'open"} {
		if _, err := parseRules(bad); err == nil {
			t.Errorf("parseRules(%q) error = nil, want an error", bad)
		}
	}
}
