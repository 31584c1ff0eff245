package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/bench/ceiling"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/report"
)

func runCeiling(ctx context.Context, args []string, env environment) error {
	c := bench.DefaultCeiling()
	fs := newFlagSet("ceiling", env.stderr)
	slo := fs.String("slo", ceiling.DefaultSLO, "what a sustainable rate must also hold: METRIC-QUANTILE<DURATION, comma-separated (METRIC e2e, upload, publish, queryable: a table strategy's commit; QUANTILE p50, p90, p95, p99, p99.9, max)")
	fs.Var(floatValue{&c.Start}, "start", "rate of the first step, 1..10000000 ticks/s: the search doubles from it until a step fails, then bisects")
	fs.Var(durationValue{&c.Step, "2s..10m"}, "step", "how long the generator runs at each rate, 2s..10m (lag is judged over its second half)")
	resolution := fs.String("resolution", c.Resolution.String(), "bisect until the highest passing and the lowest failing rate are this close: a share of the answer (5%) or ticks/s (1000)")
	fs.Var(durationValue{&c.MaxDuration, "step..24h"}, "max-duration", "bound on the whole search, every strategy's steps with their drains and verification; a search it cuts reports the best bound known")
	fs.BoolVar(&c.KeepObjects, "keep-objects", false, "keep each step's objects in S3 after verification (default: deleted)")
	fs.Var(intValue{&c.Run.GenWorkers}, "gen-workers", "generator goroutines, 0..1024 (0: from the rate)")
	pf := pipelineFlags(fs, &c.Run, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c.Run.Duration = c.Step // each step is a generator run: --net-fault windows fall in it
	if err := pf.apply(&c.Run, env); err != nil {
		return err
	}
	var err error
	if c.SLO, err = ceiling.ParseSLO(*slo); err != nil {
		return usageError{err}
	}
	if c.Resolution, err = ceiling.ParseResolution(*resolution); err != nil {
		return usageError{err}
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	res, err := bench.RunCeiling(ctx, c, env.stdout)
	if err != nil {
		return err
	}
	res.PrintCeiling(env.stdout)
	path, err := res.WriteFile(c.Run.Out)
	if err != nil {
		return err
	}
	html := strings.TrimSuffix(path, ".json") + ".html"
	if err := writeReport(html, []*result.Result{res}, report.HTML); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\nresults    %s (every step)\nreport     %s (saturation curve)\n", path, html)
	if !res.Verified {
		return fmt.Errorf("verification failed: a step's landed ticks are not what it produced (see %s)", path)
	}
	return nil
}
