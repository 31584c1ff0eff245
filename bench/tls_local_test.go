package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/stack"
)

// The tests in this file need the TLS listeners of `make up TLS=1`
// (scripts/test.sh starts the stack so); on a stack without them they skip.

// localTLS returns a run config on the local stack and its TLS endpoints.
func localTLS(t *testing.T) (Config, stack.LocalTLS) {
	t.Helper()
	cfg := localConfig(t)
	l, err := stack.ReadLocalTLS(filepath.Join(testrepo.Root(t), stack.LocalStateDir))
	if err != nil {
		t.Skipf("needs the TLS listeners of `make up TLS=1`: %v", err)
	}
	return cfg, l
}

// TestLocalTLSRuns: a whole run, exactly once, through each of the
// broker's TLS listeners — SSL, SASL_SSL with SCRAM-SHA-512, mutual TLS —
// with S3 over HTTPS, every certificate checked against the stack's CA.
func TestLocalTLSRuns(t *testing.T) {
	base, l := localTLS(t)
	for _, tc := range []struct {
		name    string
		brokers []string
		sec     stack.Security
	}{
		{"ssl", l.SSL, stack.Security{TLS: true, TLSCA: l.CA}},
		{"sasl_ssl", l.SASLSSL, stack.Security{TLS: true, TLSCA: l.CA, SASLMechanism: l.SASL.SASLMechanism, SASLUser: l.SASL.SASLUser, SASLPassword: l.SASL.SASLPassword}},
		{"mtls", l.MTLS, stack.Security{TLS: true, TLSCA: l.CA, TLSCert: l.ClientCert, TLSKey: l.ClientKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Topic += "-" + tc.name
			cfg.Rate, cfg.Duration = 2000, 4*time.Second
			cfg.Stack.Brokers, cfg.Stack.Security = tc.brokers, tc.sec
			cfg.Stack.S3Endpoint, cfg.Stack.S3CA = l.S3Endpoint, l.CA
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := checkOnce(t, res, tc.name+" and S3 over HTTPS")
			if s.Producer.Acked != 8000 {
				t.Fatalf("acked %d, want 8000", s.Producer.Acked)
			}
			t.Logf("%s: %d ticks landed once; publish p99 %d us, e2e p99 %d us", tc.name, s.Verify.Landed, s.Producer.Publish.P99, s.EndToEnd.P99)
		})
	}
}

// TestLocalTLSRefused runs `tickbench bench` against each wrong setup:
// it must exit 1 with one line on stderr that names what to fix, and
// produce no tick (the run's topic is never created).
func TestLocalTLSRefused(t *testing.T) {
	cfg, l := localTLS(t)
	root, bin := buildTickbench(t)
	plain := cfg.Stack.Brokers
	expiredOn, err := time.Parse(time.RFC3339, l.ExpiredAt)
	if err != nil {
		t.Fatal(err)
	}
	tlsTo := func(brokers []string, ca string) []string {
		return []string{"--brokers", strings.Join(brokers, ","), "--tls", "--tls-ca", ca}
	}
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"wrong CA", tlsTo(l.SSL, l.OtherCA), nil,
			"tickbench: kafka broker " + l.SSL[0] + `: its TLS certificate (issued by "tickbench local CA") is not signed by a CA in --tls-ca ` + l.OtherCA + ": give the CA that signed it"},
		{"expired", tlsTo(l.Expired, l.CA), nil,
			"tickbench: kafka broker " + l.Expired[0] + `: its TLS certificate "tickbench local server" expired on ` + expiredOn.UTC().Format("2006-01-02 15:04:05 UTC") + ": renew the server's certificate"},
		{"wrong host", tlsTo(l.WrongHost, l.CA), nil,
			"tickbench: kafka broker " + l.WrongHost[0] + ": its TLS certificate is for " + l.WrongHostName + ", not 127.0.0.1: connect with a name the certificate holds, or reissue it for 127.0.0.1"},
		{"wrong password", append(tlsTo(l.SASLSSL, l.CA), "--sasl-mechanism", "scram-sha-512", "--sasl-user", l.SASL.SASLUser), []string{"TICKBENCH_SASL_PASSWORD=wrong-" + randomHex(6)},
			"tickbench: kafka brokers " + strings.Join(l.SASLSSL, ",") + ` refused the SASL scram-sha-512 login of user "` + l.SASL.SASLUser + `": wrong --sasl-user/--sasl-password`},
		{"no client certificate", tlsTo(l.MTLS, l.CA), nil,
			"tickbench: kafka broker " + l.MTLS[0] + ": requires a client certificate (mutual TLS): give --tls-cert and its key"},
		{"plaintext port", tlsTo(plain, l.CA), nil,
			"tickbench: kafka broker " + plain[0] + ": closed the connection in the TLS handshake: not a TLS port? give its TLS address, or drop --tls"},
		{"TLS port without --tls", []string{"--brokers", strings.Join(l.SSL, ",")}, nil,
			"tickbench: kafka brokers " + strings.Join(l.SSL, ",") + " answered in TLS: give --tls (and --tls-ca), or their plaintext address"},
		{"S3 wrong CA", append(tlsTo(l.SSL, l.CA), "--s3-ca", l.OtherCA), nil,
			"tickbench: s3 endpoint " + l.S3Endpoint + `: its TLS certificate (issued by "tickbench local CA") is not signed by a CA in --s3-ca ` + l.OtherCA + ": give the CA that signed it"},
		{"S3 system CAs", tlsTo(l.SSL, l.CA), nil,
			"tickbench: s3 endpoint " + l.S3Endpoint + `: its TLS certificate (issued by "tickbench local CA") is not signed by a CA this system trusts: give the CA that signed it with --s3-ca FILE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := cfg.Topic + "-" + strings.ReplaceAll(tc.name, " ", "-")
			args := append([]string{"bench", "--quiet", "--rate", "1000", "--duration", "2s", "--topic", topic, "--out", t.TempDir(),
				"--s3-endpoint", l.S3Endpoint, "--bucket", cfg.Stack.Bucket, "--region", cfg.Stack.Region, "--connect-timeout", "10s"}, tc.args...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+cfg.Stack.AccessKey, "AWS_SECRET_ACCESS_KEY="+cfg.Stack.SecretKey, "AWS_CA_BUNDLE=")
			cmd.Env = append(cmd.Env, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			got := strings.TrimRight(stderr.String(), "\n")
			if got != tc.want {
				t.Fatalf("stderr:\n%s\nwant the one line\n%s", got, tc.want)
			}
			noTopic(t, plain, topic)
			t.Logf("%s (%v): %s", tc.name, took.Round(10*time.Millisecond), got)
		})
	}
}

// noTopic fails t if topic exists on the brokers: a refused run must not
// have got as far as producing.
func noTopic(t *testing.T, brokers []string, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has(topic) {
		t.Fatalf("topic %s exists: the refused run got as far as creating it", topic)
	}
}

// TestLocalTLSStackFlag: `--stack local --tls` finds the stack's TLS
// listeners and CA by itself — SASL_SSL for bench with a SCRAM mechanism,
// S3 over HTTPS — and a produce process given the wrong CA is refused in
// one line before its topic exists.
func TestLocalTLSStackFlag(t *testing.T) {
	cfg, l := localTLS(t)
	root, bin := buildTickbench(t)
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE=", "TICKBENCH_SASL_PASSWORD=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	out := t.TempDir()
	topic := cfg.Topic + "-stackflag"
	stdout, stderr, err := run("bench", "--stack", "local", "--tls", "--sasl-mechanism", "scram-sha-512", "--quiet",
		"--rate", "2000", "--duration", "3s", "--strategies", "parquet-zstd", "--topic", topic, "--out", out)
	if err != nil {
		t.Fatalf("bench --stack local --tls: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	var res *result.Result
	for _, f := range files {
		if r, err := result.ReadResult(f); err == nil {
			res = r
		}
	}
	if res == nil {
		t.Fatalf("no result in %s (%v)", out, files)
	}
	s := checkOnce(t, res, "--stack local --tls over SASL_SSL")
	if s.Producer.Acked != 6000 {
		t.Fatalf("acked %d, want 6000", s.Producer.Acked)
	}

	// Refusals that show which endpoints were picked: S3 over HTTPS (its
	// CA the one given) after the SASL_SSL login passed, and a produce
	// process on the SSL listener.
	// (On a cluster the broker named is whichever the client dialled.)
	refused := func(name string, wants []string, args ...string) {
		t.Helper()
		topic := cfg.Topic + "-stackflag-" + name
		_, stderr, err := run(append(args, "--topic", topic)...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("%s: %v, want exit 1\nstderr:\n%s", name, err, stderr)
		}
		if got := strings.TrimRight(stderr, "\n"); !slices.Contains(wants, got) {
			t.Fatalf("%s: stderr:\n%s\nwant the one line\n%s", name, got, wants[0])
		}
		noTopic(t, cfg.Stack.Brokers, topic)
	}
	wrongCA := func(flag, what string, at ...string) []string {
		var out []string
		for _, a := range at {
			out = append(out, "tickbench: "+what+" "+a+`: its TLS certificate (issued by "tickbench local CA") is not signed by a CA in `+flag+" "+l.OtherCA+": give the CA that signed it")
		}
		return out
	}
	refused("s3", wrongCA("--s3-ca", "s3 endpoint", l.S3Endpoint),
		"bench", "--stack", "local", "--tls", "--sasl-mechanism", "scram-sha-512", "--s3-ca", l.OtherCA, "--quiet", "--rate", "100", "--duration", "2s", "--out", out)
	refused("produce", wrongCA("--tls-ca", "kafka broker", l.SSL...),
		"produce", "--stack", "local", "--tls", "--tls-ca", l.OtherCA, "--rate", "100", "--duration", "2s")
}
