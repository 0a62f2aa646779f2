// Package fcmclient builds Admin SDK messaging clients on a firebase.App of their own,
// optionally pointed at a local FCM v1 endpoint. It is the one place that knows how:
// push.NewMessagingClient uses it in production, and the fake FCM's test helper
// (emulator/fcmfake) uses it too. It is a package of its own because push's tests import
// the fake, so the fake cannot import push.
package fcmclient

import (
	"context"
	"fmt"
	"strings"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
)

// New returns the messaging client for project, on a firebase.App of its own so that
// opts reach no other client.
func New(ctx context.Context, project string, opts ...option.ClientOption) (*messaging.Client, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project}, opts...)
	if err != nil {
		return nil, fmt.Errorf("firebase app for messaging: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("messaging client: %w", err)
	}
	return client, nil
}

// EmulatorOptions returns the client options that send a firebase.App's messaging
// traffic to a local FCM v1 endpoint at host ("host:port", or a URL such as
// "http://host:port"): option.WithEndpoint, which the Admin SDK honours for Send,
// SendEach and SendEachForMulticast, and option.WithoutAuthentication, so no
// credentials are needed or sent. They apply to every service of the App: give
// messaging an App of its own (New does). Topic management still goes to
// iid.googleapis.com.
func EmulatorOptions(host string) []option.ClientOption {
	base := strings.TrimSuffix(host, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return []option.ClientOption{
		option.WithEndpoint(base + "/v1"),
		option.WithoutAuthentication(),
	}
}
