package push

import (
	"context"
	"os"

	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/internal/push/fcmclient"
)

// FCMEmulatorHostEnv names the variable that points Hearth at a local FCM v1 endpoint
// ("host:port" or a URL), like the Firebase SDKs' *_EMULATOR_HOST variables; `hearth
// dev` and the tests set it to the suite's fake FCM.
const FCMEmulatorHostEnv = "HEARTH_FCM_EMULATOR_HOST"

// NewMessagingClient returns the FCM client for project, on a firebase.App of its own so
// that its options reach no other client. When HEARTH_FCM_EMULATOR_HOST is set it sends
// to the FCM endpoint there (fcmclient.EmulatorOptions: no credentials needed or sent);
// otherwise it uses Application Default Credentials, with opts appended (for example
// option.WithCredentialsFile).
func NewMessagingClient(ctx context.Context, project string, opts ...option.ClientOption) (*messaging.Client, error) {
	if host := os.Getenv(FCMEmulatorHostEnv); host != "" {
		opts = append(fcmclient.EmulatorOptions(host), opts...)
	}
	return fcmclient.New(ctx, project, opts...)
}
