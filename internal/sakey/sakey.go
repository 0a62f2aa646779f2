// Package sakey reads Google service-account JSON keys: the account e-mail and the RSA key
// that signs Cloud Storage URLs. The backend (internal/media) and the local storage
// (emulator/storagefake) read the same files, so they share this one parser.
package sakey

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrNotServiceAccount is wrapped when the JSON is not a service-account key (user or
// external-account credentials cannot sign locally).
var ErrNotServiceAccount = errors.New("not a service-account key (need type service_account, client_email, private_key)")

// Parse returns the client_email and the RSA private key (PKCS#8 or PKCS#1 PEM) of a
// service-account JSON key.
func Parse(raw []byte) (email string, key *rsa.PrivateKey, err error) {
	var sa struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &sa); err != nil {
		return "", nil, fmt.Errorf("parse service account: %w", err)
	}
	if sa.Type != "service_account" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return "", nil, ErrNotServiceAccount
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return "", nil, fmt.Errorf("service account %s: private_key is not PEM", sa.ClientEmail)
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return "", nil, fmt.Errorf("service account %s: key is %T, want RSA", sa.ClientEmail, k)
		}
		return sa.ClientEmail, rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return "", nil, fmt.Errorf("service account %s: parse private key: %w", sa.ClientEmail, err)
	}
	return sa.ClientEmail, k, nil
}
