package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// tableFlags pick the landed table a catalog or query command works on:
// by default a strategy of the latest result file, or one given by
// --strategy, --bucket, --prefix and --layout.
type tableFlags struct {
	result, results, strategy, bucket, prefix, layout, table, database string
	symbols                                                            int
}

// addTableFlags adds the flags; withBucket adds --bucket too (commands with
// stack flags have their own).
func addTableFlags(fs *flag.FlagSet, withBucket bool) *tableFlags {
	f := &tableFlags{}
	fs.StringVar(&f.result, "result", "", "result file of the run whose objects to use (default: the latest in --results)")
	fs.StringVar(&f.results, "results", "results", "results folder searched for the latest result file")
	fs.StringVar(&f.strategy, "strategy", "", "strategy of that run (default: its first); with --prefix, the strategy whose format the objects have")
	if withBucket {
		fs.StringVar(&f.bucket, "bucket", "", "S3 bucket (default: the result's, or tickbench)")
	}
	fs.StringVar(&f.prefix, "prefix", "", "S3 prefix of the objects, ending in / (instead of a result file)")
	fs.StringVar(&f.layout, "layout", "", "key layout of the objects with --prefix: none, dt-hour (default), dt-symbol")
	fs.StringVar(&f.table, "table", "", "table name (default ticks_<strategy>)")
	fs.StringVar(&f.database, "database", "tickbench", "Glue database")
	fs.IntVar(&f.symbols, "symbols", 0, "symbols of the model, enumerated by the dt-symbol projection (default: the result's, or 100)")
	return f
}

// latestResult is the newest result file in dir: names start with the
// run's UTC start time, so the last in order is the newest.
func latestResult(dir string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return "", usageError{fmt.Errorf("--result: no result files in %s (run `make bench` first, or give --prefix and --strategy)", dir)}
	}
	return paths[len(paths)-1], nil
}

// resolve returns the table and, when it came from a result file, that
// result and the strategy's entry in it.
func (f *tableFlags) resolve() (lake.Table, *result.Result, *result.StrategyResult, error) {
	t := lake.Table{Database: f.database, Bucket: f.bucket, Prefix: f.prefix, Layout: sink.Layout(f.layout)}
	symbols := f.symbols
	var res *result.Result
	var sr *result.StrategyResult
	if f.prefix != "" {
		if f.result != "" {
			return t, nil, nil, usageError{fmt.Errorf("--prefix %q and --result %q: give one", f.prefix, f.result)}
		}
		if f.strategy == "" {
			return t, nil, nil, usageError{fmt.Errorf("--prefix %q: needs --strategy (allowed %s)", f.prefix, strings.Join(bench.StrategyNames(), ", "))}
		}
		s, err := bench.NewStrategy(f.strategy, sink.Policy{}, sink.LayoutHourly)
		if err != nil {
			return t, nil, nil, usageError{err}
		}
		t.Format = s.Format
		if t.Layout == "" {
			t.Layout = sink.LayoutHourly
		}
		if t.Bucket == "" {
			t.Bucket = "tickbench"
		}
	} else {
		path := f.result
		if path == "" {
			var err error
			if path, err = latestResult(f.results); err != nil {
				return t, nil, nil, err
			}
		}
		var err error
		if res, err = result.ReadResult(path); err != nil {
			if os.IsNotExist(err) {
				return t, nil, nil, usageError{fmt.Errorf("--result %q: no such file", path)}
			}
			return t, nil, nil, fmt.Errorf("read result: %w", err)
		}
		var names []string
		for i := range res.Strategies {
			names = append(names, res.Strategies[i].Strategy)
			if f.strategy == "" || res.Strategies[i].Strategy == f.strategy {
				sr = &res.Strategies[i]
				break
			}
		}
		if sr == nil {
			return t, nil, nil, usageError{fmt.Errorf("--strategy %q: not in %s (it has %s)", f.strategy, path, strings.Join(names, ", "))}
		}
		if f.layout != "" {
			return t, nil, nil, usageError{fmt.Errorf("--layout %q: only with --prefix (the result says %s)", f.layout, sr.Layout)}
		}
		t.Format, t.Layout, t.Prefix = sr.Format, sink.Layout(sr.Layout), sr.Prefix
		if t.Bucket == "" {
			t.Bucket = sr.Bucket
		}
		if symbols == 0 && (res.Workload.Source == "model" || res.Workload.Source == "") {
			symbols = res.Workload.Symbols
		}
		f.strategy = sr.Strategy
	}
	if symbols == 0 {
		symbols = gen.DefaultModelConfig().Symbols
	}
	if symbols < 0 || symbols > gen.MaxSymbols {
		return t, nil, nil, usageError{fmt.Errorf("--symbols %d: allowed 1..%d", symbols, gen.MaxSymbols)}
	}
	if t.Layout == sink.LayoutSymbol && symbols <= 1000 {
		for i := range symbols {
			t.Symbols = append(t.Symbols, gen.Symbol(i))
		}
	}
	t.Name = f.table
	if t.Name == "" {
		t.Name = lake.TableName(f.strategy)
	}
	if err := t.Validate(); err != nil {
		return t, nil, nil, usageError{err}
	}
	return t, res, sr, nil
}

// localTrino is the local stack's Trino when the run uses the local stack
// and Trino is up reading its S3 server; nil otherwise (it is optional:
// make up LAKE=none).
func localTrino(stackName string, sc stack.Config) *stack.Trino {
	if stackName != "local" {
		return nil
	}
	tr, err := stack.LocalTrino(stack.LocalStateDir)
	if err != nil || tr.S3Endpoint != sc.S3Endpoint {
		return nil
	}
	return &tr
}
