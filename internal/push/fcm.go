package push

import (
	"context"
	"fmt"
	"os"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/fcmfake"
)

// NewMessagingClient returns the FCM client for project, on a firebase.App of its own so
// that its options reach no other client. When HEARTH_FCM_EMULATOR_HOST is set it sends
// to the fake FCM there (fcmfake.MessagingOptions: no credentials needed or sent);
// otherwise it uses Application Default Credentials, with opts appended (for example
// option.WithCredentialsFile).
func NewMessagingClient(ctx context.Context, project string, opts ...option.ClientOption) (*messaging.Client, error) {
	if host := os.Getenv(fcmfake.EmulatorHostEnv); host != "" {
		opts = append(fcmfake.MessagingOptions(host), opts...)
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
