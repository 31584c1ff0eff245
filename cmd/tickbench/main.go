// Command tickbench benchmarks and load-tests a streaming data lake for
// market ticks: synthetic ticks -> Kafka -> batching sink -> S3.
//
// Usage:
//
//	tickbench bench [flags]   run generator and sink together and verify
//	tickbench ceiling [flags] find the highest rate each strategy sustains
//	tickbench version         print the release, commit and Go version
//	tickbench help            list commands
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// The first Ctrl-C stops the generator and lets the run drain, verify
	// and report; the second aborts.
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\ntickbench: stopping the generator, draining (Ctrl-C again to abort)")
		close(stop)
		<-sigs
		cancel(errors.New("aborted by second interrupt"))
	}()
	env := environment{stdout: os.Stdout, stderr: os.Stderr, stop: stop, getenv: os.Getenv, stderrIsTerminal: isTerminal(os.Stderr)}
	if err := run(ctx, os.Args[1:], env); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tickbench:", err)
		}
		var u usageError
		if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// environment is everything run takes from the process, so tests can run
// the whole CLI in-process.
type environment struct {
	stdout, stderr   io.Writer
	stop             <-chan struct{}
	getenv           func(string) string
	stderrIsTerminal bool
}

// usageError marks bad flags and arguments (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

var commands = []struct {
	name, summary string
	run           func(ctx context.Context, args []string, env environment) error
}{
	{"bench", "produce ticks, land them in S3, verify, report latency and counts", runBench},
	{"ceiling", "find the highest rate each strategy sustains (producer holds it, lag flat, SLO met): stepped search, saturation curve", runCeiling},
	{"soak", "one strategy for a long time with a fault every few minutes: fails if memory, goroutines, open files or lag grow, or a tick is lost", runSoak},
	{"produce", "producer only: send ticks to a broker and report records/s and latency", runProduce},
	{"inject", "write valid ticks mixed with bad records (--bad-ratio) to a topic, to try the sink's errors/", runInject},
	{"sink", "sink only: land a topic in S3 as one member of a consumer group", runSink},
	{"merge", "combine the result files of one run's producer shards and sinks into one result", runMerge},
	{"verify", "check that ticks 0..N-1 landed under a prefix exactly once (a distributed run's check)", runVerify},
	{"ticks", "print the tick model's ticks as JSON lines", runTicks},
	{"compact", "rewrite a table strategy's small files of one partition into large ones, in one snapshot", runCompact},
	{"catalog", "print the Athena DDL of a landed strategy, or create it in Glue", runCatalog},
	{"query", "run SQL over a landed strategy: locally (DuckDB) or on Athena", runQuery},
	{"profile-split", "split a CPU profile (bench --cpuprofile's) by pipeline stage: CPU s per M ticks and share", runProfileSplit},
	{"report", "render result files as one self-contained HTML page (and a Markdown summary)", runReport},
	{"compare", "compare two sets of runs per metric (Mann-Whitney U); non-zero exit on a regression", runCompare},
	{"version", "print the release, the module version, the commit built from and the Go version", runVersion},
}

func run(ctx context.Context, args []string, env environment) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.stdout)
		if len(args) == 0 {
			return usageError{errors.New("no command given")}
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], env)
		}
	}
	usage(env.stderr)
	return usageError{fmt.Errorf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tickbench <command> [flags]   (tickbench <command> -h for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
