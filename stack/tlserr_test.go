package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/internal/certs"
)

// tlsServer serves TLS with the certificate pair on 127.0.0.1 until the
// test ends, asking for a client certificate signed by ca when mtls; each
// connection is read until it closes.
func tlsServer(t *testing.T, f certs.Files, cert, key string, mtls bool) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{pair}}
	if mtls {
		pool, err := loadCAs("ca", f.CA)
		if err != nil {
			t.Fatal(err)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestKafkaTLSDialerErrors: every way a TLS connection to a broker can be
// wrong comes back as one line that names what to fix.
func TestKafkaTLSDialerErrors(t *testing.T) {
	f, err := certs.Generate(t.TempDir(), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good := tlsServer(t, f, f.ServerCert, f.ServerKey, false)
	expired := tlsServer(t, f, f.ExpiredCert, f.ExpiredKey, false)
	wrongHost := tlsServer(t, f, f.WrongHostCert, f.WrongHostKey, false)
	mtls := tlsServer(t, f, f.ServerCert, f.ServerKey, true)
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()

	for _, tc := range []struct {
		name string
		sec  Security
		addr string
		want string // "" : connects
	}{
		{"good", Security{TLS: true, TLSCA: f.CA}, good, ""},
		{"mtls", Security{TLS: true, TLSCA: f.CA, TLSCert: f.ClientCert, TLSKey: f.ClientKey}, mtls, ""},
		{"wrong CA", Security{TLS: true, TLSCA: f.OtherCA}, good,
			`kafka broker ` + good + `: its TLS certificate (issued by "tickbench local CA") is not signed by a CA in --tls-ca ` + f.OtherCA + `: give the CA that signed it`},
		{"system CAs", Security{TLS: true}, good, "is not signed by a CA this system trusts: give the CA that signed it with --tls-ca FILE"},
		{"expired", Security{TLS: true, TLSCA: f.CA}, expired,
			fmt.Sprintf("kafka broker %s: its TLS certificate \"tickbench local server\" expired on %s: renew the server's certificate", expired, f.ExpiredAt.UTC().Format("2006-01-02 15:04:05 UTC"))},
		{"wrong host", Security{TLS: true, TLSCA: f.CA}, wrongHost,
			"kafka broker " + wrongHost + ": its TLS certificate is for kafka.invalid, not 127.0.0.1: connect with a name the certificate holds, or reissue it for 127.0.0.1"},
		{"no client cert", Security{TLS: true, TLSCA: f.CA}, mtls, "kafka broker " + mtls + ": requires a client certificate (mutual TLS): give --tls-cert and its key"},
		{"client cert of another CA", Security{TLS: true, TLSCA: f.CA, TLSCert: f.OtherCA, TLSKey: strings.TrimSuffix(f.OtherCA, ".pem") + "-key.pem"}, mtls,
			"kafka broker " + mtls + ": refused the client certificate --tls-cert " + f.OtherCA + ": it is not signed by a CA the server trusts"},
		{"plaintext port", Security{TLS: true, TLSCA: f.CA}, plain.Addr().String(), "answered in plaintext, not TLS: give its TLS address, or drop --tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.sec.tlsConfig()
			if err != nil {
				t.Fatal(err)
			}
			dial := kafkaTLSDialer(c, tlsHints{caFlag: "--tls-ca", caFile: tc.sec.TLSCA, certFlag: "--tls-cert", certFile: tc.sec.TLSCert})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, err := dial(ctx, "tcp", tc.addr)
			if err == nil {
				// TLS 1.3 tells of a refused client certificate after the
				// handshake: on the first read.
				conn.Write([]byte("ping"))
				conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				_, err = conn.Read(make([]byte, 1))
				conn.Close()
				if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
					err = nil
				}
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want a connection, got %v", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("connected, want %q", tc.want)
			}
			te, ok := errors.AsType[*TLSError](err)
			if !ok || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got  %v (%T)\nwant one line with %q", err, err, tc.want)
			}
			t.Logf("%s: %v", tc.name, te)
		})
	}
}
