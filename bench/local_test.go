package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/stack"
)

// The tests in this file run against the real local stack (Apache Kafka and
// versitygw) that `make test` starts with scripts/stack.sh and announces with
// TICKBENCH_LOCAL_STACK=1. Without it they skip; with it, a missing stack
// is a failure.

// localConfig returns a run config on the real local stack, with a topic of
// the test's own, and prints the servers' log tails if the test fails.
func localConfig(t *testing.T) Config {
	t.Helper()
	if os.Getenv("TICKBENCH_LOCAL_STACK") == "" {
		t.Skip("needs the real local stack: run `make test`, or `make up` and set TICKBENCH_LOCAL_STACK=1")
	}
	root := testrepo.Root(t)
	sc, err := stack.Local(filepath.Join(root, stack.LocalStateDir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(root, stack.LocalStateDir, "kafka", "node-*", "broker.log"))
			for _, log := range append(logs, filepath.Join(root, stack.LocalStateDir, "s3", "server.log")) {
				t.Logf("last lines of %s:\n%s", log, tail(log, 40))
			}
		}
	})
	cfg := testConfig(t)
	sc.DataDir = cfg.Stack.DataDir
	cfg.Stack = sc
	cfg.Topic = fmt.Sprintf("ticks-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "TestLocal")), time.Now().UnixNano())
	return cfg
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func TestLocalPipeline(t *testing.T) {
	cfg := localConfig(t)
	cfg.Rate, cfg.Duration = 20_000, 10*time.Second
	cfg.Policy.Records = 10_000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := res.Strategies[0].Verify
	if res.Strategies[0].Producer.Acked != 200_000 || !v.OK || v.Landed != 200_000 || v.Duplicates != 0 {
		t.Fatalf("acked %d, verify %+v: want 200000 landed exactly once", res.Strategies[0].Producer.Acked, v)
	}
	path, err := res.WriteFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte(`"name": "local"`)) {
		t.Fatalf("result file does not say stack local:\n%.400s", b)
	}
	t.Logf("achieved %.0f/s, e2e p99 %d us, publish p99 %d us", res.Strategies[0].Producer.AchievedRate, res.Strategies[0].EndToEnd.P99, res.Strategies[0].Producer.Publish.P99)
}

func TestLocalRebalance(t *testing.T) {
	cfg := localConfig(t)
	cfg.Duration = 8 * time.Second
	cfg.Policy.Records = 200
	cfg.JoinAt, cfg.LeaveAt = time.Second, 6*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Strategies[0]
	if !s.Verify.OK || s.Verify.Landed != 16_000 || s.Verify.Duplicates != 0 {
		t.Fatalf("verify = %+v, want 16000 landed once", s.Verify)
	}
	if len(s.MembersConsumed) != 2 || s.MembersConsumed[1] == 0 {
		t.Fatalf("members consumed %v: the joiner never got partitions", s.MembersConsumed)
	}
}

// TestLocalTopicExists: a topic made earlier with another partition count is
// used as it is, and the result says how many partitions it has.
func TestLocalTopicExists(t *testing.T) {
	cfg := localConfig(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Stack.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, -1, nil, cfg.Topic); err != nil {
		t.Fatal(err)
	}
	cfg.Partitions = 6
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Workload.Partitions != 3 || !res.Verified {
		t.Fatalf("partitions %d verified %v, want 3 and true", res.Workload.Partitions, res.Verified)
	}
}

func TestLocalBucketMissing(t *testing.T) {
	cfg := localConfig(t)
	cfg.Stack.Bucket = "no-such-bucket"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Run(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist at `+cfg.Stack.S3Endpoint) {
		t.Fatalf("err = %v, want the missing bucket named", err)
	}
}

// createLocalTopic creates cfg's topic on the local brokers with 6
// partitions and the brokers' default replication factor (-1), so a
// 3-broker stack gets 3 replicas and a 1-broker stack 1.
func createLocalTopic(t *testing.T, ctx context.Context, cfg Config) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Stack.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 6, -1, nil, cfg.Topic); err != nil {
		t.Fatal(err)
	}
}
