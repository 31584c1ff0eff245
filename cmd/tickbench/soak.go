package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/report"
	"github.com/tickbench/tickbench/stack"
)

func runSoak(ctx context.Context, args []string, env environment) error {
	c := bench.DefaultSoak()
	fs := newFlagSet("soak", env.stderr)
	fs.Var(rateValue{&c.Run.Rate}, "rate", "target ticks per second, 1..10000000")
	fs.Var(durationValue{&c.Run.Duration, "1s..168h"}, "duration", "how long the generator runs")
	fs.Var(intValue{&c.Run.GenWorkers}, "gen-workers", "generator goroutines, 0..1024 (0: from the rate)")
	pf := pipelineFlags(fs, &c.Run, env)
	fs.Var(durationValue{&c.FaultEvery, "2 x fault-for..24h"}, "fault-every", "a fault this often, the first this long after the start")
	fs.Var(durationValue{&c.FaultFor, "1s..10m"}, "fault-for", "how long each fault lasts")
	faults := fs.String("faults", "", "faults injected in turn, comma-separated: "+strings.Join(bench.SoakFaults, ", ")+" (default: on the local stack broker-restart, which needs BROKERS=3, and with its fault proxies up (FAULTS=1) net-latency,net-reset,net-blackhole through them; s3-errors,s3-stall on the embedded one)")
	fs.Var(durationValue{&c.Window, "1s..duration/2"}, "window", "compare the medians of the first window after the warm-up and the last one")
	fs.Var(floatValue{&c.MaxGrowth}, "max-growth", "how much the last window's median may exceed the first's, as a share (0.1: 10%)")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := pf.apply(&c.Run, env); err != nil {
		return err
	}
	// Defaults meant for 30 minutes shrink to fit a shorter run.
	d := c.Run.Duration
	if !given(fs, "fault-every") {
		c.FaultEvery = min(c.FaultEvery, d/4)
	}
	if !given(fs, "fault-for") {
		c.FaultFor = max(min(c.FaultFor, (c.FaultEvery/3).Round(time.Second)), time.Second)
	}
	if !given(fs, "window") {
		c.Window = min(c.Window, d/2)
	}
	if *faults != "" {
		c.Faults = strings.Split(*faults, ",")
	}
	if err := soakProxies(&c, *pf.stackName); err != nil {
		return err
	}
	if *quiet {
		c.Run.Progress = nil
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	c.Heap = &bench.SoakHeap{}
	res, err := bench.RunSoak(ctx, c)
	if err != nil {
		return err
	}
	res.PrintSummary(env.stdout)
	paths, err := res.WriteFiles(c.Run.Out)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(paths[0], ".json")
	html := base + ".html"
	if err := writeReport(html, []*result.Result{res}, report.HTML); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\nresults    %s\nreport     %s (memory, goroutines, open files and lag over time)\n", paths[0], html)
	if err := writeSoakHeap(env, base, c.Heap); err != nil {
		return err
	}
	switch {
	case !res.Verified:
		return fmt.Errorf("verification failed: what landed is not what was produced (see %s)", paths[0])
	case !res.Soak.OK:
		return fmt.Errorf("soak not steady: %s (see %s)", res.Soak.Problem, paths[0])
	}
	return nil
}

// soakProxies runs a local soak through the stack's fault proxies when
// they are up and its faults are the default or include a net-* one.
func soakProxies(c *bench.SoakConfig, stackName string) error {
	wantNet := slices.ContainsFunc(c.Faults, func(f string) bool { return strings.HasPrefix(f, "net-") })
	if stackName != "local" || (len(c.Faults) > 0 && !wantNet) {
		return nil
	}
	nf, err := stack.ReadLocalNetFaults(stack.LocalStateDir)
	if err != nil {
		if wantNet {
			return err
		}
		return nil // the default faults without proxies
	}
	c.Run.Stack.Brokers, c.Run.Stack.S3Endpoint, c.Run.Proxies = nf.Brokers, nf.S3Endpoint, &nf
	return nil
}

// writeSoakHeap writes the heap profiles of the two windows beside the
// result, if the soak got as far as both.
func writeSoakHeap(env environment, base string, h *bench.SoakHeap) error {
	if h.Err != nil {
		return fmt.Errorf("soak heap profile: %w", h.Err)
	}
	if h.First.Len() == 0 || h.Last.Len() == 0 {
		return nil
	}
	first, last := base+".heap-first.pb.gz", base+".heap-last.pb.gz"
	for path, b := range map[string][]byte{first: h.First.Bytes(), last: h.Last.Bytes()} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("soak heap profile: %w", err)
		}
	}
	fmt.Fprintf(env.stdout, "heap       %s, %s (what grew: go tool pprof -top -diff_base %s %s)\n", first, last, first, last)
	return nil
}
