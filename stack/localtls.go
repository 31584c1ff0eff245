package stack

import (
	"fmt"
	"path/filepath"
	"strings"
)

// LocalTLS is what `make up TLS=1` started for TLS: the brokers' TLS
// listeners (one address per node each), the S3 server over HTTPS and the
// PEM files of scripts/certs.sh.
type LocalTLS struct {
	// SSL and SASLSSL present the server certificate of CA; SASLSSL takes
	// SASL's SCRAM-SHA-512 user; MTLS requires a client certificate signed
	// by CA (ClientCert, ClientKey).
	SSL, SASLSSL, MTLS []string
	// Expired presents an expired certificate (it ended at ExpiredAt),
	// WrongHost one for WrongHostName only: clients must refuse both.
	Expired, WrongHost       []string
	ExpiredAt, WrongHostName string
	// SASL is the SCRAM-SHA-512 user of the SASL listeners.
	SASL Security
	// CA signed the servers' and the client's certificates; OtherCA
	// signed nothing the servers present.
	CA, OtherCA, ClientCert, ClientKey string
	// S3Endpoint is the S3 server's https:// endpoint (the same data as
	// the http:// one of Local), its certificate signed by CA.
	S3Endpoint string
}

// ReadLocalTLS reads LocalTLS from the state files in dir (normally
// LocalStateDir); it fails unless the stack was started with TLS=1.
func ReadLocalTLS(dir string) (LocalTLS, error) {
	certs, err := readState(filepath.Join(dir, "certs", "state.env"))
	if err != nil {
		return LocalTLS{}, fmt.Errorf("local stack: no TLS: %w (start it with `make up TLS=1`)", err)
	}
	kafka, err := readState(filepath.Join(dir, "kafka", "state.env"))
	if err != nil {
		return LocalTLS{}, fmt.Errorf("local stack: %w (start it with `make up TLS=1`)", err)
	}
	s3, err := readState(filepath.Join(dir, "s3", "state.env"))
	if err != nil {
		return LocalTLS{}, fmt.Errorf("local stack: %w (start it with `make up TLS=1`)", err)
	}
	l := LocalTLS{
		ExpiredAt: certs["TLS_EXPIRED_AT"], WrongHostName: certs["TLS_WRONGHOST_NAME"],
		SASL: Security{SASLMechanism: "scram-sha-512", SASLUser: kafka["KAFKA_SASL_USER"], SASLPassword: kafka["KAFKA_SASL_PASSWORD"]},
		CA:   certs["TLS_CA"], OtherCA: certs["TLS_OTHER_CA"], ClientCert: certs["TLS_CLIENT_CERT"], ClientKey: certs["TLS_CLIENT_KEY"],
		S3Endpoint: s3["S3_TLS_ENDPOINT"],
	}
	for key, list := range map[string]*[]string{"KAFKA_SSL_BROKERS": &l.SSL, "KAFKA_SASL_SSL_BROKERS": &l.SASLSSL, "KAFKA_MTLS_BROKERS": &l.MTLS,
		"KAFKA_TLS_EXPIRED_BROKERS": &l.Expired, "KAFKA_TLS_WRONGHOST_BROKERS": &l.WrongHost} {
		if kafka[key] == "" {
			return LocalTLS{}, fmt.Errorf("local stack: %s missing: Kafka runs without TLS (restart it with `make down up TLS=1`)", key)
		}
		*list = strings.Split(kafka[key], ",")
	}
	if l.S3Endpoint == "" {
		return LocalTLS{}, fmt.Errorf("local stack: S3_TLS_ENDPOINT missing: the S3 server runs without TLS (restart it with `make down up TLS=1`)")
	}
	return l, nil
}

// Listener picks the TLS listener for what sec asks for — SASL_SSL with a
// SASL mechanism, mutual TLS with a client certificate, else SSL — and
// fills in what sec leaves empty: the stack's CA, and for SCRAM-SHA-512
// its user and password. For `--stack local --tls`.
func (l LocalTLS) Listener(sec Security) ([]string, Security) {
	sec.TLS = true
	if sec.TLSCA == "" && !sec.TLSInsecureSkipVerify {
		sec.TLSCA = l.CA
	}
	switch {
	case sec.SASLMechanism != "":
		if sec.SASLMechanism == l.SASL.SASLMechanism && sec.SASLUser == "" {
			sec.SASLUser, sec.SASLPassword = l.SASL.SASLUser, l.SASL.SASLPassword
		}
		return l.SASLSSL, sec
	case sec.TLSCert != "":
		return l.MTLS, sec
	}
	return l.SSL, sec
}
