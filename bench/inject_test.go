package bench

import (
	"context"
	"testing"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// checkBadRecords injects 1% bad records of every kind, runs a sink until
// it caught up, and reads everything back: every valid tick landed once,
// every bad record is in errors/ with its reason, and the sink kept going.
func checkBadRecords(t *testing.T, ctx context.Context, st *stack.Stack, sinkStack stack.Config, topic string) {
	t.Helper()
	const count = 20_000
	ic := InjectConfig{Brokers: st.Brokers, Topic: topic, Partitions: 3, Count: count, BadRatio: 0.01, Seed: 7,
		Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig()}
	inj, err := Inject(ctx, ic)
	if err != nil {
		t.Fatal(err)
	}
	if inj.Bad < 100 || inj.Bad > 300 || len(inj.ByKind) != len(gen.BadKinds) {
		t.Fatalf("injected %+v: want ~1%% of %d bad, of every kind", inj, count)
	}
	prefix := "bad/" + randomHex(4) + "/"
	sr, err := RunSink(ctx, SinkConfig{Stack: sinkStack, Topic: topic, Group: "bad-" + randomHex(4), Prefix: prefix,
		Strategy: "jsonl", Policy: sink.Policy{Records: 1000, Bytes: 64 << 20, Interval: time.Hour}, Layout: sink.LayoutHourly,
		UntilCaughtUp: true, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	stats := sr.Stats
	if stats.Invalid != int64(inj.Bad) || stats.Rejected != int64(inj.Bad) || stats.ErrorObjects == 0 {
		t.Fatalf("sink stats %+v: want %d invalid, all rejected into errors/", stats, inj.Bad)
	}
	v, err := verify(ctx, st.S3, st.Bucket, prefix, sink.JSONL{}, allSeqs(uint64(inj.Valid)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Unique != int64(inj.Valid) || v.Landed != int64(inj.Valid) || v.Rejects != int64(inj.Bad) || v.RejectObjects != stats.ErrorObjects {
		t.Fatalf("verify %+v: want %d ticks once and %d rejects in %d objects", v, inj.Valid, inj.Bad, stats.ErrorObjects)
	}
	t.Logf("%d valid, %d bad %v; %d errors/ objects", inj.Valid, inj.Bad, inj.ByKind, v.RejectObjects)
}

func TestBadRecordsEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc := stack.Default()
	sc.DataDir = t.TempDir()
	st, err := stack.Start(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The sink reaches the same servers as an external stack would, with
	// the run's keys (the embedded server accepts no other).
	creds, err := st.S3.Options().Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ext := stack.Config{Brokers: st.Brokers, S3Endpoint: st.S3Endpoint, Bucket: st.Bucket, Region: sc.Region,
		AccessKey: creds.AccessKeyID, SecretKey: creds.SecretAccessKey, ConnectTimeout: 10 * time.Second}
	checkBadRecords(t, ctx, st, ext, "ticks-bad")
}

func TestLocalBadRecords(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkBadRecords(t, ctx, st, cfg.Stack, cfg.Topic)
}
