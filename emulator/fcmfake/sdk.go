package fcmfake

import (
	"context"
	"fmt"
	"strings"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
)

// EmulatorHostEnv names the variable that points Hearth's FCM sends at a fake, like the
// Firebase SDKs' own *_EMULATOR_HOST variables: "127.0.0.1:9192".
const EmulatorHostEnv = "HEARTH_FCM_EMULATOR_HOST"

// MessagingOptions returns the client options that send a firebase.App's messaging traffic
// to the fake at host ("host:port", or a URL such as "http://host:port"): the same as
// push.EmulatorOptions, which production code appends to its firebase.NewApp options when
// EmulatorHostEnv is set (push's tests use this package, so it cannot import push).
//
// The options use option.WithEndpoint, which the Admin SDK honours for Send, SendEach and
// SendEachForMulticast, and option.WithoutAuthentication, so no
// credentials are needed or sent. They apply to every service of the App: give messaging an
// App of its own. Topic management still goes to iid.googleapis.com.
func MessagingOptions(host string) []option.ClientOption {
	base := strings.TrimSuffix(host, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return []option.ClientOption{
		option.WithEndpoint(base + "/v1"),
		option.WithoutAuthentication(),
	}
}

// NewMessagingClient returns an Admin SDK messaging client for project that sends to the
// fake at addr, built on a firebase.App of its own so the options reach no other client.
func NewMessagingClient(ctx context.Context, addr, project string) (*messaging.Client, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project}, MessagingOptions(addr)...)
	if err != nil {
		return nil, fmt.Errorf("fcmfake: new app for %s: %w", addr, err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcmfake: messaging client for %s: %w", addr, err)
	}
	return client, nil
}
