// Package fcmclient builds Admin SDK messaging clients on a firebase.App of their own,
// optionally pointed at a local FCM v1 endpoint. It is the one place that knows how:
// push.NewMessagingClient uses it in production, and the fake FCM's test helper
// (emulator/fcmfake) uses it too. It is a package of its own because push's tests import
// the fake, so the fake cannot import push.
package fcmclient

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// New returns the messaging client for project, on a firebase.App of its own so that
// opts reach no other client. Its HTTP client is the Admin SDK's (the same credentials,
// scopes and endpoint from opts) with two differences that matter to a fan-out:
//
//   - it keeps an idle connection for every request the fan-out had in flight
//     (IdleConnsPerHost), where the SDK's keeps 100 while Hearth sends up to
//     HEARTH_PUSH_CONCURRENCY × 50 at once: over HTTP/1.1 (the fake FCM, or a proxy)
//     every request past the 100th closed its connection and the next one dialed a new
//     one — 10,000 sends opened about 600 connections instead of 200;
//   - no OpenTelemetry wrapper: Hearth exports no traces or metrics, so the SDK's
//     otelhttp transport only computed attributes for no-op providers on every send.
//
// opts must not hold option.WithHTTPClient (the client is built here).
func New(ctx context.Context, project string, opts ...option.ClientOption) (*messaging.Client, error) {
	hc, err := httpClient(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("http client for messaging: %w", err)
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project},
		append(slices.Clip(opts), option.WithHTTPClient(hc))...)
	if err != nil {
		return nil, fmt.Errorf("firebase app for messaging: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("messaging client: %w", err)
	}
	return client, nil
}

// IdleConnsPerHost is how many idle connections to FCM the client keeps. Idle
// connections are never more than the requests that were in flight at once (200 at
// the default HEARTH_PUSH_CONCURRENCY of 4 SendEach calls of 50 workers each), and each
// closes after 90 s unused; the bound covers a concurrency of up to 20.
const IdleConnsPerHost = 1000

// firebaseScopes are the OAuth2 scopes the Admin SDK asks for (firebase.NewApp adds
// them to an App's options; the transport here is built before the App, so it adds
// them itself). Messaging needs cloud-platform or firebase.messaging.
var firebaseScopes = []string{
	"https://www.googleapis.com/auth/cloud-platform",
	"https://www.googleapis.com/auth/datastore",
	"https://www.googleapis.com/auth/devstorage.full_control",
	"https://www.googleapis.com/auth/firebase",
	"https://www.googleapis.com/auth/identitytoolkit",
	"https://www.googleapis.com/auth/userinfo.email",
}

// httpClient is the SDK's HTTP client (google.golang.org/api/transport/http: the
// credentials of opts, or Application Default Credentials, or none with
// option.WithoutAuthentication) on a base transport of Hearth's: http.DefaultTransport's
// settings, as the SDK's, with the idle pool above and the SDK's HTTP/2 health check (a
// ping after 31 s without a frame).
func httpClient(ctx context.Context, opts []option.ClientOption) (*http.Client, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConns = 0 // no bound across hosts; the client talks to one
	base.MaxIdleConnsPerHost = IdleConnsPerHost
	base.HTTP2 = &http.HTTP2Config{SendPingTimeout: 31 * time.Second}
	all := append([]option.ClientOption{option.WithScopes(firebaseScopes...), option.WithTelemetryDisabled()}, opts...)
	rt, err := htransport.NewTransport(ctx, base, all...)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
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
