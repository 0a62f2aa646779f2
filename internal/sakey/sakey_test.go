package sakey

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
)

func keyJSON(t *testing.T, typ, blockType string, der []byte) []byte {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{
		"type": typ, "client_email": "signer@p.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})),
	})
	return raw
}

func TestParse(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, raw := range map[string][]byte{
		"pkcs8": keyJSON(t, "service_account", "PRIVATE KEY", pkcs8),
		"pkcs1": keyJSON(t, "service_account", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
	} {
		email, got, err := Parse(raw)
		if err != nil || email != "signer@p.iam.gserviceaccount.com" || !got.Equal(key) {
			t.Errorf("Parse(%s) = %q, same key %v, %v; want the e-mail and the key", name, email, got != nil && got.Equal(key), err)
		}
	}
	bad := map[string][]byte{
		"not json":         []byte("nope"),
		"user credentials": keyJSON(t, "authorized_user", "PRIVATE KEY", pkcs8),
		"key not PEM":      []byte(`{"type":"service_account","client_email":"a@b","private_key":"x"}`),
		"key not a key":    keyJSON(t, "service_account", "PRIVATE KEY", []byte("AAAA")),
		"no client_email":  []byte(`{"type":"service_account","private_key":"x"}`),
	}
	for name, raw := range bad {
		if _, _, err := Parse(raw); err == nil {
			t.Errorf("Parse(%s) = nil error, want an error", name)
		}
	}
	if _, _, err := Parse(bad["user credentials"]); !errors.Is(err, ErrNotServiceAccount) {
		t.Errorf("Parse(user credentials) = %v, want ErrNotServiceAccount", err)
	}
}
