package main

import (
	"context"
	"fmt"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/stack"
)

// runInject writes valid ticks mixed with records that are not ticks, so
// that a sink's errors/ handling can be tried on a real topic.
func runInject(ctx context.Context, args []string, env environment) error {
	cfg := bench.InjectConfig{Topic: "ticks", Partitions: 6, Count: 100_000, BadRatio: 0.01, Seed: 1,
		Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig()}
	fs := newFlagSet("inject", env.stderr)
	fs.Var(intValue{&cfg.Count}, "count", "records to write, valid and bad, 1..10000000")
	fs.Float64Var(&cfg.BadRatio, "bad-ratio", cfg.BadRatio, "share of records that are not ticks, 0..1 (every kind in turn: truncated-json, not-json, empty, missing-field, wrong-type, absurd-price, absurd-quote, long-symbol)")
	fs.StringVar(&cfg.Topic, "topic", cfg.Topic, "Kafka topic (created if missing)")
	partitions := 6
	fs.Var(intValue{&partitions}, "partitions", "partitions of the topic when it is created, 1..10000")
	fs.Uint64Var(&cfg.Seed, "bad-seed", cfg.Seed, "seed of which records are bad")
	stackName := fs.String("stack", "", "local: the broker of make up (instead of --brokers)")
	brokers := fs.String("brokers", env.getenv("TICKBENCH_BROKERS"), "Kafka bootstrap servers, comma-separated (env TICKBENCH_BROKERS)")
	modelFlags(fs, &cfg.Model)
	clientFlags(fs, &cfg.Client)
	var sec stack.Security
	securityFlags(fs, &sec, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if cfg.Brokers, err = realBrokers("inject", *stackName, *brokers, &sec); err != nil {
		return err
	}
	if cfg.KafkaOpts, err = sec.Options(); err != nil {
		return usageError{err}
	}
	if partitions < 1 || partitions > 10_000 {
		return usageError{fmt.Errorf("--partitions %d: allowed 1..10000", partitions)}
	}
	cfg.Partitions = int32(partitions)
	if err := cfg.Validate(); err != nil {
		return usageError{fmt.Errorf("inject: %w", err)}
	}
	res, err := bench.Inject(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(env.stdout)
	return nil
}
