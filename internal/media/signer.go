package media

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/url"
	"os"
	"time"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/sakey"
)

// urlSigner signs V4 URLs for one bucket in one of two ways:
//
//   - with a service-account key (Config.SignerFile): parsed once, signing is local;
//   - without one, through BucketHandle.SignedURL's automatic path in
//     cloud.google.com/go/storage v1.70.0: GoogleAccessID is Config.SignerEmail or
//     detected (client_email of the client's credentials JSON, else the metadata
//     server's default account on GCE/Cloud Run), and since there is no private key
//     it signs with IAM Credentials signBlob as that account (one RPC per URL).
//
// Under STORAGE_EMULATOR_HOST the client has no credentials, so the automatic path
// cannot work: the local suite provides a key file (HEARTH_STORAGE_SIGNER), and the
// host and http scheme must be explicit (Hostname, Insecure), which the library does
// not infer for signed URLs.
type urlSigner struct {
	bucket   *storage.BucketHandle
	accessID string
	key      *rsa.PrivateKey // nil: IAM signBlob
	hostname string
	insecure bool
}

func newURLSigner(cfg Config, client *storage.Client) (*urlSigner, error) {
	s := &urlSigner{
		bucket:   client.Bucket(cfg.Bucket),
		accessID: cfg.SignerEmail,
		hostname: cfg.URLHost,
		insecure: cfg.URLInsecure,
	}
	if cfg.SignerFile != "" {
		raw, err := os.ReadFile(cfg.SignerFile)
		if err != nil {
			return nil, fmt.Errorf("read signer key: %w", err)
		}
		email, key, err := sakey.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("signer key %s: %w", cfg.SignerFile, err)
		}
		s.accessID, s.key = email, key
	}
	return s, nil
}

// signBytes signs like storage.SignedURL does with PrivateKey (RSASSA-PKCS1-v1_5
// over SHA-256), with the key parsed once instead of on every URL.
func (s *urlSigner) signBytes(b []byte) ([]byte, error) {
	sum := sha256.Sum256(b)
	return rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
}

// sign returns a V4 signed URL for object. contentType and headers ("name:value")
// become signed headers the client must send exactly; query adds signed query
// parameters (response-content-disposition).
func (s *urlSigner) sign(method, object, contentType string, headers []string, query url.Values, expires time.Time) (string, error) {
	opts := &storage.SignedURLOptions{
		Scheme:          storage.SigningSchemeV4,
		Method:          method,
		Expires:         expires,
		ContentType:     contentType,
		Headers:         headers,
		QueryParameters: query,
		Hostname:        s.hostname,
		Insecure:        s.insecure,
		GoogleAccessID:  s.accessID,
	}
	if s.key != nil {
		opts.SignBytes = s.signBytes
	}
	u, err := s.bucket.SignedURL(object, opts)
	if err != nil {
		return "", fmt.Errorf("sign %s %s: %w", method, object, err)
	}
	return u, nil
}

// isServiceAccountKeyFile reports whether path is a readable service-account JSON
// key (GOOGLE_APPLICATION_CREDENTIALS may also name user or external credentials,
// which cannot sign locally).
func isServiceAccountKeyFile(path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	_, _, err = sakey.Parse(raw)
	return err == nil
}
