package firestoreevent

import "strings"

// Match matches a relative document path against a trigger pattern and returns the
// captured wildcards. Pattern segments are literals, "{name}" (one segment, also
// written "{name=*}"), or a final "{name=**}" (zero or more segments, captured joined by
// "/", as the emulator matches "rooms/{r}/{rest=**}" to "rooms/r1" with rest ""); bare
// "*" and "**" match without capturing. Match("rooms/{roomId}/messages/{messageId}",
// "rooms/r1/messages/m1") returns {"roomId": "r1", "messageId": "m1"}, true. A
// malformed pattern matches nothing.
func Match(pattern, document string) (map[string]string, bool) {
	pat := strings.Split(strings.Trim(pattern, "/"), "/")
	doc := strings.Split(strings.Trim(document, "/"), "/")
	params := make(map[string]string)
	for i, seg := range pat {
		name, wild, ok := parseSegment(seg)
		if !ok {
			return nil, false
		}
		if wild == "**" {
			if i != len(pat)-1 || !allNonEmpty(doc[min(i, len(doc)):]) {
				return nil, false
			}
			if name != "" {
				params[name] = strings.Join(doc[min(i, len(doc)):], "/")
			}
			return params, true
		}
		if i >= len(doc) || doc[i] == "" {
			return nil, false
		}
		switch {
		case wild == "*":
			if name != "" {
				params[name] = doc[i]
			}
		case seg != doc[i]:
			return nil, false
		}
	}
	if len(doc) != len(pat) {
		return nil, false
	}
	return params, true
}

// parseSegment splits a pattern segment into its capture name and wildcard ("*",
// "**", or "" for a literal).
func parseSegment(seg string) (name, wild string, ok bool) {
	switch {
	case seg == "*" || seg == "**":
		return "", seg, true
	case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
		name, wild, found := strings.Cut(seg[1:len(seg)-1], "=")
		if !found {
			wild = "*"
		}
		if name == "" || strings.ContainsAny(name, "{}=*") || (wild != "*" && wild != "**") {
			return "", "", false
		}
		return name, wild, true
	case strings.ContainsAny(seg, "{}*") || seg == "":
		return "", "", false
	}
	return "", "", true
}

func allNonEmpty(segs []string) bool {
	for _, s := range segs {
		if s == "" {
			return false
		}
	}
	return true
}
