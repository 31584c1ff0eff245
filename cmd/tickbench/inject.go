package main

import (
	"context"
	"fmt"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/gen"
)

// runInject writes valid ticks mixed with records that are not ticks, so
// that a sink's errors/ handling can be tried on a real topic.
func runInject(ctx context.Context, args []string, env environment) error {
	cfg := bench.InjectConfig{Topic: "ticks", Partitions: 6, Count: 100_000, BadRatio: 0.01, Seed: 1,
		Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig()}
	fs := newFlagSet("inject", env.stderr)
	fs.Var(intValue{&cfg.Count}, "count", "records to write, valid and bad, 1..10000000")
	fs.Float64Var(&cfg.BadRatio, "bad-ratio", cfg.BadRatio, "share of records that are not ticks, 0..1 (every kind in turn: truncated-json, not-json, empty, missing-field, wrong-type, absurd-price, absurd-quote, long-symbol)")
	fs.Uint64Var(&cfg.Seed, "bad-seed", cfg.Seed, "seed of which records are bad")
	kf := topicFlags(fs, env, &cfg.Topic, &cfg.Model, &cfg.Client)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if cfg.Brokers, cfg.KafkaOpts, cfg.Partitions, err = kf.resolve("inject"); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{fmt.Errorf("inject: %w", err)}
	}
	if err := kf.ping(ctx, cfg.Brokers, cfg.KafkaOpts); err != nil {
		return err
	}
	res, err := bench.Inject(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(env.stdout)
	return nil
}
