package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

func runSink(ctx context.Context, args []string, env environment) error {
	cfg := bench.SinkConfig{Stack: stack.Default(), Topic: "ticks", Strategy: "jsonl", Policy: sink.DefaultConfig().Policy, Layout: sink.LayoutHourly,
		CommitInterval: sink.DefaultCommitInterval}
	// A workload file sets the defaults that the flags then override.
	if path := flagValue(args, "workload"); path != "" {
		w, err := bench.LoadWorkload(path)
		if err != nil {
			return usageError{err}
		}
		if err := w.ApplySink(&cfg); err != nil {
			return usageError{fmt.Errorf("%s: %w", path, err)}
		}
	}
	fs := newFlagSet("sink", env.stderr)
	fs.String("workload", "", "JSON workload file (as bench's; sink takes topic, one strategy, layout, flush fields and drain_at); flags override its fields")
	fs.StringVar(&cfg.Topic, "topic", cfg.Topic, "Kafka topic to land")
	fs.StringVar(&cfg.Group, "group", "", "consumer group (required); sinks sharing it share the partitions")
	fs.StringVar(&cfg.Prefix, "prefix", "", "S3 key prefix (required), e.g. lake/ticks/")
	fs.StringVar(&cfg.Strategy, "strategy", cfg.Strategy, "how to land: one of the bench strategies")
	policyFlags(fs, &cfg.Policy, &cfg.Layout)
	commitFlags(fs, &cfg.CommitInterval, nil, &cfg.CommitFiles)
	fs.StringVar(&cfg.Table, "table", "", "table strategies: the table's name in namespace "+bench.TableNamespace+" (default: the group's); its folder is --prefix")
	fs.Var(durationValue{&cfg.SessionTimeout, "1s..1h"}, "session-timeout", "how long the group waits for a crashed member before reassigning its partitions (default 45s)")
	fs.Var(intValue{&cfg.MaxBuffered}, "max-buffered", "cap on the memory the sink's batches hold, open and uploading, buffers counted at capacity (default 1073741824, 1 GiB); past it the sink uploads before taking more and flushes the largest open batches early (at-least-once). Also sets Go's soft memory limit to 1.5 x this + 128 MiB (unless GOMEMLIMIT is set), so garbage is collected before the process grows past that")
	wireName := wireFlags(fs, &cfg.Wire)
	fs.BoolVar(&cfg.UntilCaughtUp, "until-caught-up", false, "exit once the group has landed everything the topic held at start")
	fs.Var(durationValue{&cfg.Timeout, ""}, "timeout", "with --until-caught-up or --drain-at: fail if the group lands nothing for this long before it has caught up (default 5m)")
	fs.Var(timeValue{&cfg.DrainAt}, "drain-at", "RFC 3339 instant: land what comes until then, then read the topic's end offsets and exit once the group has landed up to them (implies --until-caught-up); for a run of producer shards, their --start-at + duration + a grace")
	resultPath := resultFlag(fs, "sink")
	stackName, brokers := stackFlags(fs, &cfg.Stack, env)
	metricsAddr := metricsFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := applyWire(*wireName, &cfg.Wire); err != nil {
		return err
	}
	if cfg.Group == "" || cfg.Prefix == "" {
		return usageError{fmt.Errorf("--group and --prefix are required")}
	}
	if err := resolveStack(*stackName, *brokers, &cfg.Stack, true, env); err != nil {
		return err
	}
	live, stopMetrics, err := serveMetrics(*metricsAddr, env)
	if err != nil {
		return err
	}
	defer stopMetrics()
	cfg.Live = live
	if env.getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(sinkMemoryLimit(cfg.MaxBuffered)))
	}
	res, err := bench.RunSink(ctx, cfg)
	if res == nil {
		return err
	}
	stats := res.Stats
	fmt.Fprintf(env.stdout, "consumed %d  objects %d  bytes %d  existing %d  invalid %d  commit errors %d  bad records %d in %d errors/ objects  capped flushes %d  peak buffered %d\n",
		stats.Consumed, stats.Objects, stats.Bytes, stats.Existed, stats.Invalid, stats.CommitErrors, stats.Rejected, stats.ErrorObjects, stats.CappedFlushes, stats.PeakBuffered)
	if stats.Commits > 0 || stats.CommitFailures > 0 {
		fmt.Fprintf(env.stdout, "table commits %d  conflicts %d  failures %d  files %d  left out (held already) %d  metadata GET/PUT %d/%d\n",
			stats.Commits, stats.CommitConflicts, stats.CommitFailures, stats.CommittedFiles, stats.LeftBatches, stats.MetadataGets, stats.MetadataPuts)
	}
	if *resultPath != "" && res.File != nil {
		// Written on failure too: what this member landed is in S3.
		err = errors.Join(err, saveResult(ctx, env, *resultPath, res.File, cfg.Stack))
	}
	return err
}

// sinkMemoryLimit is the Go soft memory limit of a sink process whose
// batches hold at most maxBuffered bytes (0: the default): the heap would
// otherwise grow to twice what is live before a collection. The allowance
// is for fetched records, clients and the runtime.
func sinkMemoryLimit(maxBuffered int) int64 {
	if maxBuffered <= 0 {
		maxBuffered = sink.DefaultConfig().MaxBuffered
	}
	return int64(maxBuffered)*3/2 + 128<<20
}
