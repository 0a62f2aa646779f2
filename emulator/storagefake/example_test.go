package storagefake_test

import (
	"context"
	"crypto/rsa"
	"log"
	"net/http"
	"time"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/emulator/storagefake"
)

// Example wires the local storage the way `hearth dev` does: one signer whose
// key the server trusts, notifications for media/, and the addresses the other
// processes need.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	signer, err := storagefake.NewTestSigner()
	if err != nil {
		log.Fatal(err)
	}
	srv, err := storagefake.Start(ctx, storagefake.Config{
		Addr:        "127.0.0.1:9199",
		Bucket:      "demo-hearth.appspot.com",
		PubSubAddr:  "127.0.0.1:8085",
		EventPrefix: "media/",
		Signers:     map[string]*rsa.PublicKey{signer.AccessID(): signer.PublicKey()},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	// Child processes get STORAGE_EMULATOR_HOST=srv.Addr() and
	// PUBSUB_EMULATOR_HOST=srv.PubSubAddr(); the API signs uploads with the
	// signer's key (signer.WriteServiceAccountFile) and Hostname srv.Addr().

	sub, err := srv.Subscribe(ctx, "thumbnailer")
	if err != nil {
		log.Fatal(err)
	}
	go sub.Receive(ctx, func(ctx context.Context, ev storagefake.FinalizeEvent) error {
		log.Printf("finalized %s (%s, %d bytes)", ev.Name, ev.ContentType, ev.Size)
		return nil
	})

	uploadURL, err := signer.SignedURL(srv.Bucket(), "media/r1/u1/cat.jpg", storage.SignedURLOptions{
		Method:      http.MethodPut,
		Expires:     time.Now().Add(15 * time.Minute),
		ContentType: "image/jpeg",
		Headers:     []string{"x-goog-content-length-range:0,20971520"},
		Hostname:    srv.Addr(),
		Insecure:    true,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = uploadURL // the client PUTs with exactly Content-Type and x-goog-content-length-range
}
