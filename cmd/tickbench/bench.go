package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/report"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/stack/s3lite"
	"github.com/tickbench/tickbench/tick/wire"
)

// pipeline are the flags of a run's pipeline that bench and ceiling
// share: the ticks, the topic, the strategies and their sink, the stack.
// apply finishes them after parsing.
type pipeline struct {
	partitions                int
	strategies, faults, wires string
	stackName, brokers        *string
	netFaults                 []string
}

func pipelineFlags(fs *flag.FlagSet, cfg *bench.Config, env environment) *pipeline {
	pf := &pipeline{partitions: int(cfg.Partitions), strategies: strings.Join(cfg.Strategies, ",")}
	modelFlags(fs, &cfg.Model)
	fs.StringVar(&cfg.Source, "source", cfg.Source, "where ticks come from: model (synthetic) or csv:FILE (rows replayed at the rate; header Index,Date,Open,High,Low,Close,Adj Close,Volume)")
	fs.StringVar(&cfg.Replay, "replay", cfg.Replay, "with csv: order (cycling) or sample (with replacement, seeded by --seed)")
	clientFlags(fs, &cfg.Client)
	fs.Var(intValue{&pf.partitions}, "partitions", "partitions of the topic when the run creates it, 1..10000")
	fs.StringVar(&cfg.Topic, "topic", cfg.Topic, "Kafka topic")
	fs.StringVar(&pf.strategies, "strategies", pf.strategies, "strategies over the same seeded ticks, comma-separated, or all: "+strings.Join(bench.StrategyNames(), ", "))
	fs.StringVar(&cfg.Prefix, "prefix", "", "S3 key prefix before runs/<run id>/<strategy>/")
	policyFlags(fs, &cfg.Policy, &cfg.Layout)
	commitFlags(fs, &cfg.CommitInterval, &cfg.CommitIntervals, &cfg.CommitFiles)
	pf.wires = joinWires(cfg.Wires)
	fs.StringVar(&pf.wires, "wire", pf.wires, "format of the ticks on Kafka: json (the seed's), avro or protobuf (Confluent wire format, schema in the Schema Registry); a comma-separated list runs each strategy once per format, side by side")
	fs.StringVar(&cfg.Registry, "registry", cfg.Registry, "Schema Registry URL for avro and protobuf (default: the stack's in-process one)")
	fs.Var(intValue{&cfg.MaxBuffered}, "max-buffered", "cap on the bytes a sink member's open batches hold; past it the largest is flushed early (at-least-once)")
	fs.Var(intValue{&cfg.Sinks}, "sinks", "sink members sharing the consumer group, 1..64")
	fs.Var(intValue{&cfg.Uploaders}, "uploaders", "PUTs each sink member keeps in flight, 1..256, for every strategy (0: each strategy's own: json-per-tick 64, the others 8)")
	fs.Var(durationValue{&cfg.DrainTimeout, "1s..24h"}, "drain-timeout", "after the generator stops, how long a sink may go without committing anything before the run fails (a slow sink that keeps landing is waited for), 1s..24h")
	fs.StringVar(&cfg.Name, "name", cfg.Name, "name in the result file: <out>/<UTC time>-<name>.json")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "results folder")
	pf.stackName, pf.brokers = stackFlags(fs, &cfg.Stack, env)
	fs.StringVar(&pf.faults, "s3-faults", "", "faults the embedded S3 server injects, e.g. 503=0.05,500=0.01,reset=0.01,reset-after=0.01,latency=50ms,jitter=5ms,stall-every=10s,stall-for=1s,puts-per-second=3500,seed=1")
	fs.StringVar(&cfg.Stack.DataDir, "data-dir", cfg.Stack.DataDir, "where the embedded S3 server keeps objects")
	fs.Func("net-fault", "a network fault in each generator run, through the local stack's proxies (make up FAULTS=1), repeatable: KIND[:ARGS][/TARGET][@FROM-TO], KIND one of "+
		strings.Join(bench.NetFaultKinds, "; ")+"; TARGET all, kafka, kafka-N or s3; e.g. latency:200ms:50ms/kafka@5s-25s", func(v string) error {
		pf.netFaults = append(pf.netFaults, v)
		return nil
	})
	return pf
}

// apply sets what the flags gave in cfg, with the progress line on and
// the first Ctrl-C wired to stop the generator.
func (pf *pipeline) apply(cfg *bench.Config, env environment) error {
	cfg.Partitions = int32(min(pf.partitions, 1<<30))
	cfg.Stack.Partitions = cfg.Partitions
	cfg.Strategies = splitList(pf.strategies)
	var err error
	if cfg.Wires, err = parseWires(pf.wires); err != nil {
		return usageError{err}
	}
	if err := resolveStack(*pf.stackName, *pf.brokers, &cfg.Stack, false, env); err != nil {
		return err
	}
	f, err := s3lite.ParseFaults(pf.faults)
	if err != nil {
		return usageError{err}
	}
	cfg.Stack.Faults = f
	if err := pf.applyNetFaults(cfg); err != nil {
		return err
	}
	cfg.Progress, cfg.ProgressLive = env.stderr, env.stderrIsTerminal
	cfg.Stop = env.stop
	return nil
}

// applyNetFaults puts the run of --net-fault through the local stack's
// proxies and parses the faults.
func (pf *pipeline) applyNetFaults(cfg *bench.Config) error {
	if len(pf.netFaults) == 0 {
		return nil
	}
	if *pf.stackName != "local" {
		return usageError{fmt.Errorf("--net-fault %s: needs --stack local (started with make up FAULTS=1)", pf.netFaults[0])}
	}
	nf, err := stack.ReadLocalNetFaults(stack.LocalStateDir)
	if err != nil {
		return err
	}
	if cfg.Stack.Security.TLS || cfg.Stack.Security.SASLMechanism != "" {
		return usageError{fmt.Errorf("--net-fault %s: the proxies front the plaintext listeners; drop --tls and --sasl-*", pf.netFaults[0])}
	}
	cfg.Stack.Brokers, cfg.Stack.S3Endpoint, cfg.Proxies = nf.Brokers, nf.S3Endpoint, &nf
	for _, spec := range pf.netFaults {
		f, err := bench.ParseNetFault(spec, nf, cfg.Length())
		if err != nil {
			return usageError{err}
		}
		cfg.NetFaults = append(cfg.NetFaults, f)
	}
	return nil
}

func runBench(ctx context.Context, args []string, env environment) error {
	cfg := bench.Default()
	// A workload file sets the defaults that the flags then override, so
	// it is read before the flags are defined.
	if path := flagValue(args, "workload"); path != "" {
		w, err := bench.LoadWorkload(path)
		if err != nil {
			return usageError{err}
		}
		if err := w.Apply(&cfg); err != nil {
			return usageError{fmt.Errorf("%s: %w", path, err)}
		}
	}
	fs := newFlagSet("bench", env.stderr)
	fs.String("workload", "", "JSON workload file (see bench/testdata/matrix.json); flags override its fields")
	fs.Var(rateValue{&cfg.Rate}, "rate", `target ticks per second, 1..10000000, or "max" (with --ticks: a fixed count as fast as the pipeline goes)`)
	fs.Var(durationValue{&cfg.Duration, "1s..168h"}, "duration", "how long the generator runs, 1s..168h")
	var ticks uint64
	fs.Uint64Var(&ticks, "ticks", 0, "send exactly this many ticks, 1..1000000000, instead of --duration (0: use --duration)")
	rateFlags(fs, &cfg.Profile, &cfg.GenWorkers)
	pf := pipelineFlags(fs, &cfg, env)
	fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "sequential (each strategy its own generator run, with its own CPU and memory figures) or parallel (one generator, a consumer group per strategy)")
	fs.Var(durationValue{&cfg.JoinAt, "0..duration"}, "join-at", "one more sink member joins the group this long after the start (0: none)")
	fs.Var(durationValue{&cfg.LeaveAt, "0, or after join-at"}, "leave-at", "the member of --join-at leaves the group this long after the start (0: stays)")
	fs.BoolVar(&cfg.Backlog, "backlog", false, "start the sinks only after the generator has produced every tick: CPU s/Mtick and peak RSS are then the sink's (and the embedded servers' serving it), without the generator's")
	fs.IntVar(&cfg.LakeLocalMax, "lake-local-max", cfg.LakeLocalMax, "run the local SQL check (and Trino's, with --lake-trino) of a strategy only if it landed at most this many objects (0: never)")
	lakeTrino := fs.Bool("lake-trino", true, "with --stack local and its Trino up, run the standard queries on Trino too and keep the bytes it read (up to --lake-local-max objects)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the first measured window (generation through drain, what CPU s/M counts; not the verification after it) to this file; the summary then splits it by stage, as --cpu-split")
	cpuSplit := fs.Bool("cpu-split", false, "profile each strategy's measured window in memory and print its CPU s per M ticks by pipeline stage (generator, Kafka clients, broker, decode, batching, file encode, compression, upload, GC): a cpu_split in each result row; sequential mode")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the generator's run to this file")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	metricsAddr := metricsFlag(fs)
	count := 1
	fs.Var(intValue{&count}, "count", "repeat the workload this many times, 1..1000: a result each (named NAME-runI), and one .bench.txt with every run's lines (benchstat and compare see N samples)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkRateFlags(fs, &cfg.Profile, cfg.GenWorkers); err != nil {
		return err
	}
	if given(fs, "ticks") && given(fs, "duration") {
		return usageError{fmt.Errorf("--ticks %d and --duration %v: give one of them", ticks, cfg.Duration)}
	}
	if ticks > 0 {
		cfg.SetTicks(ticks)
	} else if cfg.Rate == gen.MaxRate && !given(fs, "duration") {
		return usageError{fmt.Errorf("--rate max: needs --ticks N (or --duration, which at %d ticks/s is %d ticks a second)", gen.MaxRate, gen.MaxRate)}
	}
	if err := pf.apply(&cfg, env); err != nil {
		return err
	}
	if *lakeTrino {
		cfg.LakeTrino = localTrino(*pf.stackName, cfg.Stack)
	}
	if *quiet {
		cfg.Progress = nil
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if (*cpuSplit || *cpuProfile != "") && cfg.Mode == result.ModeParallel {
		return usageError{fmt.Errorf("--cpu-split or --cpuprofile with --mode %s: needs --mode %s (in parallel the strategies share the process's CPU)", cfg.Mode, result.ModeSequential)}
	}
	if count < 1 || count > 1000 {
		return usageError{fmt.Errorf("count %d: allowed 1..1000", count)}
	}

	live, stopMetrics, err := serveMetrics(*metricsAddr, env)
	if err != nil {
		return err
	}
	defer stopMetrics()
	cfg.Live = live
	stopProfiles, err := startProfiles(*cpuProfile, *memProfile, *cpuSplit, &cfg)
	if err != nil {
		return err
	}
	var set []string // every run's .bench.txt, gathered into the first
	var failed []string
	for i := range count {
		if count > 1 && cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "== run %d of %d\n", i+1, count)
		}
		one := cfg
		if count > 1 {
			// Runs shorter than a second would share a file name.
			one.Name = fmt.Sprintf("%s-run%d", cfg.Name, i+1)
		}
		paths, verified, err := benchOnce(ctx, one, env)
		if err != nil {
			stopProfiles()
			return err
		}
		set = append(set, paths[1])
		if !verified {
			failed = append(failed, paths[0])
		}
		if stopped(cfg.Stop) {
			break
		}
	}
	if err := stopProfiles(); err != nil {
		return err
	}
	if len(set) > 1 {
		if err := result.GatherBenchmarkLines(set[0], set[1:]...); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "\nset        %s holds the benchmark lines of all %d runs\n", set[0], len(set))
	}
	if len(failed) > 0 {
		return fmt.Errorf("verification failed: what landed is not what was produced (see %s)", strings.Join(failed, ", "))
	}
	return nil
}

// benchOnce runs the workload once, prints the summary and writes the
// result files; it returns their paths (JSON, then .bench.txt) and whether
// everything verified.
func benchOnce(ctx context.Context, cfg bench.Config, env environment) ([]string, bool, error) {
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return nil, false, err
	}
	res.PrintSummary(env.stdout)
	paths, err := res.WriteFiles(cfg.Out)
	if err != nil {
		return nil, false, err
	}
	html := strings.TrimSuffix(paths[0], ".json") + ".html"
	if err := writeReport(html, []*result.Result{res}, report.HTML); err != nil {
		return nil, false, err
	}
	fmt.Fprintf(env.stdout, "\nresults    %s (and .bench.txt for benchstat, .hgrm and .hlog per histogram)\nreport     %s\n", paths[0], html)
	return paths, res.Verified, nil
}

// given reports whether the flag was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// rateValue reads ticks per second, or "max": gen.MaxRate, a rate no
// pipeline keeps up with.
type rateValue struct{ f *float64 }

func (v rateValue) String() string { return floatValue(v).String() }

func (v rateValue) Set(s string) error {
	if s == "max" {
		*v.f = gen.MaxRate
		return nil
	}
	if err := floatValue(v).Set(s); err != nil {
		return errors.New(`not a number or "max"`)
	}
	return nil
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// parseWires reads a comma-separated list of wire formats; "json" alone is
// the default, an empty list.
func parseWires(s string) ([]wire.Format, error) {
	var out []wire.Format
	for _, name := range splitList(s) {
		f, err := wire.Parse(name)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 1 && out[0] == wire.JSON {
		return nil, nil
	}
	return out, nil
}

func joinWires(fs []wire.Format) string {
	if len(fs) == 0 {
		return "json"
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	return strings.Join(names, ",")
}
