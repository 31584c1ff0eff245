package report

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/compare"
)

// Comparison is a base set of runs against a new one (the regression
// gate's A and B) and compare's verdict on them.
type Comparison struct {
	Base, New []*result.Result
	Verdicts  compare.Report
}

type compareTable struct {
	Base, New, Verdict string
	Columns            []string
	Rows               []compareRow
}

type compareRow struct {
	Cells     []string
	Regressed bool
}

// side says which builds and how many runs a set holds.
func side(rs []*result.Result) string {
	var revs []string
	for _, r := range rs {
		rev := r.Machine.Tickbench
		if rev == "" {
			rev = "unknown revision"
		}
		if !slices.Contains(revs, rev) {
			revs = append(revs, rev)
		}
	}
	return fmt.Sprintf("%d runs of tickbench %s", len(rs), strings.Join(revs, ", "))
}

// CompareHTML writes the page of a comparison: the verdict table, then for
// each workload (strategy and rate) the latency percentile curves of base
// (dashed) and new (solid) on one chart, each merged over its runs.
func CompareHTML(w io.Writer, c Comparison) error {
	if len(c.Base) == 0 || len(c.New) == 0 {
		return errors.New("report: a comparison needs base and new results")
	}
	tbl := &compareTable{Base: side(c.Base), New: side(c.New), Verdict: c.Verdicts.Verdict(), Columns: compare.Header}
	for _, m := range c.Verdicts.Metrics {
		tbl.Rows = append(tbl.Rows, compareRow{m.Row(), m.Verdict == compare.Regressed})
	}
	p := page{Title: "tickbench: new vs base", Compare: tbl}
	for _, rate := range rates(c.Base, c.New) {
		for _, lat := range []struct {
			id, title string
			get       func(result.StrategyResult) result.Latency
		}{
			{"latency-e2e", "End-to-end latency", func(s result.StrategyResult) result.Latency { return s.EndToEnd }},
			{"latency-upload", "Upload latency per object", func(s result.StrategyResult) result.Latency { return s.Upload }},
		} {
			var lines []line
			for i, strategy := range strategies(rate, c.Base, c.New) {
				for _, set := range []struct {
					name string
					rs   []*result.Result
				}{{"base", c.Base}, {"new", c.New}} {
					h, err := merged(set.rs, rate, strategy, lat.get)
					if err != nil {
						return err
					}
					if h == nil {
						continue
					}
					ln := histogramCurve(set.name+" "+strategy, h)
					ln.dashed, ln.color = set.name == "base", color(i)
					lines = append(lines, ln)
				}
			}
			title := fmt.Sprintf("%s at %s ticks/s: base (dashed) vs new, all runs merged", lat.title, fmtNum(rate))
			p.Charts = append(p.Charts, template.HTML(lineChart(fmt.Sprintf("%s-%.0f", lat.id, rate), title,
				"percentile (log scale of 1/(1-p))", "ms", lines, percentileTicks, fmtNum)))
		}
	}
	return pageTemplate.Execute(w, p)
}

// CompareMarkdown writes the comparison for a job summary or pull-request
// comment: the two sides, the verdict table and the verdict.
func CompareMarkdown(w io.Writer, c Comparison) error {
	if len(c.Base) == 0 || len(c.New) == 0 {
		return errors.New("report: a comparison needs base and new results")
	}
	var b strings.Builder
	b.WriteString("### tickbench: new vs base\n\n")
	fmt.Fprintf(&b, "- base: %s\n- new: %s\n\n", side(c.Base), side(c.New))
	c.Verdicts.Markdown(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// rates are the workloads' target rates, in order of first appearance.
func rates(sets ...[]*result.Result) []float64 {
	var out []float64
	for _, rs := range sets {
		for _, r := range rs {
			if !slices.Contains(out, r.Workload.Rate) {
				out = append(out, r.Workload.Rate)
			}
		}
	}
	return out
}

// strategies run at rate, in order of first appearance.
func strategies(rate float64, sets ...[]*result.Result) []string {
	var out []string
	for _, rs := range sets {
		for _, r := range rs {
			for _, s := range r.Strategies {
				if r.Workload.Rate == rate && !slices.Contains(out, s.Strategy) {
					out = append(out, s.Strategy)
				}
			}
		}
	}
	return out
}

// merged is one histogram of strategy's latency over every run at rate;
// nil when no run has it.
func merged(rs []*result.Result, rate float64, strategy string, get func(result.StrategyResult) result.Latency) (*hdrhistogram.Histogram, error) {
	var sum *hdrhistogram.Histogram
	for _, r := range rs {
		for _, s := range r.Strategies {
			if r.Workload.Rate != rate || s.Strategy != strategy {
				continue
			}
			h, err := get(s).DecodeHistogram()
			if err != nil {
				return nil, fmt.Errorf("decode histogram of %s in %s: %w", strategy, r.RunID, err)
			}
			if sum == nil {
				sum = h
			} else if dropped := sum.Merge(h); dropped > 0 {
				return nil, fmt.Errorf("merge histograms of %s: %d values out of range", strategy, dropped)
			}
		}
	}
	return sum, nil
}
