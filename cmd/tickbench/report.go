package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/report"
)

func runReport(ctx context.Context, args []string, env environment) error {
	fs := newFlagSet("report", env.stderr)
	out := fs.String("o", "", "HTML file to write (default: the first result's path with .html)")
	md := fs.String("markdown", "", "also write a Markdown summary (for a PR comment) to this file; - for stdout")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{fmt.Errorf("report takes one or more result files (RESULTS.json ...)")}
	}
	var results []*bench.Result
	for _, p := range pos {
		r, err := bench.ReadResult(p)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		results = append(results, r)
	}
	if *out == "" {
		*out = strings.TrimSuffix(pos[0], ".json") + ".html"
	}
	if err := writeReport(*out, results, report.HTML); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "report     %s (%d runs, %d strategies)\n", *out, len(results), countStrategies(results))
	switch *md {
	case "":
	case "-":
		return report.Markdown(env.stdout, results)
	default:
		if err := writeReport(*md, results, report.Markdown); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "markdown   %s\n", *md)
	}
	return nil
}

func countStrategies(rs []*bench.Result) int {
	n := 0
	for _, r := range rs {
		n += len(r.Strategies)
	}
	return n
}

// writeReport renders results into path.
func writeReport(path string, results []*bench.Result, render func(io.Writer, []*bench.Result) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := render(f, results); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
