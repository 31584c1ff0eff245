package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/stack"
)

func runProduce(ctx context.Context, args []string, env environment) error {
	cfg := bench.ProduceConfig{Topic: "ticks", Partitions: 6, Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig()}
	// A workload file sets the defaults that the flags then override.
	if path := flagValue(args, "workload"); path != "" {
		w, err := bench.LoadWorkload(path)
		if err != nil {
			return usageError{err}
		}
		if err := w.ApplyProduce(&cfg); err != nil {
			return usageError{fmt.Errorf("%s: %w", path, err)}
		}
	}
	rateDefault := "max"
	if cfg.Rate > 0 {
		rateDefault = strconv.FormatFloat(cfg.Rate, 'g', -1, 64)
	}
	fs := newFlagSet("produce", env.stderr)
	fs.String("workload", "", "JSON workload file (as bench's; produce takes its generator fields, shard and start_at); flags override its fields")
	rate := fs.String("rate", rateDefault, `ticks per second (with --duration), or "max": --count ticks as fast as back-pressure allows`)
	fs.Var(durationValue{&cfg.Duration, "1s..168h"}, "duration", "how long a paced run lasts, 1s..168h")
	count := fs.Uint64("count", 1_000_000, "ticks to send when --rate is max")
	rateFlags(fs, &cfg.Profile, &cfg.Workers)
	kf := topicFlags(fs, env, &cfg.Topic, &cfg.Model, &cfg.Client)
	fs.Var(shardValue{&cfg.Shard}, "shard", fmt.Sprintf("I/N: this process sends the ticks n with n mod N == I of the run the other flags describe, 0 <= I < N <= %d; 0/1 is the whole run", gen.MaxShards))
	wireName := wireFlags(fs, &cfg.Wire)
	fs.Var(timeValue{&cfg.StartAt}, "start-at", "RFC 3339 instant the run's schedule starts, shared by its shards, e.g. 2026-12-02T03:00:00Z; must be in the future (default: now)")
	resultPath := resultFlag(fs, "producer")
	store := s3Flags(fs, env, false, false)
	metricsAddr := metricsFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := applyWire(*wireName, &cfg.Wire); err != nil {
		return err
	}
	if err := checkRateFlags(fs, &cfg.Profile, cfg.Workers); err != nil {
		return err
	}
	var err error
	if cfg.Brokers, cfg.KafkaOpts, cfg.Partitions, err = kf.resolve("produce"); err != nil {
		return err
	}
	cfg.Count = *count
	if *rate != "max" && cfg.Profile == nil {
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
	if _, err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if err := kf.ping(ctx, cfg.Brokers, cfg.KafkaOpts); err != nil {
		return err
	}
	sc, err := store.config(false)
	if err != nil {
		return err
	}
	if *kf.stackName == "local" {
		if sc, err = stack.Local(stack.LocalStateDir); err != nil {
			return err
		}
	}
	res, err := bench.Produce(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(env.stdout)
	if *resultPath != "" {
		return saveResult(ctx, env, *resultPath, res.File, sc)
	}
	return nil
}

// kafkaFlags are the flags of a command that writes to a topic of a real
// broker: where (--stack local or --brokers, TLS/SASL) and which topic.
type kafkaFlags struct {
	partitions         int
	stackName, brokers *string
	sec                stack.Security
}

// topicFlags registers the topic, broker, security, model and client flags.
func topicFlags(fs *flag.FlagSet, env environment, topic *string, model *gen.ModelConfig, client *gen.ClientConfig) *kafkaFlags {
	k := &kafkaFlags{partitions: 6}
	fs.StringVar(topic, "topic", *topic, "Kafka topic (created if missing)")
	fs.Var(intValue{&k.partitions}, "partitions", "partitions of the topic when it is created, 1..10000")
	k.stackName = fs.String("stack", "", "local: the broker of make up (instead of --brokers)")
	k.brokers = fs.String("brokers", env.getenv("TICKBENCH_BROKERS"), "Kafka bootstrap servers, comma-separated (env TICKBENCH_BROKERS)")
	modelFlags(fs, model)
	clientFlags(fs, client)
	securityFlags(fs, &k.sec, env)
	return k
}

// resolve checks the parsed flags and gives the brokers, the client's
// security options and the partition count.
func (k *kafkaFlags) resolve(cmd string) ([]string, []kgo.Opt, int32, error) {
	brokers, err := realBrokers(cmd, *k.stackName, *k.brokers, &k.sec)
	if err != nil {
		return nil, nil, 0, err
	}
	opts, err := k.sec.Options()
	if err != nil {
		return nil, nil, 0, usageError{err}
	}
	if k.partitions < 1 || k.partitions > 10_000 {
		return nil, nil, 0, usageError{fmt.Errorf("--partitions %d: allowed 1..10000", k.partitions)}
	}
	return brokers, opts, int32(k.partitions), nil
}

// ping reaches the brokers with the client's options: a wrong
// certificate or password fails here in one line, before a topic is made
// or a tick sent, not after the client's retries. Call it once the other
// flags are checked.
func (k *kafkaFlags) ping(ctx context.Context, brokers []string, opts []kgo.Opt) error {
	return stack.Ping(ctx, brokers, stack.Default().ConnectTimeout, opts, k.sec)
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
		if _, err := localListener(&local.Brokers, sec); err != nil {
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
