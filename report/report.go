// Package report renders tickbench results for people: one self-contained
// HTML page (inline SVG charts, no script, nothing fetched) and a Markdown
// summary for pull-request comments.
package report

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tickbench/tickbench/bench/result"
)

// entry is one strategy of one run.
type entry struct {
	label string
	run   *result.Result
	s     result.StrategyResult
}

func entries(results []*result.Result) ([]entry, error) {
	if len(results) == 0 {
		return nil, errors.New("report: no results given")
	}
	var out []entry
	for _, r := range results {
		for _, s := range r.Strategies {
			label := s.Strategy
			if len(results) > 1 {
				label = r.RunID + " " + s.Strategy
			}
			out = append(out, entry{label, r, s})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("report: the results hold no strategies")
	}
	return out, nil
}

// percentileTicks are the x axis of latency curves: HdrHistogram's
// 1/(1-p), on a log scale (x = log10 of it).
var percentileTicks = []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"}}

// percentileCurve samples a latency histogram at 1/(1-p) = 10^(k/10),
// as far as its count resolves, then its maximum; y in ms.
func percentileCurve(name string, l result.Latency) (line, error) {
	h, err := l.DecodeHistogram()
	if err != nil {
		return line{}, fmt.Errorf("decode histogram of %s: %w", name, err)
	}
	return histogramCurve(name, h), nil
}

// histogramCurve is percentileCurve of a decoded histogram.
func histogramCurve(name string, h *hdrhistogram.Histogram) line {
	ln := line{name: name}
	n := float64(h.TotalCount())
	if n == 0 {
		return ln
	}
	for k := 0; k <= 50; k++ {
		x := float64(k) / 10
		if math.Pow(10, x) > n {
			break
		}
		q := 1 - math.Pow(10, -x)
		ln.xs = append(ln.xs, x)
		ln.ys = append(ln.ys, float64(h.ValueAtQuantile(q*100))/1000)
	}
	ln.xs = append(ln.xs, min(5, math.Log10(n)))
	ln.ys = append(ln.ys, float64(h.Max())/1000)
	return ln
}

// htmlTable is a further table of a page.
type htmlTable struct {
	ID      string
	Columns []string
	Rows    [][]string
}

type page struct {
	Title string
	// Compare is the verdict table of a comparison page (CompareHTML).
	Compare *compareTable
	Runs    []*result.Result
	Charts  []template.HTML
	Notes   []string
	Columns []string
	Rows    [][]string
	// ProcColumns and ProcRows are the processes of distributed runs.
	ProcColumns []string
	ProcRows    [][]string
	Tables      []htmlTable
	Prices      string
	Markdown    string
}

// HTML writes one self-contained page: for ceiling searches, their
// saturation curves (ceilingHTML); otherwise latency percentile curves
// (end-to-end and per upload), achieved vs target rate and lag over time,
// bytes per tick and S3/Athena cost bars per strategy, and the side-by-side
// table.
func HTML(w io.Writer, results []*result.Result) error {
	if ceilings(results) {
		return ceilingHTML(w, results)
	}
	es, err := entries(results)
	if err != nil {
		return err
	}
	p := page{Title: "tickbench report", Runs: results}
	p.Columns, p.Rows = table(es)
	p.ProcColumns, p.ProcRows = processTable(results)
	for _, r := range results {
		if r.Clocks != nil {
			p.Notes = append(p.Notes, r.RunID+" clocks: "+r.Clocks.Note)
		}
	}

	type latencyChart struct {
		id, title string
		get       func(result.StrategyResult) result.Latency
	}
	charts := []latencyChart{
		{"latency-e2e", "End-to-end latency (intended time -> S3 PUT acknowledged)", func(s result.StrategyResult) result.Latency { return s.EndToEnd }},
		{"latency-upload", "Upload latency per object (PUT start -> acknowledged)", func(s result.StrategyResult) result.Latency { return s.Upload }},
	}
	if slices.ContainsFunc(es, func(e entry) bool { return e.s.Table != nil }) {
		charts = append(charts, latencyChart{"latency-queryable",
			"Queryable latency (intended time -> the table commit holding the tick; Hive-style prefixes: as end-to-end, partition projection)",
			func(s result.StrategyResult) result.Latency { return s.Queryable }})
	}
	for _, lat := range charts {
		var lines []line
		for _, e := range es {
			if lat.id == "latency-queryable" && e.s.Queryable.Count == 0 {
				continue // a result from before schema v1.4
			}
			ln, err := percentileCurve(e.label, lat.get(e.s))
			if err != nil {
				return fmt.Errorf("%s: %w", e.run.RunID, err)
			}
			lines = append(lines, ln)
		}
		p.Charts = append(p.Charts, template.HTML(lineChart(lat.id, lat.title, "percentile (log scale of 1/(1-p))", "ms", lines, percentileTicks, fmtNum)))
	}

	var rates, lags, rss, goroutines, files []line
	tmax := 0.0
	for i, e := range es {
		if len(e.s.Series) == 0 {
			why := "(schema v1)"
			if e.run.Role == result.RoleMerged {
				why = "(a merge of processes keeps their totals, not their seconds)"
			}
			p.Notes = append(p.Notes, e.label+": no per-second series in this result "+why)
			continue
		}
		var ts, achieved, target, lag []float64
		for _, smp := range e.s.Series {
			ts, achieved, target, lag = append(ts, smp.T), append(achieved, smp.AchievedRate), append(target, smp.TargetRate), append(lag, float64(smp.Lag))
			tmax = max(tmax, smp.T)
		}
		rates = append(rates, line{name: e.label + " achieved", xs: ts, ys: achieved, color: color(i)},
			line{name: e.label + " target", xs: ts, ys: target, dashed: true, color: color(i)})
		lags = append(lags, line{name: e.label, xs: ts, ys: lag, color: color(i)})
		// The process's resources (schema v1.5): what a soak watches.
		var r, g, f []float64
		for _, smp := range e.s.Series {
			r, g, f = append(r, float64(smp.RSSBytes)/(1<<20)), append(g, float64(smp.Goroutines)), append(f, float64(smp.OpenFiles))
		}
		if slices.Max(r) > 0 {
			rss = append(rss, line{name: e.label, xs: ts, ys: r, color: color(i)})
			goroutines = append(goroutines, line{name: e.label, xs: ts, ys: g, color: color(i)})
			files = append(files, line{name: e.label, xs: ts, ys: f, color: color(i)})
		}
	}
	if len(rates) > 0 {
		_, xt := niceTicks(tmax, 6, func(v float64) string { return fmtNum(v) + "s" })
		p.Charts = append(p.Charts,
			template.HTML(lineChart("rate", "Achieved vs target rate (ticks acknowledged by Kafka per second)", "seconds since the generator started", "ticks/s", rates, xt, fmtNum)),
			template.HTML(lineChart("lag", "Lag (ticks acknowledged by Kafka, not yet landed in S3)", "seconds since the generator started", "ticks", lags, xt, fmtNum)))
		if len(rss) > 0 {
			p.Charts = append(p.Charts,
				template.HTML(lineChart("rss", "Resident memory of the tickbench process", "seconds since the generator started", "MiB", rss, xt, fmtNum)),
				template.HTML(lineChart("goroutines", "Goroutines of the tickbench process", "seconds since the generator started", "goroutines", goroutines, xt, fmtNum)),
				template.HTML(lineChart("open-files", "Open files (descriptors) of the tickbench process", "seconds since the generator started", "files", files, xt, fmtNum)))
		}
	}

	var bpt, put, storage, athena []bar
	for _, e := range es {
		c := costs(e)
		bpt = append(bpt, bar{e.label, e.s.BytesPerTick, fmt.Sprintf("%.1f", e.s.BytesPerTick)})
		put = append(put, bar{e.label, e.s.PutCostPerDayUSD, usd(e.s.PutCostPerDayUSD)})
		storage = append(storage, bar{e.label, c.storageMonth, usd(c.storageMonth)})
		athena = append(athena, bar{e.label, c.athenaScan, usd(c.athenaScan)})
	}
	p.Charts = append(p.Charts,
		template.HTML(barChart("bytes-per-tick", "Bytes per tick in S3", "bytes", bpt, fmtNum)),
		template.HTML(barChart("cost-put", "S3 PUT cost per day at the run's rate", "USD", put, usd)),
		template.HTML(barChart("cost-storage", "S3 storage cost per month of one day's data", "USD", storage, usd)),
		template.HTML(barChart("cost-athena", "Athena cost of one query scanning one day's data in full", "USD", athena, usd)))
	var scans []bar
	var queries []string
	for _, e := range es {
		if l := e.s.Lake; l != nil && l.Problem == "" && len(l.Queries) > 0 {
			_, scan := lakeMeans(e.s)
			scans = append(scans, bar{e.label, scan, fmtBytes(scan)})
			if queries == nil {
				for _, q := range l.Queries {
					queries = append(queries, q.Query)
				}
			}
		}
	}
	if len(scans) > 0 {
		p.Charts = append(p.Charts, template.HTML(barChart("athena-scan",
			"Athena bytes scanned per standard query, modelled mean of "+strings.Join(queries, ", "), "bytes", scans, fmtNum)))
	}
	pr := results[0].Prices
	p.Prices = fmt.Sprintf("Prices: %s, %s (as of %s): S3 PUT $%g per 1,000, storage $%g per GB-month, Athena $%g per TB scanned (at least %d MB per query). Costs of a day assume the run's rate for 24 h; the Athena bar is a full scan (a column-pruned Parquet query scans less).",
		pr.Region, pr.Source, pr.AsOf, pr.S3PutPer1000, pr.S3StoragePerGBMonth, pr.AthenaPerTB, pr.AthenaMinBytes>>20)
	return pageTemplate.Execute(w, p)
}

// processTable has a row per process of the distributed runs among
// results (none for runs in one process).
func processTable(results []*result.Result) ([]string, [][]string) {
	var rows [][]string
	for _, r := range results {
		for _, pr := range r.Processes {
			n, p99, shard := "", "-", pr.Shard
			switch {
			case pr.Producer != nil:
				n = fmtNum(float64(pr.Producer.Acked))
			case pr.Sink != nil:
				n, p99, shard = fmtNum(float64(pr.Sink.Consumed)), ms(pr.Sink.EndToEnd.P99), "-"
			}
			rows = append(rows, []string{r.RunID, pr.Role, pr.Host, fmt.Sprint(pr.PID), shard, n, p99,
				fmt.Sprintf("%.2f", pr.CPUSeconds), fmt.Sprintf("%.1f", float64(pr.PeakRSSBytes)/(1<<20)), pr.Clock.Sync})
		}
	}
	if rows == nil {
		return nil, nil
	}
	return []string{"run", "process", "host", "pid", "shard", "sent/landed", "e2e p99 ms", "CPU s", "peak RSS MiB", "clock"}, rows
}

// lakeMeans are the mean modelled Athena bill and scan of the strategy's
// standard queries; NaN when they were not modelled.
func lakeMeans(s result.StrategyResult) (usd, scan float64) {
	if s.Lake == nil || s.Lake.Problem != "" || len(s.Lake.Queries) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, q := range s.Lake.Queries {
		usd += q.USD
		scan += float64(q.Bytes)
	}
	n := float64(len(s.Lake.Queries))
	return usd / n, scan / n
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

type cost struct{ storageMonth, athenaScan float64 }

// costs models a day of data at the run's rate: its S3 storage for a month
// and one Athena query scanning all of it.
func costs(e entry) cost {
	day := e.s.BytesPerTick * e.run.Workload.Rate * 86400
	pr := e.run.Prices
	_, scan := pr.AthenaBill(int64(day))
	return cost{storageMonth: day / 1e9 * pr.S3StoragePerGBMonth, athenaScan: scan}
}

// table is the side-by-side comparison, one row per strategy.
func table(es []entry) ([]string, [][]string) {
	cols := []string{"strategy", "rate held", "e2e p50 ms", "p99 ms", "p99.9 ms", "max ms", "objects", "bytes/tick", "PUTs", "PUT $/day", "Athena $/day scan", "Athena $/query", "CPU s/M ticks", "peak RSS MiB", "verified"}
	var rows [][]string
	for _, e := range es {
		s := e.s
		verified := "yes"
		if !s.Verify.OK {
			verified = "NO: " + s.Verify.Problem
		}
		held := fmt.Sprintf("%s of %s/s", fmtNum(s.Producer.AchievedRate), fmtNum(s.Producer.TargetRate))
		rows = append(rows, []string{e.label, held, ms(s.EndToEnd.P50), ms(s.EndToEnd.P99), ms(s.EndToEnd.P999), ms(s.EndToEnd.Max),
			fmtNum(float64(s.Objects)), fmt.Sprintf("%.1f", s.BytesPerTick), fmtNum(float64(s.PutRequests)), usd(s.PutCostPerDayUSD),
			usd(costs(e).athenaScan), perQuery(e.s), fmt.Sprintf("%.2f", s.CPUSecondsPerMillion), fmt.Sprintf("%.1f", float64(s.PeakRSSBytes)/(1<<20)), verified})
	}
	return cols, rows
}

// Markdown writes the summary for a pull-request comment: the runs and the
// side-by-side table.
func Markdown(w io.Writer, results []*result.Result) error {
	if ceilings(results) {
		return ceilingMarkdown(w, results)
	}
	es, err := entries(results)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("### tickbench\n\n")
	for _, r := range results {
		fmt.Fprintf(&b, "- `%s` (%s): %s ticks/s for %gs, %d symbols, seed %d, stack %s, mode %s, %s/%s %d CPUs\n",
			r.RunID, r.Name, fmtNum(r.Workload.Rate), r.Workload.DurationS, r.Workload.Symbols, r.Workload.Seed, r.Stack.Name, r.Mode,
			r.Machine.GOOS, r.Machine.GOARCH, r.Machine.CPUs)
	}
	cols, rows := table(es)
	b.WriteString("\n| " + strings.Join(cols, " | ") + " |\n|")
	for i := range cols {
		if i == 0 {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		for i := range r {
			r[i] = strings.ReplaceAll(r[i], "|", `\|`)
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n(e2e = intended time -> S3 PUT acknowledged; costs at " + results[0].Prices.Region + " prices)\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// perQuery is the mean modelled bill of the standard queries, or "-".
func perQuery(s result.StrategyResult) string {
	u, _ := lakeMeans(s)
	if math.IsNaN(u) {
		return "-"
	}
	return fmt.Sprintf("$%.6f", u)
}

func ms(us int64) string { return fmt.Sprintf("%.1f", float64(us)/1000) }

func usd(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v >= 100:
		return "$" + fmtNum(math.Round(v))
	case v >= 0.01:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.2g", v)
}

// fmtNum prints v briefly, with thousands separators.
func fmtNum(v float64) string {
	if v != math.Trunc(v) && math.Abs(v) < 1000 {
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	if v < 0 {
		return "-" + string(out)
	}
	return string(out)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg.chart { display: block; margin: 1.5em 0; }
.note { color: #a60; }
tr.regressed td { background: #fdd; font-weight: bold; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<ul class="runs">
{{range .Runs}}<li><b>{{.RunID}}</b> ({{.Name}}): {{with .Ceiling}}ceiling search, slo {{.SLO}}, steps of {{.StepS}} s from {{.StartRate}} ticks/s, resolution {{.Resolution}}, bound {{.MaxDurationS}} s{{else}}{{.Workload.Rate}} ticks/s for {{.Workload.DurationS}} s{{end}}, {{.Workload.Symbols}} symbols, seed {{.Workload.Seed}}, stack {{.Stack.Name}} (kafka={{.Stack.Kafka}} s3={{.Stack.S3}}), mode {{.Mode}}, {{.Machine.GOOS}}/{{.Machine.GOARCH}} {{.Machine.CPUs}} CPUs {{.Machine.GoVersion}}, verified {{.Verified}}</li>
{{end}}</ul>
{{with .Compare}}<p>base: {{.Base}}<br/>new: {{.New}}</p>
<table id="compare">
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Regressed}} class="regressed"{{end}}>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<p class="verdict">{{.Verdict}}</p>
{{end}}{{if .Columns}}<table id="summary">
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}
{{if .ProcColumns}}<table id="processes">
<thead><tr>{{range .ProcColumns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .ProcRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}
{{range .Tables}}<table id="{{.ID}}">
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{range .Charts}}{{.}}{{end}}
{{if .Prices}}<p class="prices">{{.Prices}}</p>{{end}}
</body>
</html>
`))
