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

// faultWindow injects faults at from after the start and removes them at
// to; the returned func waits for both and returns what was in force.
func faultWindow(t *testing.T, nf stack.NetFaults, from, to time.Duration, faults ...stack.Fault) func() []stack.Fault {
	t.Helper()
	done := make(chan []stack.Fault, 1)
	go func() {
		ctx := context.Background()
		time.Sleep(from)
		for _, f := range faults {
			if err := nf.Add(ctx, f); err != nil {
				t.Error(err)
			}
		}
		active, err := nf.Active(ctx)
		if err != nil {
			t.Error(err)
		}
		time.Sleep(to - from)
		for _, f := range faults {
			if err := nf.Remove(ctx, f); err != nil {
				t.Error(err)
			}
		}
		done <- active
	}()
	return func() []stack.Fault { return <-done }
}

// TestLocalThreeBrokersNetFaults runs at 20,000 ticks/s through the
// proxies with each network fault in turn, in force for part of the run:
// every acknowledged tick lands exactly once and the run finishes. The
// fault and how it showed are logged. TICKBENCH_NET_FAULTS=latency,...
// runs only those.
func TestLocalThreeBrokersNetFaults(t *testing.T) {
	base, nf := localNetFaults(t)
	all := append(append([]string(nil), nf.Proxies...), nf.S3Proxy)
	tox := func(name, typ, stream string, attrs map[string]int64) stack.Toxic {
		return stack.Toxic{Name: name, Type: typ, Stream: stream, Attributes: attrs}
	}
	const rate = 20_000
	for _, tc := range []struct {
		name     string
		duration time.Duration
		from, to time.Duration
		faults   []stack.Fault
		// bound is how long after the fault ends the run must have
		// finished: client timeouts and the drain.
		bound time.Duration
		check func(t *testing.T, s result.StrategyResult)
	}{
		{"latency", 10 * time.Second, 2 * time.Second, 8 * time.Second,
			[]stack.Fault{{Toxic: tox("latency", "latency", "downstream", map[string]int64{"latency": 100, "jitter": 50}), Proxies: all}},
			30 * time.Second, func(t *testing.T, s result.StrategyResult) {
				if s.Producer.Publish.Max < 100_000 {
					t.Errorf("publish max %d us under 100 ms ±50 ms of latency", s.Producer.Publish.Max)
				}
			}},
		{"bandwidth", 10 * time.Second, 2 * time.Second, 8 * time.Second,
			[]stack.Fault{
				{Toxic: tox("bw-fetch", "bandwidth", "downstream", map[string]int64{"rate": 256}), Proxies: nf.Proxies},
				{Toxic: tox("bw-upload", "bandwidth", "upstream", map[string]int64{"rate": 256}), Proxies: []string{nf.S3Proxy}},
			}, 60 * time.Second, nil},
		{"reset", 10 * time.Second, 2 * time.Second, 6 * time.Second,
			[]stack.Fault{{Toxic: tox("reset", "reset_peer", "upstream", map[string]int64{"timeout": 500}), Proxies: all}},
			45 * time.Second, nil},
		{"slow-close", 10 * time.Second, 2 * time.Second, 8 * time.Second,
			[]stack.Fault{{Toxic: tox("slow-close", "slow_close", "downstream", map[string]int64{"delay": 2000}), Proxies: all}},
			30 * time.Second, nil},
		{"blackhole", 30 * time.Second, 5 * time.Second, 25 * time.Second,
			[]stack.Fault{
				{Toxic: tox("bh-up", "timeout", "upstream", map[string]int64{"timeout": 0}), Proxies: nf.Proxies[1:2]},
				{Toxic: tox("bh-down", "timeout", "downstream", map[string]int64{"timeout": 0}), Proxies: nf.Proxies[1:2]},
			}, 30 * time.Second, func(t *testing.T, s result.StrategyResult) {
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
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			start := time.Now()
			wait := faultWindow(t, nf, tc.from, tc.to, tc.faults...)
			res, err := Run(ctx, cfg)
			took := time.Since(start)
			active := wait()
			if err != nil {
				t.Fatal(err)
			}
			s := checkOnce(t, res, tc.name)
			if limit := tc.to + tc.bound; took > limit {
				t.Errorf("the run took %v: past the fault's end (%v) plus %v", took.Round(time.Second), tc.to, tc.bound)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			var names []string
			for _, f := range active {
				names = append(names, f.String())
			}
			t.Logf("%s from %v to %v [%s]: %d landed once in %v; publish p99 %d us max %d us, e2e p99 %d us max %d us, S3 retries %d, fetch pauses %d, drain %.1f s",
				tc.name, tc.from, tc.to, strings.Join(names, "; "), s.Verify.Landed, took.Round(100*time.Millisecond),
				s.Producer.Publish.P99, s.Producer.Publish.Max, s.EndToEnd.P99, s.EndToEnd.Max, s.S3Retries, s.FetchPauses, s.DrainS)
		})
	}
}
