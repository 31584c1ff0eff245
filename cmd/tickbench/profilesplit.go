package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tickbench/tickbench/bench/cpusplit"
	"github.com/tickbench/tickbench/bench/result"
)

// runProfileSplit prints the CPU split of a profile file: what bench
// --cpu-split prints, for a profile kept from an earlier run.
func runProfileSplit(_ context.Context, args []string, env environment) error {
	fs := newFlagSet("profile-split", env.stderr)
	path := fs.String("profile", "", "CPU profile file (bench --cpuprofile's, or any runtime/pprof CPU profile)")
	var ticks uint64
	fs.Uint64Var(&ticks, "ticks", 0, "ticks the profiled window took through the pipeline (the run's acked count), 1..1000000000000")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usageError{errors.New("--profile: give the CPU profile file")}
	}
	if ticks < 1 || ticks > 1e12 {
		return usageError{fmt.Errorf("--ticks %d: allowed 1..1000000000000 (the ticks of the profiled window)", ticks)}
	}
	b, err := os.ReadFile(*path)
	if err != nil {
		return err
	}
	p, err := cpusplit.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	split, err := cpusplit.Of(p, ticks)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	r := result.Result{Strategies: []result.StrategyResult{{Strategy: filepath.Base(*path), CPUSplit: split}}}
	r.PrintCPUSplit(env.stdout)
	return nil
}
