package bench

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/tickbench/tickbench/internal/testrepo"
)

// TestLocalBrokerRestart stops the real broker mid-run and starts it again
// on the same ports and data dir (scripts/kafka.sh restart): the producer
// and the sink reconnect on their own, and every tick lands exactly once.
func TestLocalBrokerRestart(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg.Rate, cfg.Duration = 2000, 15*time.Second
	cfg.Policy.Records = 500
	cfg.DrainTimeout = 2 * time.Minute
	restarted := make(chan error, 1)
	time.AfterFunc(3*time.Second, func() {
		cmd := exec.CommandContext(ctx, "bash", "scripts/kafka.sh", "restart")
		cmd.Dir = testrepo.Root(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("kafka.sh restart:\n%s", out)
		}
		restarted <- err
	})
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("restart: %v", err)
	}
	s := res.Strategies[0]
	p := s.Producer
	if p.Acked != p.Sent || p.Failed != 0 || !s.Verify.OK || s.Verify.Landed != int64(p.Acked) || s.Verify.Duplicates != 0 || s.Verify.Missing != 0 {
		t.Fatalf("producer %+v, verify %+v: want every tick acked and landed once across the restart", p, s.Verify)
	}
	// The outage must show in the latency measured from intended times.
	if s.EndToEnd.Max < 1_000_000 {
		t.Fatalf("e2e max %d us: a broker restart cannot have gone unnoticed", s.EndToEnd.Max)
	}
	t.Logf("sent %d, landed %d once; e2e p99.9 %d us, max %d us across the restart", p.Sent, s.Verify.Landed, s.EndToEnd.P999, s.EndToEnd.Max)
}
