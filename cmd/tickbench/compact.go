package main

import (
	"context"
	"fmt"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/stack"
)

func runCompact(ctx context.Context, args []string, env environment) error {
	cfg := bench.CompactConfig{Stack: stack.Default(), TargetBytes: bench.DefaultCompactTarget}
	fs := newFlagSet("compact", env.stderr)
	fs.StringVar(&cfg.Table, "table", "", "the table strategy's table, namespace.name (required; the run's summary names it)")
	fs.StringVar(&cfg.Partition, "partition", "", "the partition to compact, e.g. ts_hour=2026-12-07T15 (default: the one with the most files)")
	fs.Var(intValue{&cfg.TargetBytes}, "target-size", "cut the new files at about this many bytes, 1048576..5368709120 (Iceberg's default target, 128 MiB)")
	fs.StringVar(&cfg.Sort, "sort", "none", "none (the ticks keep their order: Iceberg's bin-pack) or symbol (each new file sorted by symbol, ts: one symbol's queries skip the other row groups)")
	stackName, brokers := stackFlags(fs, &cfg.Stack, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Table == "" {
		return usageError{fmt.Errorf("--table is required: namespace.name")}
	}
	if err := resolveStack(*stackName, *brokers, &cfg.Stack, false, env); err != nil {
		return err
	}
	cfg.Trino = localTrino(*stackName, cfg.Stack)
	res, err := bench.Compact(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(env.stdout)
	return nil
}
