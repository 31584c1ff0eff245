package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TLSError is a TLS failure between tickbench and a server, said as what
// to fix: which certificate is wrong and which flag or file to change.
// Err is the crypto/tls or crypto/x509 error it came from.
type TLSError struct {
	Peer string // "kafka broker 127.0.0.1:9093", "s3 endpoint https://..."
	Msg  string
	Err  error
}

func (e *TLSError) Error() string { return e.Peer + ": " + e.Msg }
func (e *TLSError) Unwrap() error { return e.Err }

// tlsHints are the flags that hold what a TLSError tells the user to fix.
type tlsHints struct {
	caFlag, caFile     string // "--tls-ca", its value ("" : the system's CAs)
	certFlag, certFile string // "--tls-cert", its value ("" : none given)
}

// classifyTLS turns a TLS handshake or record error into a TLSError for
// peer, dialled as host; any other error (a refused or reset connection)
// comes back as it is, so that retries still see it as what it is.
func classifyTLS(err error, peer, host string, h tlsHints, now time.Time) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*TLSError](err); ok {
		return err
	}
	msg := tlsMessage(err, host, h, now)
	if msg == "" {
		return err
	}
	return &TLSError{Peer: peer, Msg: msg, Err: err}
}

func tlsMessage(err error, host string, h tlsHints, now time.Time) string {
	if ua, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		issuer := ""
		if ua.Cert != nil {
			issuer = fmt.Sprintf(" (issued by %q)", ua.Cert.Issuer.CommonName)
		}
		if h.caFile == "" {
			return fmt.Sprintf("its TLS certificate%s is not signed by a CA this system trusts: give the CA that signed it with %s FILE", issuer, h.caFlag)
		}
		return fmt.Sprintf("its TLS certificate%s is not signed by a CA in %s %s: give the CA that signed it", issuer, h.caFlag, h.caFile)
	}
	if ci, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		switch {
		case ci.Reason == x509.Expired && ci.Cert != nil && now.Before(ci.Cert.NotBefore):
			return fmt.Sprintf("its TLS certificate %q is not valid before %s (now %s): check the clocks", ci.Cert.Subject.CommonName,
				ci.Cert.NotBefore.UTC().Format(time.DateTime+" MST"), now.UTC().Format(time.DateTime+" MST"))
		case ci.Reason == x509.Expired && ci.Cert != nil:
			return fmt.Sprintf("its TLS certificate %q expired on %s: renew the server's certificate", ci.Cert.Subject.CommonName,
				ci.Cert.NotAfter.UTC().Format(time.DateTime+" MST"))
		}
		return fmt.Sprintf("its TLS certificate is invalid: %v", err)
	}
	if he, ok := errors.AsType[x509.HostnameError](err); ok && he.Certificate != nil {
		names := append([]string(nil), he.Certificate.DNSNames...)
		for _, ip := range he.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) == 0 {
			names = []string{he.Certificate.Subject.CommonName}
		}
		return fmt.Sprintf("its TLS certificate is for %s, not %s: connect with a name the certificate holds, or reissue it for %s",
			strings.Join(names, ", "), he.Host, he.Host)
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return "answered in plaintext, not TLS: give its TLS address, or drop --tls"
	}
	// The server's alerts about our client certificate arrive as
	// "remote error: tls: ..." (crypto/tls keeps the alert type unexported).
	s := err.Error()
	switch {
	case h.certFile != "" && strings.Contains(s, "tls: certificate required"):
		// crypto/tls sends no certificate at all when ours is not from a
		// CA the server asked for.
		return fmt.Sprintf("refused the client certificate %s %s: it is not signed by a CA the server trusts", h.certFlag, h.certFile)
	case strings.Contains(s, "tls: certificate required"):
		return fmt.Sprintf("requires a client certificate (mutual TLS): give %s and its key", h.certFlag)
	case h.certFile != "" && strings.Contains(s, "tls: expired certificate"):
		return fmt.Sprintf("refused the client certificate %s %s as expired: renew it", h.certFlag, h.certFile)
	case h.certFile != "" && (strings.Contains(s, "tls: bad certificate") || strings.Contains(s, "tls: unknown certificate authority") ||
		strings.Contains(s, "tls: certificate unknown")):
		return fmt.Sprintf("refused the client certificate %s %s: it is not signed by a CA the server trusts", h.certFlag, h.certFile)
	case h.certFile == "" && (strings.Contains(s, "tls: bad certificate") || strings.Contains(s, "tls: certificate unknown")):
		// Kafka's answer to a missing client certificate.
		return fmt.Sprintf("requires a client certificate (mutual TLS): give %s and its key", h.certFlag)
	case strings.Contains(s, "tls: handshake failure"):
		return fmt.Sprintf("refused the TLS handshake (%v): check that it takes TLS here and, for mutual TLS, %s", err, h.certFlag)
	}
	return ""
}

// kafkaTLSDialer returns a kgo.Dialer that connects over TCP, completes
// the TLS handshake at once and reports its failures, and those of
// the first records (a client certificate refused under TLS 1.3), as
// TLSErrors naming the broker.
func kafkaTLSDialer(tc *tls.Config, h tlsHints) func(ctx context.Context, network, host string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second} // franz-go's default dial timeout
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		peer := "kafka broker " + addr
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := tc.Clone()
		if c.ServerName == "" {
			c.ServerName, _, _ = net.SplitHostPort(addr)
		}
		conn := tls.Client(raw, c)
		hctx, cancel := context.WithTimeout(ctx, d.Timeout)
		defer cancel()
		if err := conn.HandshakeContext(hctx); err != nil {
			raw.Close()
			if errors.Is(err, io.EOF) {
				// A Kafka plaintext listener reads the ClientHello as an
				// oversized request and hangs up.
				return nil, &TLSError{Peer: peer, Msg: "closed the connection in the TLS handshake: not a TLS port? give its TLS address, or drop --tls", Err: err}
			}
			return nil, classifyTLS(err, peer, c.ServerName, h, time.Now())
		}
		return &tlsConn{Conn: conn, peer: peer, host: c.ServerName, h: h}, nil
	}
}

// tlsConn classifies the TLS errors of reads and writes after the
// handshake.
type tlsConn struct {
	*tls.Conn
	peer, host string
	h          tlsHints
}

func (c *tlsConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		err = classifyTLS(err, c.peer, c.host, c.h, time.Now())
	}
	return n, err
}

func (c *tlsConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		err = classifyTLS(err, c.peer, c.host, c.h, time.Now())
	}
	return n, err
}

// S3HTTPClient is the SDK's default HTTP client trusting the CAs in the
// PEM file ca (the value of --s3-ca) instead of the system's.
func S3HTTPClient(ca string) (*awshttp.BuildableClient, error) {
	pool, err := loadCAs("s3-ca", ca)
	if err != nil {
		return nil, err
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}), nil
}

// S3Transport is Go's default transport trusting the CAs in the PEM file
// ca instead of the system's, for the S3 clients of others (Iceberg's
// FileIO).
func S3Transport(ca string) (*http.Transport, error) {
	pool, err := loadCAs("s3-ca", ca)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	return tr, nil
}

// noTLSRetry tells the SDK's retryer not to retry a certificate that
// failed verification: it will fail the same way every time.
var noTLSRetry = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
})

// s3TLSError classifies an S3 request's TLS failure (see classifyTLS).
func s3TLSError(err error, endpoint, ca string) error {
	host := endpoint
	if u, perr := url.Parse(endpoint); perr == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return classifyTLS(err, "s3 endpoint "+endpoint, host, tlsHints{caFlag: "--s3-ca", caFile: ca, certFlag: "--s3-ca"}, time.Now())
}
