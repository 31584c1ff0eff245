// Package certs makes the TLS material of the local stack's TLS listeners
// (scripts/certs.sh) and of tests: a CA, server certificates for
// 127.0.0.1 and localhost signed by it, the bad ones a client must refuse
// (expired, for another host name, from another CA) and a client
// certificate for mutual TLS. Everything comes from crypto/rand: nothing
// is fetched, nothing is meant to outlive the stack it was made for.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// WrongHost is the only name in the wrong-host certificate: a reserved
// top-level domain, so it can never be the name a client dials.
const WrongHost = "kafka.invalid"

// Files are the PEM files Generate wrote, by what they are for. Keys are
// unencrypted PKCS#8 ("PRIVATE KEY"), which both Go and Kafka's PEM key
// stores read.
type Files struct {
	Dir string
	// CA signed every certificate below except OtherCA's.
	CA, CAKey string
	// OtherCA is a CA that signed nothing here: trusting only it must fail.
	OtherCA string
	// Server is valid for 127.0.0.1, ::1 and localhost.
	ServerCert, ServerKey string
	// Expired is Server's twin whose validity ended at ExpiredAt.
	ExpiredCert, ExpiredKey string
	ExpiredAt               time.Time
	// WrongHost is valid, but for WrongHost only.
	WrongHostCert, WrongHostKey string
	// Client is a client certificate (mutual TLS), CN "tickbench".
	ClientCert, ClientKey string
}

// Env lists f as KEY=VALUE lines for a state file (scripts/certs.sh).
func (f Files) Env() []string {
	return []string{
		"TLS_DIR=" + f.Dir,
		"TLS_CA=" + f.CA,
		"TLS_OTHER_CA=" + f.OtherCA,
		"TLS_SERVER_CERT=" + f.ServerCert, "TLS_SERVER_KEY=" + f.ServerKey,
		"TLS_EXPIRED_CERT=" + f.ExpiredCert, "TLS_EXPIRED_KEY=" + f.ExpiredKey,
		"TLS_EXPIRED_AT=" + f.ExpiredAt.UTC().Format(time.RFC3339),
		"TLS_WRONGHOST_CERT=" + f.WrongHostCert, "TLS_WRONGHOST_KEY=" + f.WrongHostKey,
		"TLS_WRONGHOST_NAME=" + WrongHost,
		"TLS_CLIENT_CERT=" + f.ClientCert, "TLS_CLIENT_KEY=" + f.ClientKey,
	}
}

// Generate writes a fresh set into dir (created, mode 700), valid from an
// hour before now for lifetime; the expired certificate ended a day
// before now.
func Generate(dir string, now time.Time, lifetime time.Duration) (Files, error) {
	if lifetime <= 0 {
		return Files{}, errors.New("certs: lifetime must be positive")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, err
	}
	f := Files{Dir: dir}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(lifetime)

	ca, caKey, err := newCA("tickbench local CA", notBefore, notAfter)
	if err != nil {
		return Files{}, err
	}
	other, otherKey, err := newCA("tickbench other CA (trusts nothing here)", notBefore, notAfter)
	if err != nil {
		return Files{}, err
	}
	localNames := template{cn: "tickbench local server", dns: []string{"localhost"},
		ips: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, server: true}
	f.ExpiredAt = now.Add(-24 * time.Hour).Truncate(time.Second)
	items := []struct {
		name     string
		tmpl     template
		from, to time.Time
		cert     *string
		key      *string
	}{
		{"server", localNames, notBefore, notAfter, &f.ServerCert, &f.ServerKey},
		{"expired", localNames, now.Add(-48 * time.Hour), f.ExpiredAt, &f.ExpiredCert, &f.ExpiredKey},
		{"wronghost", template{cn: WrongHost, dns: []string{WrongHost}, server: true}, notBefore, notAfter, &f.WrongHostCert, &f.WrongHostKey},
		{"client", template{cn: "tickbench"}, notBefore, notAfter, &f.ClientCert, &f.ClientKey},
	}
	if f.CA, f.CAKey, err = writePair(dir, "ca", ca, caKey); err != nil {
		return Files{}, err
	}
	if f.OtherCA, _, err = writePair(dir, "other-ca", other, otherKey); err != nil {
		return Files{}, err
	}
	for _, it := range items {
		der, key, err := it.tmpl.sign(it.from, it.to, ca, caKey)
		if err != nil {
			return Files{}, fmt.Errorf("certs: %s: %w", it.name, err)
		}
		if *it.cert, *it.key, err = writePair(dir, it.name, der, key); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

type template struct {
	cn     string
	dns    []string
	ips    []net.IP
	server bool // server auth; otherwise client auth
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func newCA(cn string, from, to time.Time) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return der, key, err
}

// sign issues a leaf certificate from the CA (DER and key of newCA).
func (t template) sign(from, to time.Time, caDER []byte, caKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, error) {
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	usage := x509.ExtKeyUsageClientAuth
	if t.server {
		usage = x509.ExtKeyUsageServerAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: t.cn}, NotBefore: from, NotAfter: to,
		DNSNames: t.dns, IPAddresses: t.ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	return der, key, err
}

// writePair writes NAME.pem and NAME-key.pem (the key readable by the
// owner only) and returns their paths.
func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) (certPath, keyPath string, err error) {
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}
