package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/compare"
	"github.com/tickbench/tickbench/report"
)

func runReport(ctx context.Context, args []string, env environment) error {
	fs := newFlagSet("report", env.stderr)
	out := fs.String("o", "", "HTML file to write (default: the first result's path with .html)")
	md := fs.String("markdown", "", "also write a Markdown summary (for a PR comment) to this file; - for stdout")
	base := fs.String("base", "", "compare with these base results (a folder of a set's .json and .bench.txt): verdicts per unit and base vs new curves")
	o := compare.DefaultOptions()
	units := fs.String("units", "", "with --base: the units compared, as tickbench compare --units")
	fs.Var(percentValue{&o.Threshold}, "threshold", "with --base: as tickbench compare --threshold")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{fmt.Errorf("report takes one or more result files or folders (RESULTS.json ... or DIR)")}
	}
	if *base == "" && (*units != "" || given(fs, "threshold")) {
		return usageError{fmt.Errorf("--units and --threshold: only with --base")}
	}
	results, err := readResults(pos)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = strings.TrimSuffix(pos[0], ".json") + ".html"
		if fi, err := os.Stat(pos[0]); err == nil && fi.IsDir() {
			*out = filepath.Join(pos[0], "report.html")
		}
	}
	html, markdown := report.HTML, report.Markdown
	if *base != "" {
		if o.Rules, err = compare.ParseRules(*units); err != nil {
			return usageError{err}
		}
		if err := o.Validate(); err != nil {
			return usageError{err}
		}
		c, err := comparison(*base, pos, results, o)
		if err != nil {
			return err
		}
		html = func(w io.Writer, _ []*result.Result) error { return report.CompareHTML(w, c) }
		markdown = func(w io.Writer, _ []*result.Result) error { return report.CompareMarkdown(w, c) }
	}
	if err := writeReport(*out, results, html); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "report     %s (%d runs, %d strategies)\n", *out, len(results), countStrategies(results))
	switch *md {
	case "":
	case "-":
		return markdown(env.stdout, results)
	default:
		if err := writeReport(*md, results, markdown); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "markdown   %s\n", *md)
	}
	return nil
}

// readResults reads result files, and every *.json of a folder.
func readResults(paths []string) ([]*result.Result, error) {
	var results []*result.Result
	for _, p := range paths {
		files := []string{p}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if files, err = filepath.Glob(filepath.Join(p, "*.json")); err != nil || len(files) == 0 {
				return nil, fmt.Errorf("report: %s has no result files (*.json)", p)
			}
		}
		for _, f := range files {
			r, err := result.ReadResult(f)
			if err != nil {
				return nil, fmt.Errorf("report: %w", err)
			}
			results = append(results, r)
		}
	}
	return results, nil
}

// comparison reads the base set and compares its benchmark lines with the
// new set's.
func comparison(base string, newPaths []string, results []*result.Result, o compare.Options) (report.Comparison, error) {
	baseResults, err := readResults([]string{base})
	if err != nil {
		return report.Comparison{}, err
	}
	bs, err := compare.Load(base)
	if err != nil {
		return report.Comparison{}, err
	}
	ns, err := compare.Load(newPaths...)
	if err != nil {
		return report.Comparison{}, err
	}
	return report.Comparison{Base: baseResults, New: results, Verdicts: compare.Compare(bs, ns, o)}, nil
}

func countStrategies(rs []*result.Result) int {
	n := 0
	for _, r := range rs {
		n += len(r.Strategies)
		if r.Ceiling != nil {
			n += len(r.Ceiling.Searches)
		}
	}
	return n
}

// writeReport renders results into path.
func writeReport(path string, results []*result.Result, render func(io.Writer, []*result.Result) error) error {
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
