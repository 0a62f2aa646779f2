package push

import (
	"context"
	"fmt"
	"os"
	"strings"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
)

// FCMEmulatorHostEnv names the variable that points Hearth at a local FCM v1 endpoint
// ("host:port" or a URL), like the Firebase SDKs' *_EMULATOR_HOST variables; `hearth
// dev` and the tests set it to the suite's fake FCM.
const FCMEmulatorHostEnv = "HEARTH_FCM_EMULATOR_HOST"

// NewMessagingClient returns the FCM client for project, on a firebase.App of its own so
// that its options reach no other client. When HEARTH_FCM_EMULATOR_HOST is set it sends
// to the FCM endpoint there (EmulatorOptions: no credentials needed or sent); otherwise it
// uses Application Default Credentials, with opts appended (for example
// option.WithCredentialsFile).
func NewMessagingClient(ctx context.Context, project string, opts ...option.ClientOption) (*messaging.Client, error) {
	if host := os.Getenv(FCMEmulatorHostEnv); host != "" {
		opts = append(EmulatorOptions(host), opts...)
	}
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
// messaging an App of its own. Topic management still goes to iid.googleapis.com.
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
