package emulator

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// ErrPortInUse is wrapped by the error for a port that another process holds.
var ErrPortInUse = errors.New("port already in use")

// namedPort ties an endpoint to the service it belongs to, for error messages.
type namedPort struct {
	service string
	key     string // where it is set: a firebase.json key or a HEARTH_LOCAL_* variable
	ep      *Endpoint
}

func (p *Ports) named() []namedPort {
	return []namedPort{
		{"Firestore emulator", "emulators.firestore.port in firebase.json", &p.Firestore},
		{"Firestore emulator websocket", "emulators.firestore.websocketPort in firebase.json", &p.FirestoreWebsocket},
		{"Auth emulator", "emulators.auth.port in firebase.json", &p.Auth},
		{"emulator hub", "emulators.hub.port in firebase.json", &p.Hub},
		{"emulator logging", "emulators.logging.port in firebase.json", &p.Logging},
		{"Storage", "emulators.storage.port in firebase.json", &p.Storage},
		{"Pub/Sub (storage events)", "$HEARTH_LOCAL_PUBSUB_PORT", &p.PubSub},
		{"functions receiver", "emulators.functions.port in firebase.json", &p.Functions},
		{"fake FCM", "$HEARTH_LOCAL_FCM_PORT", &p.FCM},
		{"API (hearth serve)", "$HEARTH_LOCAL_API_PORT", &p.API},
	}
}

// claimPorts checks that every fixed port is free, and picks a free port for each zero one.
// A busy port fails at once with the service and the port named, so a second `make dev`
// says what is wrong instead of half-starting.
func (p *Ports) claimPorts() error {
	for _, np := range p.named() {
		if np.ep.Host == "" {
			np.ep.Host = "127.0.0.1"
		}
		if np.ep.Port != 0 {
			ln, err := net.Listen("tcp", np.ep.Addr())
			if err != nil {
				return fmt.Errorf("%w: %s cannot listen on %s (is another `hearth dev` or emulator running? stop it, or change %s): %v",
					ErrPortInUse, np.service, np.ep.Addr(), np.key, err)
			}
			ln.Close()
			continue
		}
		port, err := freePort(np.ep.Host)
		if err != nil {
			return fmt.Errorf("pick a port for %s: %w", np.service, err)
		}
		np.ep.Port = port
	}
	return nil
}

// freePort returns a port on host that is free now. It is released before the child
// binds it, so something else may take it in between: above all an outgoing connection
// of any process, which gets a port of the kernel's ephemeral range — the range a
// listener on port 0 draws from too. freePort therefore picks at random below that
// range (checking each pick with a listener) and falls back to port 0 only when that
// fails; StartLocal starts again on other ports if a collision still happens.
func freePort(host string) (int, error) {
	low, high := belowEphemeral()
	for range 50 {
		port := low + rand.IntN(high-low)
		if ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// belowEphemeral returns the ports [low, high) that freePort draws from: from 20000 up
// to the start of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/
// ip_local_port_range, 32768 by default; the default is used where it cannot be read).
func belowEphemeral() (low, high int) {
	low, high = 20000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return low, high
	}
	if f := strings.Fields(string(b)); len(f) == 2 {
		if n, err := strconv.Atoi(f[0]); err == nil && n > low+1000 {
			high = n
		}
	}
	return low, high
}

// isPortCollision reports whether err says a part of the suite could not bind its
// port: our own listeners (ErrPortInUse), or an emulator that died saying so in its log.
func isPortCollision(err error) bool {
	if errors.Is(err, ErrPortInUse) {
		return true
	}
	if !errors.Is(err, ErrDied) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"port taken", "address already in use", "eaddrinuse", "bindexception"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// FreePorts returns p with every port set to zero, so that Start picks free ones.
func FreePorts(p Ports) Ports {
	for _, np := range p.named() {
		np.ep.Port = 0
	}
	return p
}
