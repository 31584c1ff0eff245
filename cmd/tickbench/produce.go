package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/stack"
)

func runProduce(ctx context.Context, args []string, env environment) error {
	cfg := bench.ProduceConfig{Topic: "ticks", Partitions: 6, Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig()}
	fs := newFlagSet("produce", env.stderr)
	rate := fs.String("rate", "max", `ticks per second (with --duration), or "max": --count ticks as fast as back-pressure allows`)
	fs.Var(durationValue{&cfg.Duration, "1s..168h"}, "duration", "how long a paced run lasts, 1s..168h")
	count := fs.Uint64("count", 1_000_000, "ticks to send when --rate is max")
	fs.StringVar(&cfg.Topic, "topic", cfg.Topic, "Kafka topic (created if missing)")
	partitions := 6
	fs.Var(intValue{&partitions}, "partitions", "partitions of the topic when it is created, 1..10000")
	stackName := fs.String("stack", "", "local: the broker of make up (instead of --brokers)")
	brokers := fs.String("brokers", env.getenv("TICKBENCH_BROKERS"), "Kafka bootstrap servers, comma-separated (env TICKBENCH_BROKERS)")
	modelFlags(fs, &cfg.Model)
	clientFlags(fs, &cfg.Client)
	var sec stack.Security
	securityFlags(fs, &sec, env)
	metricsAddr := metricsFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if cfg.Brokers, err = realBrokers("produce", *stackName, *brokers, &sec); err != nil {
		return err
	}
	if cfg.KafkaOpts, err = sec.Options(); err != nil {
		return usageError{err}
	}
	if partitions < 1 || partitions > 10_000 {
		return usageError{fmt.Errorf("--partitions %d: allowed 1..10000", partitions)}
	}
	cfg.Partitions = int32(partitions)
	cfg.Count = *count
	if *rate != "max" {
		r, err := strconv.ParseFloat(*rate, 64)
		if err != nil || r <= 0 {
			return usageError{fmt.Errorf(`--rate %q: allowed a number 1..%d, or "max"`, *rate, gen.MaxRate)}
		}
		cfg.Rate = r
		if err := (gen.Constant{PerSecond: r, Duration: cfg.Duration}).Validate(); err != nil {
			return usageError{err}
		}
	}
	live, stopMetrics, err := serveMetrics(*metricsAddr, env)
	if err != nil {
		return err
	}
	defer stopMetrics()
	cfg.Live = live
	res, err := bench.Produce(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(env.stdout)
	return nil
}

// realBrokers resolves --stack local or --brokers for a command that
// needs a real broker (an embedded one would vanish with the process).
func realBrokers(cmd, stackName, brokers string, sec *stack.Security) ([]string, error) {
	switch stackName {
	case "local":
		local, err := stack.Local(stack.LocalStateDir)
		if err != nil {
			return nil, err
		}
		if err := localSCRAM(&local.Brokers, sec); err != nil {
			return nil, err
		}
		return local.Brokers, nil
	case "":
	default:
		return nil, usageError{fmt.Errorf("--stack %q: allowed local (or give --brokers)", stackName)}
	}
	if list := splitList(brokers); len(list) > 0 {
		return list, nil
	}
	return nil, usageError{fmt.Errorf("--brokers: none given (%s needs a real broker; or --stack local)", cmd)}
}

// runTicks prints the model's ticks as JSON lines, e.g. a payload file for
// Kafka's own producer perf tool.
func runTicks(_ context.Context, args []string, env environment) error {
	cfg := gen.DefaultModelConfig()
	fs := newFlagSet("ticks", env.stderr)
	count := fs.Uint64("count", 10, "how many ticks to print")
	modelFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lines, err := gen.Lines(cfg, *count, time.Now().UnixNano())
	if err != nil {
		return usageError{err}
	}
	_, err = env.stdout.Write(lines)
	return err
}
