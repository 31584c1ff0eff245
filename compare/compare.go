// Package compare decides whether one set of tickbench runs is worse than
// another: per benchmark and unit, the Mann–Whitney U test
// (golang.org/x/perf/benchmath) at a significance level, and a threshold on
// the change of the medians, in the direction the unit says is better.
package compare

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tickbench/tickbench/bench/result"
	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// Samples are the measurements of a set of runs: benchmark name -> unit ->
// one value per run.
type Samples map[string]map[string][]float64

func (s Samples) add(name, unit string, v float64) {
	if s[name] == nil {
		s[name] = map[string][]float64{}
	}
	s[name][unit] = append(s[name][unit], v)
}

// Load reads benchmark lines from files and folders. A .json file is a
// result (its lines are derived from it); any other file is read as Go
// benchmark format. A folder contributes its *.bench.txt files or, if it has
// none, its *.json results (a run writes both; reading both would count it
// twice).
func Load(paths ...string) (Samples, error) {
	return load(false, paths)
}

// LoadMedians is Load with each file's values of a benchmark and unit
// reduced to their median, one sample per file. Runs that one process made
// back to back (bench --count) share its warm-up and the same seconds of
// the machine; as separate samples they would make the U test's p-values
// too small.
func LoadMedians(paths ...string) (Samples, error) {
	return load(true, paths)
}

func load(medians bool, paths []string) (Samples, error) {
	s := Samples{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		files := []string{p}
		if fi.IsDir() {
			if files, err = filepath.Glob(filepath.Join(p, "*.bench.txt")); err == nil && len(files) == 0 {
				files, err = filepath.Glob(filepath.Join(p, "*.json"))
			}
			if err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("read runs: %s has no .bench.txt or .json files", p)
			}
		}
		for _, f := range files {
			if !medians {
				if err := s.loadFile(f); err != nil {
					return nil, err
				}
				continue
			}
			one := Samples{}
			if err := one.loadFile(f); err != nil {
				return nil, err
			}
			for name, units := range one {
				for unit, vs := range units {
					s.add(name, unit, median(vs))
				}
			}
		}
	}
	return s, nil
}

func (s Samples) loadFile(path string) error {
	var in io.Reader
	if strings.HasSuffix(path, ".json") {
		r, err := result.ReadResult(path)
		if err != nil {
			return fmt.Errorf("read runs: %w", err)
		}
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		if err := r.WriteBenchmarkLines(w); err != nil {
			return err
		}
		w.Flush()
		in = &buf
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("read runs: %w", err)
		}
		defer f.Close()
		in = f
	}
	rd := benchfmt.NewReader(in, path)
	n := 0
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return fmt.Errorf("read runs: %w", rec)
		case *benchfmt.Result:
			name := rec.Name.String()
			for _, v := range rec.Values {
				unit, val := v.Unit, v.Value
				if v.OrigUnit != "" {
					unit, val = v.OrigUnit, v.OrigValue
				}
				s.add(name, unit, val)
			}
			n++
		}
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("read runs %s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("read runs: %s holds no benchmark lines", path)
	}
	return nil
}

// Options of a comparison.
type Options struct {
	// Threshold is the relative change of the median, in the worse
	// direction, past which a significant difference is a regression.
	// Default 0.10.
	Threshold float64
	// Alpha is the significance level of the U test. Default 0.05.
	Alpha float64
	// Rules, if set, pick the metrics compared (a metric no rule matches
	// is left out) and their thresholds; the first rule matching a metric
	// applies.
	Rules []Rule
}

// Rule picks a unit, on every benchmark or only on those whose name has
// every /-separated element of Bench, and its threshold.
type Rule struct {
	Bench, Unit string
	// Threshold replaces Options.Threshold when it is >= 0.
	Threshold float64
}

// matches reports whether the rule picks the benchmark's unit. An element
// of Bench ending in = (counter=) stands for the key with any value.
func (r Rule) matches(bench, unit string) bool {
	if unit != r.Unit {
		return false
	}
	if r.Bench == "" {
		return true
	}
	parts := strings.Split(bench, "/")
	for _, e := range strings.Split(r.Bench, "/") {
		if !slices.ContainsFunc(parts, func(p string) bool {
			return p == e || (strings.HasSuffix(e, "=") && strings.HasPrefix(p, e))
		}) {
			return false
		}
	}
	return true
}

// ParseRules reads comma-separated rules, each [BENCH:]UNIT[=THRESHOLD]:
// "cpu-s/Mtick=5%" compares cpu-s/Mtick on every benchmark with a 5%
// threshold; "rate=10000000:landed-ticks/s" compares landed-ticks/s only on
// benchmarks named with rate=10000000 (not rate=100000000), with the
// default threshold.
func ParseRules(spec string) ([]Rule, error) {
	var out []Rule
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		r := Rule{Threshold: -1}
		rest := item
		if b, u, ok := strings.Cut(item, ":"); ok {
			r.Bench, rest = b, u
		}
		r.Unit = rest
		if i := strings.LastIndex(rest, "="); i >= 0 {
			thr, err := ParseFraction(rest[i+1:])
			if err != nil {
				return nil, fmt.Errorf("rule %q: threshold %w", item, err)
			}
			r.Unit, r.Threshold = rest[:i], thr
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseFraction reads 10% or 0.1 as the fraction 0.1.
func ParseFraction(s string) (float64, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: not a number: use 10%% or 0.1", s)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// DefaultOptions returns a 10% threshold at alpha 0.05.
func DefaultOptions() Options { return Options{Threshold: 0.10, Alpha: 0.05} }

// Validate names a bad option and its allowed range.
func (o Options) Validate() error {
	if !(o.Threshold >= 0 && o.Threshold <= 10) {
		return fmt.Errorf("threshold %g: allowed 0..10 (a fraction: 0.1 = 10%%)", o.Threshold)
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		return fmt.Errorf("alpha %g: allowed between 0 and 1 exclusive", o.Alpha)
	}
	for _, r := range o.Rules {
		if _, ok := result.Better[r.Unit]; !ok {
			return fmt.Errorf("unit %q: allowed %s", r.Unit, strings.Join(slices.Sorted(maps.Keys(result.Better)), ", "))
		}
		if r.Threshold > 10 {
			return fmt.Errorf("threshold %g of %s: allowed 0..10 (a fraction: 0.1 = 10%%)", r.Threshold, r.Unit)
		}
	}
	return nil
}

// Verdicts of a metric.
const (
	Regressed   = "REGRESSED"
	Improved    = "improved"
	Same        = "no significant change"
	WithinThr   = "within threshold"
	TooFew      = "too few samples"
	NoBase      = "only in new"
	NoNew       = "only in base"
	NoDirection = "direction unknown"
)

// Metric is one benchmark's unit compared.
type Metric struct {
	Benchmark, Unit string
	Base, New       []float64
	// BaseMedian, NewMedian and Change ((new-base)/base) summarize them;
	// P is the U test's p-value.
	BaseMedian, NewMedian, Change, P float64
	// Threshold is the one this metric was judged by.
	Threshold float64
	Verdict   string
	// Note explains a verdict that is not a decision (too few samples).
	Note string
}

// Report is every metric compared, sorted by benchmark and unit.
type Report struct {
	Options Options
	Metrics []Metric
}

// Regressions are the metrics that got significantly worse beyond the
// threshold.
func (r Report) Regressions() []Metric {
	var out []Metric
	for _, m := range r.Metrics {
		if m.Verdict == Regressed {
			out = append(out, m)
		}
	}
	return out
}

// Compare compares every benchmark and unit present in base or new.
func Compare(base, new Samples, o Options) Report {
	rep := Report{Options: o}
	thr := benchmath.DefaultThresholds
	thr.CompareAlpha = o.Alpha
	names := slices.Sorted(maps.Keys(mergeKeys(base, new)))
	for _, name := range names {
		units := map[string]bool{}
		for u := range base[name] {
			units[u] = true
		}
		for u := range new[name] {
			units[u] = true
		}
		for _, unit := range slices.Sorted(maps.Keys(units)) {
			threshold, ok := o.threshold(name, unit)
			if !ok {
				continue
			}
			rep.Metrics = append(rep.Metrics, compareOne(name, unit, base[name][unit], new[name][unit], threshold, &thr))
		}
	}
	return rep
}

// threshold is the metric's threshold, and false when the rules leave it
// out.
func (o Options) threshold(bench, unit string) (float64, bool) {
	if len(o.Rules) == 0 {
		return o.Threshold, true
	}
	for _, r := range o.Rules {
		if r.matches(bench, unit) {
			if r.Threshold >= 0 {
				return r.Threshold, true
			}
			return o.Threshold, true
		}
	}
	return 0, false
}

func compareOne(name, unit string, b, n []float64, threshold float64, thr *benchmath.Thresholds) Metric {
	m := Metric{Benchmark: name, Unit: unit, Base: b, New: n, P: math.NaN(), Change: math.NaN(), Threshold: threshold}
	switch {
	case len(b) == 0:
		m.Verdict = NoBase
		return m
	case len(n) == 0:
		m.Verdict = NoNew
		return m
	}
	sb, sn := benchmath.NewSample(b, thr), benchmath.NewSample(n, thr)
	m.BaseMedian = benchmath.AssumeNothing.Summary(sb, 0.95).Center
	m.NewMedian = benchmath.AssumeNothing.Summary(sn, 0.95).Center
	switch {
	case m.BaseMedian != 0:
		m.Change = (m.NewMedian - m.BaseMedian) / math.Abs(m.BaseMedian)
	case m.NewMedian == 0:
		m.Change = 0
	default:
		m.Change = math.Inf(int(math.Copysign(1, m.NewMedian)))
	}
	c := benchmath.AssumeNothing.Compare(sb, sn)
	m.P = c.P
	dir, known := result.Better[unit]
	switch {
	case allEqual(b, n):
		// Identical values (deterministic metrics such as objects): no
		// test is needed to see that nothing changed.
		m.Verdict, m.P = Same, 1
	case c.P >= c.Alpha:
		m.Verdict = Same
		for _, w := range c.Warnings {
			if strings.HasPrefix(w.Error(), "need ") {
				// benchmath's minimum: with fewer samples even two
				// sets that do not overlap at all cannot be told apart.
				m.Verdict, m.Note = TooFew, w.Error()
			}
		}
	case !known:
		m.Verdict = NoDirection
	case float64(dir)*m.Change < 0 && math.Abs(m.Change) > threshold:
		m.Verdict = Regressed
	case float64(dir)*m.Change < 0:
		m.Verdict = WithinThr
	default:
		m.Verdict = Improved
	}
	return m
}

func allEqual(a, b []float64) bool {
	for _, v := range a {
		if v != a[0] {
			return false
		}
	}
	for _, v := range b {
		if v != a[0] {
			return false
		}
	}
	return true
}

// Row is a metric as printed: benchmark (without the Tickbench/ prefix),
// unit, medians, change, p-value, sample counts, threshold and verdict.
func (m Metric) Row() []string {
	change, p := "", ""
	if !math.IsNaN(m.Change) {
		change = fmt.Sprintf("%+.1f%%", m.Change*100)
	}
	if !math.IsNaN(m.P) {
		p = fmt.Sprintf("%.3f", m.P)
	}
	verdict := m.Verdict
	if m.Note != "" {
		verdict += " (" + m.Note + ")"
	}
	return []string{strings.TrimPrefix(m.Benchmark, "Tickbench/"), m.Unit, g(m.BaseMedian, len(m.Base)), g(m.NewMedian, len(m.New)),
		change, p, fmt.Sprintf("%d+%d", len(m.Base), len(m.New)), fmt.Sprintf("%.0f%%", m.Threshold*100), verdict}
}

// Header names the columns of Row.
var Header = []string{"benchmark", "unit", "base median", "new median", "change", "p", "n", "threshold", "verdict"}

// Print writes one line per metric (see Row), then the verdict: the
// regressions, if any.
func (r Report) Print(w io.Writer) {
	line := func(c []string) {
		fmt.Fprintf(w, "%-45s %-17s %14s %14s %9s %6s %5s %9s  %s\n", c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8])
	}
	line(Header)
	for _, m := range r.Metrics {
		line(m.Row())
	}
	fmt.Fprintln(w, r.Verdict())
}

// Markdown writes the comparison as a Markdown table, regressions in bold,
// and the verdict.
func (r Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(Header, " | "), strings.Repeat(" --- |", 2)+strings.Repeat(" ---: |", len(Header)-3)+" --- |")
	for _, m := range r.Metrics {
		c := m.Row()
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], "|", `\|`)
		}
		if m.Verdict == Regressed {
			c[8] = "**" + c[8] + "**"
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
	}
	fmt.Fprintf(w, "\n%s\n", r.Verdict())
}

// Verdict is one line: no regression, or which metrics regressed.
func (r Report) Verdict() string {
	regs := r.Regressions()
	if len(regs) == 0 {
		return fmt.Sprintf("no regression: %d metrics, none significantly worse (U test, alpha %g) beyond its threshold", len(r.Metrics), r.Options.Alpha)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d regression(s) at alpha %g:", len(regs), r.Options.Alpha)
	for _, m := range regs {
		fmt.Fprintf(&b, " %s %s %+.1f%% (p=%.3f, threshold %.0f%%);", strings.TrimPrefix(m.Benchmark, "Tickbench/"), m.Unit, m.Change*100, m.P, m.Threshold*100)
	}
	return b.String()
}

// ErrRegression is returned by Check when a metric regressed.
var ErrRegression = errors.New("regression")

// Err returns an error wrapping ErrRegression naming the regressed
// metrics, or nil.
func (r Report) Err() error {
	regs := r.Regressions()
	if len(regs) == 0 {
		return nil
	}
	var names []string
	for _, m := range regs {
		names = append(names, fmt.Sprintf("%s %s %+.1f%%", strings.TrimPrefix(m.Benchmark, "Tickbench/"), m.Unit, m.Change*100))
	}
	return fmt.Errorf("%w: %s", ErrRegression, strings.Join(names, "; "))
}

func g(v float64, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.6g", v)
}

func mergeKeys(a, b Samples) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// median is the middle of vs (the mean of the two middle values of an
// even count).
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
