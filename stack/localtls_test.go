package stack

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLocalTLSListener: the state files of `make up TLS=1` read back, and
// each kind of client security gets its listener.
func TestLocalTLSListener(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "state.env"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("certs", "TLS_CA=/c/ca.pem\nTLS_OTHER_CA=/c/other-ca.pem\nTLS_CLIENT_CERT=/c/client.pem\nTLS_CLIENT_KEY=/c/client-key.pem\nTLS_EXPIRED_AT=2026-12-06T18:00:00Z\nTLS_WRONGHOST_NAME=kafka.invalid\n")
	write("s3", "S3_ENDPOINT=http://127.0.0.1:1\nS3_TLS_ENDPOINT=https://127.0.0.1:2\n")
	if _, err := ReadLocalTLS(dir); err == nil {
		t.Fatal("no Kafka state: want an error")
	}
	write("kafka", "KAFKA_BROKERS=127.0.0.1:9\nKAFKA_SASL_USER=u\nKAFKA_SASL_PASSWORD=p\nKAFKA_SSL_BROKERS=127.0.0.1:10,127.0.0.1:20\nKAFKA_SASL_SSL_BROKERS=127.0.0.1:11\nKAFKA_MTLS_BROKERS=127.0.0.1:12\nKAFKA_TLS_EXPIRED_BROKERS=127.0.0.1:13\nKAFKA_TLS_WRONGHOST_BROKERS=127.0.0.1:14\n")
	l, err := ReadLocalTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.SSL, []string{"127.0.0.1:10", "127.0.0.1:20"}) || l.S3Endpoint != "https://127.0.0.1:2" || l.WrongHostName != "kafka.invalid" {
		t.Fatalf("read %+v", l)
	}
	for _, tc := range []struct {
		sec  Security
		want string
		user string
	}{
		{Security{}, "127.0.0.1:10", ""},
		{Security{SASLMechanism: "scram-sha-512"}, "127.0.0.1:11", "u"},
		{Security{SASLMechanism: "scram-sha-512", SASLUser: "other", SASLPassword: "x"}, "127.0.0.1:11", "other"},
		{Security{TLSCert: "/c/client.pem", TLSKey: "/c/client-key.pem"}, "127.0.0.1:12", ""},
	} {
		brokers, sec := l.Listener(tc.sec)
		if brokers[0] != tc.want || !sec.TLS || sec.TLSCA != "/c/ca.pem" || sec.SASLUser != tc.user {
			t.Errorf("Listener(%v) = %v, %v; want %s, TLS with the stack's CA, user %q", tc.sec, brokers, sec, tc.want, tc.user)
		}
	}
}
