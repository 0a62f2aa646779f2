package fcmfake

import (
	"context"
	"fmt"

	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/internal/push/fcmclient"
)

// EmulatorHostEnv names the variable that points Hearth's FCM sends at a fake, like the
// Firebase SDKs' own *_EMULATOR_HOST variables: "127.0.0.1:9192".
const EmulatorHostEnv = "HEARTH_FCM_EMULATOR_HOST"

// MessagingOptions returns the client options that send a firebase.App's messaging traffic
// to the fake at host ("host:port", or a URL such as "http://host:port"): the ones
// production code uses when EmulatorHostEnv is set (fcmclient.EmulatorOptions). They
// apply to every service of the App: give messaging an App of its own.
func MessagingOptions(host string) []option.ClientOption { return fcmclient.EmulatorOptions(host) }

// NewMessagingClient returns an Admin SDK messaging client for project that sends to the
// fake at addr, built as production builds it (fcmclient.New) on a firebase.App of its
// own so the options reach no other client.
func NewMessagingClient(ctx context.Context, addr, project string) (*messaging.Client, error) {
	client, err := fcmclient.New(ctx, project, MessagingOptions(addr)...)
	if err != nil {
		return nil, fmt.Errorf("fcmfake: client for %s: %w", addr, err)
	}
	return client, nil
}
