package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tickbench/tickbench/compare"
)

func runCompare(ctx context.Context, args []string, env environment) error {
	o := compare.DefaultOptions()
	fs := newFlagSet("compare", env.stderr)
	fs.Var(percentValue{&o.Threshold}, "threshold", "relative change of the median, in the worse direction, past which a significant difference fails: 10% or 0.1, 0%..1000%")
	fs.Var(floatValue{&o.Alpha}, "alpha", "significance level of the Mann-Whitney U test, 0..1")
	units := fs.String("units", "", "compare only these units, comma-separated, each [BENCH:]UNIT[=THRESHOLD]: only on benchmarks whose name contains BENCH, with its own threshold (default: every unit at --threshold)")
	md := fs.String("markdown", "", "also write the comparison as a Markdown table to this file")
	perFile := fs.String("per-file", "all", "what a file contributes to a benchmark's samples: all (each line is a sample) or median (one sample per file: the runs of one process, bench --count, are not independent)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{fmt.Errorf("compare takes BASE and NEW (files or folders of .bench.txt/.json), got %d arguments", len(pos))}
	}
	if o.Rules, err = compare.ParseRules(*units); err != nil {
		return usageError{err}
	}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	load := compare.Load
	switch *perFile {
	case "all":
	case "median":
		load = compare.LoadMedians
	default:
		return usageError{fmt.Errorf("--per-file %q: allowed all, median", *perFile)}
	}
	base, err := load(pos[0])
	if err != nil {
		return err
	}
	cur, err := load(pos[1])
	if err != nil {
		return err
	}
	rep := compare.Compare(base, cur, o)
	rep.Print(env.stdout)
	if *md != "" {
		var b strings.Builder
		rep.Markdown(&b)
		if err := os.WriteFile(*md, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write the comparison: %w", err)
		}
	}
	return rep.Err()
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns those.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// The flag package prints usage on every error; only -h should.
		usage := fs.Usage
		fs.Usage = func() {}
		err := fs.Parse(args)
		fs.Usage = usage
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return nil, err
		}
		if err != nil {
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			if flagsParsed != nil {
				return pos, flagsParsed(fs)
			}
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// percentValue reads 10% or 0.1 as the fraction 0.1.
type percentValue struct{ p *float64 }

func (v percentValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatFloat(*v.p*100, 'g', -1, 64) + "%"
}

func (v percentValue) Set(s string) error {
	f, err := compare.ParseFraction(s)
	if err != nil {
		return errors.New("not a number: use 10% or 0.1")
	}
	*v.p = f
	return nil
}
