// Package ceiling owns the ceiling search: the SLO a sustainable rate must
// hold, the resolution of the answer, the choice of each step's rate
// (doubling from the start until a step fails, then bisecting), the
// verdict of a step from its figures (rate held, lag trend, SLO, exactly
// once) and what saturated first. It runs no step itself: the caller's
// StepFunc runs one at a rate (package bench runs a phase of the pipeline)
// and Search judges it. The pure parts have no clock and no I/O, so they
// are table-tested.
package ceiling

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
)

// Params are a search's own settings; DefaultParams has the documented
// defaults.
type Params struct {
	// SLO must hold at a sustainable rate. Default DefaultSLO.
	SLO SLO
	// Start is the first step's rate. Default 10,000 ticks/s.
	Start float64
	// Step is how long the generator runs at each rate. Default 15 s.
	Step time.Duration
	// Resolution brackets the answer. Default 5% of it.
	Resolution Resolution
	// MaxDuration bounds the whole search, every strategy's steps with
	// their drains and verification; a search cut by it reports the best
	// bound known. Default 10 m.
	MaxDuration time.Duration
}

// DefaultParams returns the documented defaults.
func DefaultParams() Params {
	return Params{SLO: SLO{{"e2e", "p99", 2 * time.Second}}, Start: 10_000, Step: 15 * time.Second,
		Resolution: DefaultResolution, MaxDuration: 10 * time.Minute}
}

// Validate names the first bad value and its allowed range.
func (p Params) Validate() error {
	switch {
	case len(p.SLO) == 0:
		return fmt.Errorf("slo: none given; e.g. %s", DefaultSLO)
	case !(p.Start >= 1 && p.Start <= gen.MaxRate):
		return fmt.Errorf("start %v: allowed 1..%d ticks/s", p.Start, gen.MaxRate)
	case p.Step < 2*time.Second || p.Step > 10*time.Minute:
		return fmt.Errorf("step %v: allowed 2s..10m (lag is judged over its second half, a second at a time)", p.Step)
	case p.MaxDuration < p.Step || p.MaxDuration > 24*time.Hour:
		return fmt.Errorf("max-duration %v: allowed step %v..24h", p.MaxDuration, p.Step)
	case p.Resolution.Share < 0 || p.Resolution.Share > 0.5 || (p.Resolution.Share == 0 && p.Resolution.PerSecond < 1):
		return fmt.Errorf("resolution %s: allowed 0.1%%..50%% of the answer, or 1..%d ticks/s", p.Resolution, gen.MaxRate)
	}
	return nil
}

// Why a step's production ended early without a verdict of its own (its
// EndedEarly): the step is cut, not judged.
const (
	EndedInterrupted = "interrupted"
	EndedDeadline    = "max-duration reached"
)

// StepFunc runs step n (from 1) at rate, ending production by deadline,
// and returns its figures: everything but the lag trend and the verdict,
// which Judge adds. LagAllowance is what the open batches and uploads in
// flight hold when the sink keeps up.
type StepFunc func(ctx context.Context, n int, rate float64, deadline time.Time) (result.CeilingStep, error)

// stepOverhead is the first guess of what a step takes beyond its length
// (group join, drain, verification); later steps use the last one's.
const stepOverhead = 5 * time.Second

// Search runs one strategy's steps until the bracket is within the
// resolution or the time left (until deadline) cannot hold another step,
// printing each step's line to w as it ends, then the answer. stopped
// reports an interrupt.
func Search(ctx context.Context, p Params, strategy string, deadline time.Time, stopped func() bool, step StepFunc, w io.Writer) (result.CeilingSearch, error) {
	begin := time.Now()
	cs := result.CeilingSearch{Strategy: strategy}
	sr := &search{start: p.Start, min: 1, max: gen.MaxRate, res: p.Resolution}
	overhead := stepOverhead
	for n := 1; ; n++ {
		rate, done := sr.next()
		switch {
		case done:
			cs.Complete = true
			if sr.lo >= sr.max {
				cs.Complete, cs.Stopped = false, fmt.Sprintf("top of the range: passed at %s/s", result.Thousands(sr.max))
			}
		case stopped() || ctx.Err() != nil:
			cs.Stopped = EndedInterrupted
		case time.Now().Add(p.Step + overhead).After(deadline):
			cs.Stopped = fmt.Sprintf("max-duration: no time left for a step of %v (+%v to drain and verify)", p.Step, overhead.Round(time.Second))
		}
		if done || cs.Stopped != "" {
			break
		}
		st, err := step(ctx, n, rate, deadline)
		if err != nil {
			return cs, err
		}
		Judge(p, &st)
		overhead = max(time.Duration(st.ElapsedS*float64(time.Second))-p.Step, time.Second)
		cs.Steps = append(cs.Steps, st)
		result.PrintStep(w, n, st)
		if st.Verdict == result.VerdictCut {
			cs.Stopped = "max-duration: the last step was cut short"
			if stopped() {
				cs.Stopped = EndedInterrupted
			}
			break
		}
		sr.record(rate, map[string]outcome{result.VerdictPass: passed, result.VerdictSLO: sloOnly, result.VerdictFail: overloaded}[st.Verdict])
	}
	cs.Rate, cs.Upper = sr.lo, sr.hi
	cs.Resolution = p.Resolution.at(max(sr.lo, sr.floor))
	var pass, fail *result.CeilingStep
	for i := range cs.Steps {
		st := &cs.Steps[i]
		if st.Rate == sr.lo && st.Verdict == result.VerdictPass {
			pass = st
		}
		if st.Rate == sr.hi && st.Verdict != result.VerdictPass && st.Verdict != result.VerdictCut {
			fail = st
		}
	}
	if pass == nil && len(cs.Steps) > 0 {
		pass = &cs.Steps[0]
	}
	cs.Saturated = saturation(pass, fail)
	cs.ElapsedS = time.Since(begin).Seconds()
	result.PrintAnswer(w, cs)
	return cs, nil
}

// Judge adds a measured step's lag trend over its second half, whether lag
// grew beyond st.LagAllowance, and its verdict with the reasons; a step
// whose production was cut (EndedInterrupted, EndedDeadline) is not judged.
func Judge(p Params, st *result.CeilingStep) {
	st.LagSlope, st.LagSlopeErr = lagTrend(st.Series, p.Step)
	for _, smp := range st.Series {
		if smp.TargetRate > 0 {
			st.LagEnd = smp.Lag
		}
	}
	st.LagGrew = lagGrew(st.LagSlope, st.LagSlopeErr, st.LagEnd, st.Rate, st.LagAllowance)
	o, reasons := judge(st.Producer.RateHeld, st.Producer.AchievedRate, st.Rate, st.LagGrew, st.LagSlope,
		p.SLO.misses(st.EndToEnd, st.Upload, st.Producer.Publish, st.Queryable), st.Verify)
	st.Reasons = reasons
	st.Verdict = [...]string{passed: result.VerdictPass, sloOnly: result.VerdictSLO, overloaded: result.VerdictFail}[o]
	if st.EndedEarly == EndedInterrupted || st.EndedEarly == EndedDeadline {
		st.Verdict = result.VerdictCut
	}
}

// DefaultSLO is the ceiling's default service-level objective.
const DefaultSLO = "e2e-p99<2s"

// SLO is a conjunction of latency bounds, e.g. "e2e-p99<2s,upload-p99<500ms".
type SLO []SLOTerm

// SLOTerm bounds one quantile of one latency histogram.
type SLOTerm struct {
	Metric   string // e2e, upload or publish
	Quantile string // p50, p90, p95, p99, p99.9 or max
	Below    time.Duration
}

var (
	sloMetrics   = []string{"e2e", "upload", "publish", "queryable"}
	sloQuantiles = []string{"p50", "p90", "p95", "p99", "p99.9", "max"}
)

// ParseSLO reads comma-separated terms METRIC-QUANTILE<DURATION.
func ParseSLO(s string) (SLO, error) {
	allowed := fmt.Sprintf("allowed METRIC-QUANTILE<DURATION, comma-separated, METRIC one of %s, QUANTILE one of %s, e.g. %s",
		strings.Join(sloMetrics, ", "), strings.Join(sloQuantiles, ", "), DefaultSLO)
	var out SLO
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		name, bound, ok := strings.Cut(term, "<")
		metric, q, ok2 := strings.Cut(name, "-")
		if !ok || !ok2 {
			return nil, fmt.Errorf("slo %q: term %q: %s", s, term, allowed)
		}
		if !slices.Contains(sloMetrics, metric) {
			return nil, fmt.Errorf("slo %q: metric %q: %s", s, metric, allowed)
		}
		if !slices.Contains(sloQuantiles, q) {
			return nil, fmt.Errorf("slo %q: quantile %q: %s", s, q, allowed)
		}
		d, err := time.ParseDuration(strings.TrimSpace(bound))
		if err != nil || d <= 0 || d > time.Hour {
			return nil, fmt.Errorf("slo %q: bound %q: allowed a duration 1µs..1h, e.g. 2s or 500ms", s, bound)
		}
		out = append(out, SLOTerm{metric, q, d})
	}
	return out, nil
}

func (s SLO) String() string {
	terms := make([]string, len(s))
	for i, t := range s {
		terms[i] = t.String()
	}
	return strings.Join(terms, ",")
}

func (t SLOTerm) String() string { return t.Metric + "-" + t.Quantile + "<" + t.Below.String() }

// value is the term's quantile of l in µs.
func (t SLOTerm) value(l result.Latency) int64 {
	switch t.Quantile {
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p95":
		return l.P95
	case "p99":
		return l.P99
	case "p99.9":
		return l.P999
	}
	return l.Max
}

// misses lists the terms the step's latencies break, as "e2e-p99 3.1s >= 2s".
// queryable is the table commit's for a table strategy, e2e otherwise.
func (s SLO) misses(e2e, upload, publish, queryable result.Latency) []string {
	var out []string
	for _, t := range s {
		l := map[string]result.Latency{"e2e": e2e, "upload": upload, "publish": publish, "queryable": queryable}[t.Metric]
		v := time.Duration(t.value(l)) * time.Microsecond
		if v >= t.Below {
			out = append(out, fmt.Sprintf("slo %s-%s %v >= %v", t.Metric, t.Quantile, v.Round(time.Millisecond), t.Below))
		}
	}
	return out
}

// Resolution is how close the search brackets the answer: an absolute
// rate, or a share of the answer ("5%").
type Resolution struct {
	PerSecond float64 // absolute, ticks/s
	Share     float64 // of the highest passing rate, 0..1
}

// DefaultResolution brackets the answer within 5% of it.
var DefaultResolution = Resolution{Share: 0.05}

// ParseResolution reads "5%" or a rate in ticks/s ("1000").
func ParseResolution(s string) (Resolution, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v >= 0.1 && v <= 50) {
			return Resolution{}, fmt.Errorf("resolution %q: allowed 0.1%%..50%% of the answer, or a rate in ticks/s 1..%d", s, gen.MaxRate)
		}
		return Resolution{Share: v / 100}, nil
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || !(v >= 1 && v <= gen.MaxRate) {
		return Resolution{}, fmt.Errorf("resolution %q: allowed a rate in ticks/s 1..%d, or 0.1%%..50%% of the answer", s, gen.MaxRate)
	}
	return Resolution{PerSecond: v}, nil
}

func (r Resolution) String() string {
	if r.Share > 0 {
		return strconv.FormatFloat(r.Share*100, 'g', -1, 64) + "%"
	}
	return strconv.FormatFloat(r.PerSecond, 'g', -1, 64)
}

// at is the resolution in ticks/s near rate.
func (r Resolution) at(rate float64) float64 {
	if r.Share > 0 {
		return r.Share * rate
	}
	return r.PerSecond
}

// outcome is what a step says about its rate.
type outcome int

const (
	// passed: the producer held the rate, lag did not grow, the SLO held.
	passed outcome = iota
	// sloOnly: the pipeline kept up but missed the SLO. Below every
	// passing rate this is batches filling slowly (their latency falls as
	// the rate rises), so the search goes up; above one it is a failure.
	sloOnly
	// overloaded: the producer did not hold the rate or lag grew.
	overloaded
)

// search is the state of the bracket: on a warm pipeline it doubles from
// the start rate until a step fails, then bisects until the highest
// passing rate (lo) and the lowest failing one (hi) are within the
// resolution. floor is the highest rate that kept up but missed the SLO
// while no rate has passed. Zero means none.
type search struct {
	start, min, max float64
	res             Resolution
	lo, hi, floor   float64
}

// next returns the rate of the next step, or done when the bracket is
// within the resolution or the search hit the allowed range of rates.
func (s *search) next() (rate float64, done bool) {
	up := func(from float64) (float64, bool) { // doubling, up to max
		if from >= s.max {
			return 0, true
		}
		return min(2*from, s.max), false
	}
	bisect := func(lo float64) (float64, bool) {
		if s.hi-lo <= s.res.at(lo) {
			return 0, true
		}
		return (lo + s.hi) / 2, false
	}
	switch {
	case s.lo > 0 && s.hi == 0:
		return up(s.lo)
	case s.lo > 0:
		return bisect(s.lo)
	case s.hi == 0 && s.floor == 0:
		return s.start, false
	case s.hi == 0:
		return up(s.floor)
	case s.floor > 0:
		return bisect(s.floor)
	case s.hi <= s.min:
		return 0, true
	}
	return max(s.hi/2, s.min), false
}

// record takes a step's outcome at rate into the bracket.
func (s *search) record(rate float64, o outcome) {
	switch {
	case o == passed:
		s.lo = max(s.lo, rate)
	case o == sloOnly && s.lo == 0:
		s.floor = max(s.floor, rate)
	case s.hi == 0 || rate < s.hi:
		s.hi = rate
	}
}

// lagTrend fits a least-squares line to the lag of the samples in the
// second half of a step of the given length (the first half holds the
// sink group's start), and returns its slope in ticks/s and the slope's
// standard error (0 with fewer than 3 samples).
func lagTrend(series []result.Sample, length time.Duration) (slope, stderr float64) {
	var ts, ys []float64
	half, end := length.Seconds()/2, length.Seconds()+0.5
	for _, s := range series {
		if s.T >= half && s.T <= end && s.TargetRate > 0 {
			ts, ys = append(ts, s.T), append(ys, float64(s.Lag))
		}
	}
	n := float64(len(ts))
	if n < 2 {
		return 0, 0
	}
	var mt, my float64
	for i := range ts {
		mt, my = mt+ts[i], my+ys[i]
	}
	mt, my = mt/n, my/n
	var sxx, sxy float64
	for i := range ts {
		sxx += (ts[i] - mt) * (ts[i] - mt)
		sxy += (ts[i] - mt) * (ys[i] - my)
	}
	if sxx == 0 {
		return 0, 0
	}
	slope = sxy / sxx
	if n < 3 {
		return slope, 0
	}
	var sse float64
	for i := range ts {
		r := ys[i] - my - slope*(ts[i]-mt)
		sse += r * r
	}
	return slope, math.Sqrt(sse / (n - 2) / sxx)
}

// lagGrew decides whether lag grew over a step at rate: its slope exceeds
// 1% of the rate and twice its standard error (a batch's sawtooth is not a
// trend), and the lag at the end exceeds what the open batches and the
// uploads in flight hold when the sink keeps up (allowance ticks).
func lagGrew(slope, stderr float64, lastLag int64, rate, allowance float64) bool {
	return slope > 0.01*rate && slope > 2*stderr && float64(lastLag) > allowance
}

// Reasons a step failed, in the order a step is judged; the first is its
// failure's kind.
const (
	failRate   = "rate not held"
	failLag    = "lag grew"
	failSLO    = "slo"
	failVerify = "not verified"
)

// judge returns a step's outcome and the reasons of a failure.
func judge(held bool, achieved, rate float64, grew bool, slope float64, slo []string, v result.Verify) (outcome, []string) {
	var why []string
	if !held {
		why = append(why, fmt.Sprintf("%s (achieved %s of %s/s)", failRate, result.Thousands(achieved), result.Thousands(rate)))
	}
	if grew {
		why = append(why, fmt.Sprintf("%s by %s ticks/s", failLag, result.Thousands(math.Round(slope))))
	}
	why = append(why, slo...)
	if !v.OK {
		why = append(why, failVerify+": "+v.Problem)
	}
	switch {
	case len(why) == 0:
		return passed, nil
	case held && !grew && v.OK:
		return sloOnly, why
	}
	return overloaded, why
}

// saturation names what gave out first at the lowest failing step, from
// its figures against the highest passing one (or the first step): the
// process's CPU near its cores, S3 uploads slowing, the sink's lag, the
// producer, or only the SLO.
func saturation(pass, fail *result.CeilingStep) string {
	if fail == nil {
		return ""
	}
	switch {
	case fail.CPUUtil >= 0.9:
		return fmt.Sprintf("cpu: the process used %.0f%% of its cores at %s/s", 100*fail.CPUUtil, result.Thousands(fail.Rate))
	case fail.MachineCPUUtil >= 0.9:
		return fmt.Sprintf("cpu: the machine's cores were %.0f%% busy at %s/s, the process using %.0f%% (the rest: other processes, e.g. a local broker and S3 server)",
			100*fail.MachineCPUUtil, result.Thousands(fail.Rate), 100*fail.CPUUtil)
	case pass != nil && pass.Upload.P99 > 0 && fail.Upload.P99 >= 2*pass.Upload.P99:
		return fmt.Sprintf("s3 uploads: upload p99 %s ms at %s/s against %s ms at %s/s", result.Millis(fail.Upload.P99), result.Thousands(fail.Rate), result.Millis(pass.Upload.P99), result.Thousands(pass.Rate))
	case fail.LagGrew:
		return fmt.Sprintf("sink: consumer lag grew %s ticks/s at %s/s with cpu at %.0f%% and uploads steady", result.Thousands(math.Round(fail.LagSlope)), result.Thousands(fail.Rate), 100*fail.CPUUtil)
	case !fail.Producer.RateHeld:
		return fmt.Sprintf("producer: achieved %s of %s/s with cpu at %.0f%%", result.Thousands(fail.Producer.AchievedRate), result.Thousands(fail.Rate), 100*fail.CPUUtil)
	}
	return "latency slo only: nothing saturated that the figures tell"
}
