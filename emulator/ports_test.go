package emulator

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
)

// TestFreePortBelowEphemeral: picked ports come from below the kernel's ephemeral range,
// where outgoing connections cannot take them, and are free.
func TestFreePortBelowEphemeral(t *testing.T) {
	low, high := belowEphemeral()
	if low >= high {
		t.Fatalf("belowEphemeral() = [%d, %d), want a non-empty range", low, high)
	}
	for range 20 {
		port, err := freePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if port < low || port >= high {
			t.Errorf("freePort() = %d, want within [%d, %d)", port, low, high)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Errorf("port %d from freePort is not free: %v", port, err)
			continue
		}
		ln.Close()
	}
}

// TestIsPortCollision: StartLocal starts again only for a port taken under its feet, not
// for an emulator that died for another reason.
func TestIsPortCollision(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("%w: Storage cannot listen on 127.0.0.1:1: bind", ErrPortInUse), true},
		{fmt.Errorf("Auth emulator: %w (exit status 1); last lines:\nError: Could not start Logging Emulator, port taken.", ErrDied), true},
		{fmt.Errorf("Firestore emulator: %w (exit status 1); last lines:\njava.net.BindException: Address already in use", ErrDied), true},
		{fmt.Errorf("Firestore emulator: %w (exit status 1); last lines:\nError: Unable to access jarfile", ErrDied), false},
		{errors.New("port taken"), false}, // not from a start
		{ErrNoJava, false},
	} {
		if got := isPortCollision(tc.err); got != tc.want {
			t.Errorf("isPortCollision(%q) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
