package emulator

import (
	"errors"
	"fmt"
	"net"
)

// ErrPortInUse is wrapped by the error for a port that another process holds.
var ErrPortInUse = errors.New("port already in use")

// namedPort ties an endpoint to the service it belongs to, for error messages.
type namedPort struct {
	service string
	key     string // where it is set in firebase.json
	ep      *Endpoint
}

func (p *Ports) named() []namedPort {
	return []namedPort{
		{"Firestore emulator", "emulators.firestore.port", &p.Firestore},
		{"Firestore emulator websocket", "emulators.firestore.websocketPort", &p.FirestoreWebsocket},
		{"Auth emulator", "emulators.auth.port", &p.Auth},
		{"emulator hub", "emulators.hub.port", &p.Hub},
		{"emulator logging", "emulators.logging.port", &p.Logging},
		{"Storage", "emulators.storage.port", &p.Storage},
		{"Pub/Sub (storage events)", "hearth.pubsubPort", &p.PubSub},
		{"functions receiver", "emulators.functions.port", &p.Functions},
		{"fake FCM", "hearth.fcmPort", &p.FCM},
		{"API (hearth serve)", "hearth.apiPort", &p.API},
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
				return fmt.Errorf("%w: %s cannot listen on %s (is another `hearth dev` or emulator running? stop it, or change %s in firebase.json): %v",
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

// freePort asks the kernel for an unused port. The port is released before the child binds
// it; the window is tiny and a collision shows up as a clear start error.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreePorts returns p with every port set to zero, so that Start picks free ones.
func FreePorts(p Ports) Ports {
	for _, np := range p.named() {
		np.ep.Port = 0
	}
	return p
}
