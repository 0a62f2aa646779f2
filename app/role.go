package app

import (
	"fmt"
	"strings"
)

// Roles are what one `hearth serve` process does (HEARTH_ROLE, --role), so that a
// deployment can run each part as its own Cloud Run service with the settings it needs:
//   - RoleAPI: the apps' routes, /v1 and /admin/v1 (and /openapi.json);
//   - RoleEvents: /events/* (Eventarc) and /schedulers/{name} (Cloud Scheduler),
//     behind the OIDC check; needs HEARTH_EVENTS on;
//   - RoleWorker: the background loops (App.Background): the scheduler registry (the
//     push flusher, media expiry, presence sweep, typing cleanup) and the media
//     checks' Pub/Sub receiver. A process without it runs no loop at all.
//
// Every process serves /healthz, /readyz and /metrics. RoleAll is all three, for one
// always-on machine.
type Roles uint8

// The roles.
const (
	RoleAPI Roles = 1 << iota
	RoleEvents
	RoleWorker

	RoleAll = RoleAPI | RoleEvents | RoleWorker
)

// roleNames are the roles by name, in the order String prints them.
var roleNames = []struct {
	name string
	role Roles
}{{"api", RoleAPI}, {"events", RoleEvents}, {"worker", RoleWorker}}

// ParseRoles parses a comma-separated list of roles: api, events, worker, or all.
// Names are case-insensitive; an empty list, an empty name or an unknown name is an
// error.
func ParseRoles(s string) (Roles, error) {
	var r Roles
	if strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("role: empty; want a comma-separated list of api, events, worker, or all")
	}
	for name := range strings.SplitSeq(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "all" {
			r |= RoleAll
			continue
		}
		found := false
		for _, rn := range roleNames {
			if rn.name == name {
				r, found = r|rn.role, true
			}
		}
		if !found {
			if len(name) > 32 {
				name = name[:32] + "…" // say which, without echoing a huge value
			}
			return 0, fmt.Errorf("role %q: want api, events, worker, or all", name)
		}
	}
	return r, nil
}

// Has reports whether r includes every role of want.
func (r Roles) Has(want Roles) bool { return want != 0 && r&want == want }

// String returns "all" for RoleAll, else the roles' names comma separated.
func (r Roles) String() string {
	if r == RoleAll {
		return "all"
	}
	var names []string
	for _, rn := range roleNames {
		if r.Has(rn.role) {
			names = append(names, rn.name)
		}
	}
	return strings.Join(names, ",")
}

// UnmarshalText implements encoding.TextUnmarshaler (env, flags).
func (r *Roles) UnmarshalText(b []byte) error {
	v, err := ParseRoles(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (r Roles) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
