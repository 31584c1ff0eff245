package bench

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/internal/testrepo"
)

// kafkaScriptAt runs scripts/kafka.sh with args after a delay and reports
// its error on the channel it returns.
func kafkaScriptAt(ctx context.Context, t *testing.T, after time.Duration, args ...string) <-chan error {
	done := make(chan error, 1)
	root := testrepo.Root(t)
	time.AfterFunc(after, func() {
		cmd := exec.CommandContext(ctx, "bash", append([]string{"scripts/kafka.sh"}, args...)...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("kafka.sh %v:\n%s", args, out)
		}
		done <- err
	})
	return done
}

// checkOnce fails t unless every tick of the run's first strategy was acked
// and landed exactly once.
func checkOnce(t *testing.T, res *result.Result, what string) result.StrategyResult {
	t.Helper()
	s := res.Strategies[0]
	p := s.Producer
	if p.Acked != p.Sent || p.Failed != 0 || !s.Verify.OK || s.Verify.Landed != int64(p.Acked) || s.Verify.Duplicates != 0 || s.Verify.Missing != 0 {
		t.Fatalf("producer %+v, verify %+v: want every tick acked and landed once across %s", p, s.Verify, what)
	}
	return s
}

// TestLocalBrokerRestart stops the real broker mid-run and starts it again
// on the same ports and data dir (scripts/kafka.sh restart; one node after
// the other on a cluster): the producer and the sink reconnect on their own,
// and every tick lands exactly once.
func TestLocalBrokerRestart(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg.Rate, cfg.Duration = 2000, 15*time.Second
	cfg.Policy.Records = 500
	cfg.DrainTimeout = 2 * time.Minute
	restarted := kafkaScriptAt(ctx, t, 3*time.Second, "restart")
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("restart: %v", err)
	}
	s := checkOnce(t, res, "the restart")
	// The outage must show in the latency measured from intended times.
	if s.EndToEnd.Max < 1_000_000 {
		t.Fatalf("e2e max %d us: a broker restart cannot have gone unnoticed", s.EndToEnd.Max)
	}
	t.Logf("sent %d, landed %d once; e2e p99.9 %d us, max %d us across the restart", s.Producer.Sent, s.Verify.Landed, s.EndToEnd.P999, s.EndToEnd.Max)
}

// TestLocalThreeBrokersStopOne stops one broker of the cluster of `make up BROKERS=3`
// mid-run and starts it again 8 s later: the run's topic has 3 replicas and
// min.insync.replicas is 2, so acks=all writes go on meanwhile, and every
// tick lands exactly once.
func TestLocalThreeBrokersStopOne(t *testing.T) {
	cfg := localConfig(t)
	if n := len(cfg.Stack.Brokers); n < 3 {
		t.Skipf("needs the 3-broker cluster of `make up BROKERS=3`; the local stack has %d broker(s)", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg.Rate, cfg.Duration = 2000, 15*time.Second
	cfg.Policy.Records = 500
	cfg.DrainTimeout = 2 * time.Minute
	stopped := kafkaScriptAt(ctx, t, 3*time.Second, "broker-stop", "2")
	started := kafkaScriptAt(ctx, t, 11*time.Second, "broker-start", "2")
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for what, done := range map[string]<-chan error{"broker-stop 2": stopped, "broker-start 2": started} {
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	s := checkOnce(t, res, "a stopped broker")

	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Stack.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx, cfg.Topic)
	if err == nil {
		err = topics.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range topics[cfg.Topic].Partitions {
		if len(p.Replicas) != 3 {
			t.Fatalf("partition %d has replicas %v: the run's topic should get the cluster's default of 3", p.Partition, p.Replicas)
		}
	}
	t.Logf("sent %d, landed %d once with broker 2 down from 3 s to 11 s; e2e p99.9 %d us, max %d us", s.Producer.Sent, s.Verify.Landed, s.EndToEnd.P999, s.EndToEnd.Max)
}
