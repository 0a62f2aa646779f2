package storagefake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/sakey"
)

// DefaultAccessID is the service-account e-mail NewTestSigner uses.
const DefaultAccessID = "hearth-local@demo-hearth.iam.gserviceaccount.com"

// signerKeyBits is the size of generated keys; service-account keys are RSA 2048.
const signerKeyBits = 2048

// Signer is a throwaway service-account key for signing URLs locally. Its
// public key is what a Server must trust (Server.TrustKey or Config.Signers).
type Signer struct {
	accessID string
	key      *rsa.PrivateKey
	pem      []byte // PKCS#8
}

// NewTestSigner generates a fresh key for DefaultAccessID.
func NewTestSigner() (*Signer, error) { return NewSigner(DefaultAccessID) }

// NewSigner generates a fresh RSA key for the service account accessID.
func NewSigner(accessID string) (*Signer, error) {
	if accessID == "" {
		return nil, errors.New("new signer: empty access id")
	}
	key, err := rsa.GenerateKey(rand.Reader, signerKeyBits)
	if err != nil {
		return nil, fmt.Errorf("new signer %s: generate key: %w", accessID, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("new signer %s: encode key: %w", accessID, err)
	}
	return &Signer{
		accessID: accessID,
		key:      key,
		pem:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
	}, nil
}

// LoadSigner reads a service-account JSON key (as written by
// WriteServiceAccountFile or downloaded from Google Cloud).
func LoadSigner(serviceAccountJSON []byte) (*Signer, error) {
	email, key, err := sakey.Parse(serviceAccountJSON)
	if err != nil {
		return nil, fmt.Errorf("load signer: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("load signer %s: encode key: %w", email, err)
	}
	return &Signer{
		accessID: email,
		key:      key,
		pem:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
	}, nil
}

// AccessID is the service-account e-mail (GoogleAccessID in SignedURLOptions).
func (s *Signer) AccessID() string { return s.accessID }

// PrivateKeyPEM is the key as PKCS#8 PEM (PrivateKey in SignedURLOptions).
func (s *Signer) PrivateKeyPEM() []byte { return append([]byte(nil), s.pem...) }

// PublicKey is the key a Server verifies this signer's URLs with.
func (s *Signer) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// SignedURL signs a V4 URL with this key: opts.Scheme, GoogleAccessID and
// PrivateKey are set here (SignBytes is cleared); the rest (Method, Expires,
// ContentType, Headers, Hostname, Insecure, ...) is the caller's.
func (s *Signer) SignedURL(bucket, object string, opts storage.SignedURLOptions) (string, error) {
	opts.Scheme = storage.SigningSchemeV4
	opts.GoogleAccessID = s.accessID
	opts.PrivateKey = s.PrivateKeyPEM()
	opts.SignBytes = nil
	u, err := storage.SignedURL(bucket, object, &opts)
	if err != nil {
		return "", fmt.Errorf("sign %s %s/%s: %w", opts.Method, bucket, object, err)
	}
	return u, nil
}

// serviceAccount is the JSON key file format Google issues.
type serviceAccount struct {
	Type                    string `json:"type"`
	ProjectID               string `json:"project_id"`
	PrivateKeyID            string `json:"private_key_id"`
	PrivateKey              string `json:"private_key"`
	ClientEmail             string `json:"client_email"`
	ClientID                string `json:"client_id"`
	AuthURI                 string `json:"auth_uri"`
	TokenURI                string `json:"token_uri"`
	AuthProviderX509CertURL string `json:"auth_provider_x509_cert_url"`
	ClientX509CertURL       string `json:"client_x509_cert_url"`
}

// ServiceAccountJSON renders the key as a service-account JSON key for
// projectID. Given to storage.NewClient (option.WithCredentialsJSON), it lets
// BucketHandle.SignedURL sign without GoogleAccessID or PrivateKey. Nothing
// can authenticate to Google with it: the key exists only here.
func (s *Signer) ServiceAccountJSON(projectID string) ([]byte, error) {
	pubDER, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("service account json %s: %w", s.accessID, err)
	}
	sum := sha256.Sum256(pubDER)
	clientID := new(big.Int).SetBytes(sum[:10]).String() // stable, numeric like Google's
	sa := serviceAccount{
		Type:                    "service_account",
		ProjectID:               projectID,
		PrivateKeyID:            hex.EncodeToString(sum[:20]),
		PrivateKey:              string(s.pem),
		ClientEmail:             s.accessID,
		ClientID:                clientID,
		AuthURI:                 "https://accounts.google.com/o/oauth2/auth",
		TokenURI:                "https://oauth2.googleapis.com/token",
		AuthProviderX509CertURL: "https://www.googleapis.com/oauth2/v1/certs",
		ClientX509CertURL:       "https://www.googleapis.com/robot/v1/metadata/x509/" + s.accessID,
	}
	b, err := json.MarshalIndent(sa, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("service account json %s: %w", s.accessID, err)
	}
	return b, nil
}

// WriteServiceAccountFile writes ServiceAccountJSON(projectID) to path with
// mode 0600 (it holds a private key), e.g. for GOOGLE_APPLICATION_CREDENTIALS.
func (s *Signer) WriteServiceAccountFile(path, projectID string) error {
	b, err := s.ServiceAccountJSON(projectID)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write service account %s: %w", path, err)
	}
	return nil
}
