package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/stack"
)

// The tests in this file run through the toxiproxy proxies of
// scripts/faults.sh in front of the 3-broker cluster (Kafka started with
// FAULTS=1) and the S3 server; scripts/test.sh starts them for its 3-broker
// phase. Without them they skip.

// localNetFaults returns a run config whose every connection to Kafka and
// S3 goes through the proxies, and the proxies, with no fault in force.
func localNetFaults(t *testing.T) (Config, stack.NetFaults) {
	t.Helper()
	cfg := localConfig(t)
	if n := len(cfg.Stack.Brokers); n < 3 {
		t.Skipf("needs the 3-broker cluster of `make up BROKERS=3`; the local stack has %d broker(s)", n)
	}
	nf, err := stack.ReadLocalNetFaults(filepath.Join(testrepo.Root(t), stack.LocalStateDir))
	if err != nil {
		t.Skipf("needs the fault proxies (FAULTS=1 and scripts/faults.sh up): %v", err)
	}
	if err := nf.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nf.Reset(context.Background()); err != nil {
			t.Errorf("reset faults: %v", err)
		}
	})
	cfg.Stack.Brokers, cfg.Stack.S3Endpoint = nf.Brokers, nf.S3Endpoint
	return cfg, nf
}

// TestLocalThreeBrokersNetFaults runs at 20,000 ticks/s through the
// proxies with each network fault in turn (Config.NetFaults, as bench
// --net-fault gives them), in force for part of the run: every
// acknowledged tick lands exactly once, the run finishes in bound, and the
// summary names the fault and how it showed. TICKBENCH_NET_FAULTS=latency,...
// runs only those.
func TestLocalThreeBrokersNetFaults(t *testing.T) {
	base, nf := localNetFaults(t)
	const rate = 20_000
	for _, tc := range []struct {
		name, spec string
		duration   time.Duration
		// bound is how long after the fault ends the run must have
		// finished: client timeouts and the drain.
		bound time.Duration
		check func(t *testing.T, s result.StrategyResult)
	}{
		{"latency", "latency:100ms:50ms@2s-8s", 10 * time.Second, 30 * time.Second, func(t *testing.T, s result.StrategyResult) {
			if s.Producer.Publish.Max < 100_000 {
				t.Errorf("publish max %d us under 100 ms ±50 ms of latency", s.Producer.Publish.Max)
			}
		}},
		{"bandwidth", "bandwidth:256@2s-8s", 10 * time.Second, 60 * time.Second, nil},
		{"reset", "reset:500ms@2s-6s", 10 * time.Second, 45 * time.Second, nil},
		{"slow-close", "slow-close:2s@2s-8s", 10 * time.Second, 30 * time.Second, nil},
		{"blackhole", "blackhole/kafka-2@5s-25s", 30 * time.Second, 30 * time.Second, func(t *testing.T, s result.StrategyResult) {
			if s.Producer.Publish.Max < 5_000_000 {
				t.Errorf("publish max %d us: a broker black-holed for 20 s cannot have gone unnoticed", s.Producer.Publish.Max)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if only := os.Getenv("TICKBENCH_NET_FAULTS"); only != "" && !strings.Contains(","+only+",", ","+tc.name+",") {
				t.Skip("not in TICKBENCH_NET_FAULTS")
			}
			cfg := base
			cfg.Topic += "-" + tc.name
			cfg.Rate, cfg.Duration = rate, tc.duration
			cfg.Policy.Records = 10_000
			cfg.DrainTimeout = 2 * time.Minute
			f, err := ParseNetFault(tc.spec, nf, cfg.Duration)
			if err != nil {
				t.Fatal(err)
			}
			cfg.NetFaults, cfg.Proxies = []NetFault{f}, &nf
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			start := time.Now()
			res, err := Run(ctx, cfg)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			s := checkOnce(t, res, tc.name)
			if limit := f.To + tc.bound; took > limit {
				t.Errorf("the run took %v: past the fault's end (%v) plus %v", took.Round(time.Second), f.To, tc.bound)
			}
			if len(s.NetFaults) != 1 {
				t.Fatalf("net faults in the result: %+v, want the one given", s.NetFaults)
			}
			got := s.NetFaults[0]
			if got.Error != "" || got.What != f.String() || got.FromS < f.From.Seconds() || got.ToS < f.To.Seconds() || got.ToS > f.To.Seconds()+2 {
				t.Errorf("net fault in the result %+v; want %s in force %v-%v, no error", got, f, f.From, f.To)
			}
			if active, err := nf.Active(ctx); err != nil || len(active) > 0 {
				t.Errorf("faults still in force after the run: %v (%v)", active, err)
			}
			var out strings.Builder
			res.PrintSummary(&out)
			line := ""
			for l := range strings.Lines(out.String()) {
				if strings.HasPrefix(l, "net fault "+tc.spec+" during ") {
					line = strings.TrimSpace(l)
				}
			}
			if line == "" || !strings.Contains(line, f.String()) {
				t.Fatalf("the summary names no fault %s (%s):\n%s", tc.spec, f, out.String())
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			t.Logf("%d landed once in %v; %s", s.Verify.Landed, took.Round(100*time.Millisecond), line)
		})
	}
}
