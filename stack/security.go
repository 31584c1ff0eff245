package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how clients authenticate to and encrypt their traffic with
// external Kafka brokers. The zero value is plaintext without SASL.
type Security struct {
	// TLS encrypts broker connections; TLSCA is a PEM file of the CAs to
	// trust (default: the system's), TLSCert and TLSKey a client
	// certificate for mutual TLS. TLSInsecureSkipVerify trusts any server
	// certificate (tests only).
	TLS                    bool
	TLSCA, TLSCert, TLSKey string
	TLSInsecureSkipVerify  bool
	// SASLMechanism is "" (none), "plain", "scram-sha-256",
	// "scram-sha-512" or "aws-msk-iam" (credentials from the default AWS
	// chain). SASLUser and SASLPassword are for the first three.
	SASLMechanism          string
	SASLUser, SASLPassword string
}

// SASLMechanisms lists the allowed SASLMechanism values.
var SASLMechanisms = []string{"plain", "scram-sha-256", "scram-sha-512", "aws-msk-iam"}

// String never shows the password.
func (s Security) String() string {
	return fmt.Sprintf("tls=%v sasl=%s user=%q", s.TLS, s.SASLMechanism, s.SASLUser)
}

// Validate names the first bad field without ever echoing the password.
func (s Security) Validate() error {
	tlsSet := s.TLSCA != "" || s.TLSCert != "" || s.TLSKey != "" || s.TLSInsecureSkipVerify
	switch {
	case tlsSet && !s.TLS:
		return errors.New("tls-ca, tls-cert, tls-key and tls-insecure-skip-verify need --tls")
	case (s.TLSCert == "") != (s.TLSKey == ""):
		return fmt.Errorf("tls-cert %q and tls-key %q: give both or neither", s.TLSCert, s.TLSKey)
	case s.SASLMechanism != "" && !slices.Contains(SASLMechanisms, s.SASLMechanism):
		return fmt.Errorf("sasl-mechanism %q: allowed plain, scram-sha-256, scram-sha-512, aws-msk-iam", s.SASLMechanism)
	case s.SASLMechanism == "" && (s.SASLUser != "" || s.SASLPassword != ""):
		return errors.New("sasl-user and sasl-password need --sasl-mechanism")
	case s.SASLMechanism != "" && s.SASLMechanism != "aws-msk-iam" && (s.SASLUser == "" || s.SASLPassword == ""):
		return fmt.Errorf("sasl-mechanism %s: needs --sasl-user and a password (--sasl-password or env TICKBENCH_SASL_PASSWORD)", s.SASLMechanism)
	}
	return nil
}

// Options returns the franz-go options for s: Dialer TLS config, SASL.
func (s Security) Options() ([]kgo.Opt, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if s.TLS {
		tc, err := s.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.Dialer(kafkaTLSDialer(tc, tlsHints{caFlag: "--tls-ca", caFile: s.TLSCA, certFlag: "--tls-cert", certFile: s.TLSCert})))
	}
	var m sasl.Mechanism
	switch s.SASLMechanism {
	case "plain":
		m = plain.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsMechanism()
	case "scram-sha-256":
		m = scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha256Mechanism()
	case "scram-sha-512":
		m = scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha512Mechanism()
	case "aws-msk-iam":
		m = aws.ManagedStreamingIAM(func(ctx context.Context) (aws.Auth, error) {
			c, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return aws.Auth{}, fmt.Errorf("aws-msk-iam: load AWS config: %w", err)
			}
			cr, err := c.Credentials.Retrieve(ctx)
			if err != nil {
				return aws.Auth{}, fmt.Errorf("aws-msk-iam: AWS credentials: %w", err)
			}
			return aws.Auth{AccessKey: cr.AccessKeyID, SecretKey: cr.SecretAccessKey, SessionToken: cr.SessionToken, UserAgent: "tickbench"}, nil
		})
	}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// tlsConfig is s's TLS client configuration: its CAs (default: the
// system's) and client certificate.
func (s Security) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.TLSInsecureSkipVerify} //nolint:gosec // only when asked for
	if s.TLSCA != "" {
		pool, err := loadCAs("tls-ca", s.TLSCA)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if s.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls-cert %s / tls-key %s: %w", s.TLSCert, s.TLSKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// loadCAs reads a PEM file of CA certificates, the value of flag.
func loadCAs(flag, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s: no PEM certificate in it", flag, path)
	}
	return pool, nil
}

// ValidateSSE checks the server-side encryption settings of S3 writes.
func ValidateSSE(sse, kmsKeyID string) error {
	switch sse {
	case "", "AES256", "aws:kms":
	default:
		return fmt.Errorf("s3-sse %q: allowed AES256, aws:kms (or empty for the bucket's default)", sse)
	}
	if kmsKeyID != "" && sse != "aws:kms" {
		return fmt.Errorf("s3-sse-kms-key-id %q: needs --s3-sse aws:kms", kmsKeyID)
	}
	return nil
}

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Validate checks every field before anything starts, naming the value
// and what is allowed.
func (c Config) Validate() error {
	switch {
	case !bucketRE.MatchString(c.Bucket):
		return fmt.Errorf("bucket %q: allowed 3..63 of a-z 0-9 . -, starting and ending with a letter or digit", c.Bucket)
	case c.ConnectTimeout < 0 || c.ConnectTimeout > time.Hour:
		return fmt.Errorf("connect-timeout %v: allowed 0 (default 15s)..1h", c.ConnectTimeout)
	case c.Partitions < 0 || c.Partitions > 10_000:
		return fmt.Errorf("partitions %d: allowed 1..10000", c.Partitions)
	case c.S3Endpoint != "" && !strings.HasPrefix(c.S3Endpoint, "http://") && !strings.HasPrefix(c.S3Endpoint, "https://"):
		return fmt.Errorf("s3-endpoint %q: allowed an http:// or https:// URL", c.S3Endpoint)
	case c.S3CA != "" && !strings.HasPrefix(c.S3Endpoint, "https://"):
		return fmt.Errorf("s3-ca %s: needs an https:// --s3-endpoint, not %q", c.S3CA, c.S3Endpoint)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("access key and secret key: give both or neither")
	}
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("s3-faults: %w", err)
	}
	if err := ValidateSSE(c.SSE, c.SSEKMSKeyID); err != nil {
		return err
	}
	return c.Security.Validate()
}
