package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// TestLocalSCRAM produces and consumes through the real broker's
// SASL_PLAINTEXT listener with SCRAM-SHA-512, and checks that a wrong
// password is refused with an error that says so (and does not show it).
func TestLocalSCRAM(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	brokers, sec, err := stack.LocalSCRAM(filepath.Join(testrepo.Root(t), stack.LocalStateDir))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := sec.Options()
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	res, err := Produce(ctx, ProduceConfig{Brokers: brokers, Topic: cfg.Topic, Partitions: 3, Count: n,
		Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig(), KafkaOpts: opts})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != n {
		t.Fatalf("acked %d of %d through SCRAM", res.Acked, n)
	}
	sc := cfg.Stack
	sc.Brokers, sc.Security = brokers, sec
	prefix := "scram/" + randomHex(4) + "/"
	sr, err := RunSink(ctx, SinkConfig{Stack: sc, Topic: cfg.Topic, Group: "scram-" + randomHex(4), Prefix: prefix,
		Strategy: "jsonl", Policy: sink.Policy{Records: 1000, Bytes: 64 << 20, Interval: time.Hour}, Layout: sink.LayoutHourly,
		UntilCaughtUp: true, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	stats := sr.Stats
	st, err := stack.Start(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := verify(ctx, st.S3, st.Bucket, prefix, sink.JSONL{}, allSeqs(n), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || stats.Consumed != n {
		t.Fatalf("consumed %d, verify %+v: want %d landed once through SCRAM", stats.Consumed, v, n)
	}

	bad := sc
	bad.Security.SASLPassword = "wrong-" + randomHex(8)
	bad.ConnectTimeout = 10 * time.Second
	_, err = stack.Start(ctx, bad)
	if err == nil {
		t.Fatal("a wrong SCRAM password was accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "SASL") || !strings.Contains(msg, sec.SASLUser) || strings.Contains(msg, bad.Security.SASLPassword) {
		t.Fatalf("wrong password: %v\nwant an error naming SASL and the user, without the password", err)
	}
	t.Logf("wrong password: %v", err)
}
