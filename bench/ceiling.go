package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tickbench/tickbench/gen"
)

// CeilingConfig is a search for the highest rate each strategy sustains.
// Start from DefaultCeiling.
type CeilingConfig struct {
	// Run holds everything but the rate: strategies (searched one after
	// the other, same seed), stack, model, policy. Its Rate, Duration,
	// Ticks and Profile are set by each step.
	Run Config
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
	// KeepObjects keeps each step's objects in S3 after verification
	// (default: deleted, so a long search does not fill the disk).
	KeepObjects bool
}

// DefaultCeiling returns the documented defaults.
func DefaultCeiling() CeilingConfig {
	run := Default()
	run.Name = "ceiling"
	return CeilingConfig{Run: run, SLO: SLO{{"e2e", "p99", 2 * time.Second}}, Start: 10_000, Step: 15 * time.Second,
		Resolution: DefaultResolution, MaxDuration: 10 * time.Minute}
}

// Validate names the first bad value and its allowed range.
func (c CeilingConfig) Validate() error {
	switch {
	case len(c.SLO) == 0:
		return fmt.Errorf("slo: none given; e.g. %s", DefaultSLO)
	case !(c.Start >= 1 && c.Start <= gen.MaxRate):
		return fmt.Errorf("start %v: allowed 1..%d ticks/s", c.Start, gen.MaxRate)
	case c.Step < 2*time.Second || c.Step > 10*time.Minute:
		return fmt.Errorf("step %v: allowed 2s..10m (lag is judged over its second half, a second at a time)", c.Step)
	case c.MaxDuration < c.Step || c.MaxDuration > 24*time.Hour:
		return fmt.Errorf("max-duration %v: allowed step %v..24h", c.MaxDuration, c.Step)
	case c.Resolution.Share < 0 || c.Resolution.Share > 0.5 || (c.Resolution.Share == 0 && c.Resolution.PerSecond < 1):
		return fmt.Errorf("resolution %s: allowed 0.1%%..50%% of the answer, or 1..%d ticks/s", c.Resolution, gen.MaxRate)
	case c.Run.Profile != nil || c.Run.Ticks > 0:
		return errors.New("rate profile or ticks: the ceiling search sets the rate of each step; give neither")
	case c.Run.Mode != ModeSequential:
		return fmt.Errorf("mode %q: the ceiling searches strategies one after the other (%s)", c.Run.Mode, ModeSequential)
	case c.Run.JoinAt > 0:
		return fmt.Errorf("join-at %v: not with the ceiling search (a rebalance mid-step is not the pipeline's capacity)", c.Run.JoinAt)
	}
	run := c.Run
	run.Rate, run.Duration = c.Start, c.Step
	return run.Validate()
}

// Ceiling is a search's part of a result file (schema v1.3).
type Ceiling struct {
	SLO          string  `json:"slo"`
	StartRate    float64 `json:"start_rate"`
	StepS        float64 `json:"step_s"`
	Resolution   string  `json:"resolution"`
	MaxDurationS float64 `json:"max_duration_s"`
	// Searches holds one search per strategy, in the order searched.
	Searches []CeilingSearch `json:"searches"`
}

// CeilingSearch is one strategy's search and its answer.
type CeilingSearch struct {
	Strategy string `json:"strategy"`
	// Rate is the highest rate that passed (0: none did); Upper the
	// lowest that failed above it (0: none did). Within the resolution
	// when Complete.
	Rate  float64 `json:"rate"`
	Upper float64 `json:"upper"`
	// Resolution is the bracket's stated width at Rate, ticks/s.
	Resolution float64 `json:"resolution"`
	// Complete is false when the search ended before its resolution;
	// Stopped says why (max-duration, interrupted, top of the range).
	Complete bool   `json:"complete"`
	Stopped  string `json:"stopped,omitempty"`
	// Saturated names what gave out first at Upper, if the figures tell.
	Saturated string        `json:"saturated,omitempty"`
	ElapsedS  float64       `json:"elapsed_s"`
	Steps     []CeilingStep `json:"steps"`
}

// Verdicts of a step.
const (
	VerdictPass = "pass"
	VerdictFail = "fail" // the producer did not hold the rate, lag grew, or it did not verify
	VerdictSLO  = "slo"  // kept up but missed the SLO
	VerdictCut  = "cut"  // ended by max-duration or an interrupt: not judged
)

// CeilingStep is one constant-rate step of a search.
type CeilingStep struct {
	Rate     float64  `json:"rate"`
	Producer Producer `json:"producer"`
	// LandedRate is what landed per second over production and drain.
	LandedRate float64 `json:"landed_rate"`
	// LagSlope is the least-squares slope of the per-second lag over the
	// step's second half (ticks/s) and LagSlopeErr its standard error;
	// LagEnd the lag at the end of production; LagAllowance what open
	// batches and uploads in flight hold when the sink keeps up.
	LagSlope     float64 `json:"lag_slope"`
	LagSlopeErr  float64 `json:"lag_slope_stderr"`
	LagEnd       int64   `json:"lag_end"`
	LagAllowance float64 `json:"lag_allowance"`
	LagGrew      bool    `json:"lag_grew"`
	EndToEnd     Latency `json:"end_to_end"`
	Upload       Latency `json:"upload"`
	// Queryable is the step's queryable latency (schema v1.4; see
	// StrategyResult.Queryable).
	Queryable Latency `json:"queryable"`
	// CPUUtil is the process's CPU time over production and drain, as a
	// share of all its cores (1 = every core busy).
	CPUUtil float64 `json:"cpu_util"`
	// MachineCPUUtil is the same for the whole machine, any process's (a
	// local broker and S3 server are not in the process).
	MachineCPUUtil       float64 `json:"machine_cpu_util,omitempty"`
	CPUSecondsPerMillion float64 `json:"cpu_s_per_million"`
	PeakRSSBytes         int64   `json:"peak_rss_bytes"`
	DrainS               float64 `json:"drain_s"`
	Objects              int64   `json:"objects"`
	PutRequests          int64   `json:"put_requests"`
	S3Retries            int64   `json:"s3_retries"`
	// EndedEarly says why production stopped before the step's length.
	EndedEarly string   `json:"ended_early,omitempty"`
	Verdict    string   `json:"verdict"`
	Reasons    []string `json:"reasons,omitempty"`
	Verify     Verify   `json:"verify"`
	Series     []Sample `json:"series,omitempty"`
	ElapsedS   float64  `json:"elapsed_s"` // the whole step: start, production, drain, verification
}

// RunCeiling searches, for each strategy in turn on one warm stack (the
// broker, the S3 server, the topic and the process stay up), the highest
// rate it sustains. Each step is a phase of its own at a constant rate: a
// consumer group starting at the topic's end and a key prefix of its own,
// drained and verified like a bench run. Steps are printed to w as they
// end. The result's Verified is false if any step's ticks did not land
// exactly once.
func RunCeiling(ctx context.Context, c CeilingConfig, w io.Writer) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	begin := time.Now()
	deadline := begin.Add(c.MaxDuration)
	strategies, err := c.Run.strategies()
	if err != nil {
		return nil, err
	}
	run := c.Run
	run.Rate, run.Duration = c.Start, c.Step
	r, res, err := setUp(ctx, run)
	if err != nil {
		return nil, err
	}
	defer r.close()
	res.Workload.Rate, res.Workload.DurationS = 0, 0 // the steps hold them
	res.Ceiling = &Ceiling{SLO: c.SLO.String(), StartRate: c.Start, StepS: c.Step.Seconds(), Resolution: c.Resolution.String(),
		MaxDurationS: c.MaxDuration.Seconds()}
	res.Verified = true
	for i, s := range strategies {
		// Each strategy gets an even share of what is left of the bound.
		share := time.Until(deadline) / time.Duration(len(strategies)-i)
		fmt.Fprintf(w, "== %s: slo %s, steps of %v from %s/s, resolution %s, %v of the bound\n",
			s.Name, c.SLO, c.Step, num(c.Start), c.Resolution, share.Round(time.Second))
		cs, err := c.search(ctx, r, s, time.Now().Add(share), w)
		if err != nil {
			return nil, err
		}
		res.Ceiling.Searches = append(res.Ceiling.Searches, cs)
		for _, st := range cs.Steps {
			res.Verified = res.Verified && st.Verify.OK
		}
		if ctx.Err() != nil || stopped(c.Run.Stop) {
			break
		}
	}
	res.Finished = time.Now().UTC()
	return res, nil
}

// stepOverhead is the first guess of what a step takes beyond its length
// (group join, drain, verification); later steps use the last one's.
const stepOverhead = 5 * time.Second

// search runs one strategy's steps until the bracket is within the
// resolution or the time left (until deadline) cannot hold another step.
func (c CeilingConfig) search(ctx context.Context, r *runner, s Strategy, deadline time.Time, w io.Writer) (CeilingSearch, error) {
	begin := time.Now()
	cs := CeilingSearch{Strategy: s.Name}
	sr := &search{start: c.Start, min: 1, max: gen.MaxRate, res: c.Resolution}
	overhead := stepOverhead
	for n := 1; ; n++ {
		rate, done := sr.next()
		switch {
		case done:
			cs.Complete = true
			if sr.lo >= sr.max {
				cs.Complete, cs.Stopped = false, fmt.Sprintf("top of the range: passed at %s/s", num(sr.max))
			}
		case stopped(c.Run.Stop) || ctx.Err() != nil:
			cs.Stopped = "interrupted"
		case time.Now().Add(c.Step + overhead).After(deadline):
			cs.Stopped = fmt.Sprintf("max-duration: no time left for a step of %v (+%v to drain and verify)", c.Step, overhead.Round(time.Second))
		}
		if done || cs.Stopped != "" {
			break
		}
		st, err := c.step(ctx, r, s, n, rate, deadline)
		if err != nil {
			return cs, err
		}
		overhead = max(time.Duration(st.ElapsedS*float64(time.Second))-c.Step, time.Second)
		cs.Steps = append(cs.Steps, st)
		printStep(w, n, st)
		if st.Verdict == VerdictCut {
			cs.Stopped = "max-duration: the last step was cut short"
			if stopped(c.Run.Stop) {
				cs.Stopped = "interrupted"
			}
			break
		}
		sr.record(rate, map[string]outcome{VerdictPass: passed, VerdictSLO: sloOnly, VerdictFail: overloaded}[st.Verdict])
	}
	cs.Rate, cs.Upper = sr.lo, sr.hi
	cs.Resolution = c.Resolution.at(max(sr.lo, sr.floor))
	var pass, fail *CeilingStep
	for i := range cs.Steps {
		st := &cs.Steps[i]
		if st.Rate == sr.lo && st.Verdict == VerdictPass {
			pass = st
		}
		if st.Rate == sr.hi && st.Verdict != VerdictPass && st.Verdict != VerdictCut {
			fail = st
		}
	}
	if pass == nil && len(cs.Steps) > 0 {
		pass = &cs.Steps[0]
	}
	cs.Saturated = saturation(pass, fail)
	cs.ElapsedS = time.Since(begin).Seconds()
	printAnswer(w, cs)
	return cs, nil
}

// step runs strategy s at rate for the step's length, ending production
// early when the step clearly fails (less than half of what was produced
// has landed, beyond what the batches hold) or the deadline passes, then
// drains, verifies and judges it.
func (c CeilingConfig) step(ctx context.Context, r *runner, s Strategy, n int, rate float64, deadline time.Time) (CeilingStep, error) {
	begin := time.Now()
	cfg := r.cfg
	cfg.Rate, cfg.Duration = rate, c.Step
	if !cfg.ProgressLive {
		cfg.Progress = nil // a line a step, not a line a second
	}
	stop := make(chan struct{})
	cfg.Stop = stop
	rr := *r
	rr.cfg, rr.step, rr.noLake = cfg, fmt.Sprintf("step-%02d", n), true
	sc, err := (&phase{runner: &rr}).sinkConfig(s)
	if err != nil {
		return CeilingStep{}, err
	}
	held := func(records int) float64 { return float64(int(cfg.Partitions)+sc.Uploaders) * float64(records) }

	var mu sync.Mutex
	var ended string // why production ended early, and when
	var endedAt time.Time
	var over bool // production is over: later reasons do not end it
	endFor := func(why string) {
		mu.Lock()
		defer mu.Unlock()
		if ended == "" && !over {
			ended, endedAt = why, time.Now()
			close(stop)
		}
	}
	rr.cfg.AfterProduce = func() {
		mu.Lock()
		over = true
		mu.Unlock()
	}
	rr.onSample = func(_ int, smp Sample) {
		lag := float64(smp.Lag)
		if smp.TargetRate > 0 && smp.T >= 3 && lag > held(sc.Policy.Records) && lag > rate*smp.T/2 {
			endFor(fmt.Sprintf("at %.0fs: %s ticks not landed, over half of those produced", smp.T, num(lag)))
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-done:
		case <-r.cfg.Stop:
			endFor("interrupted")
		case <-t.C:
			endFor("max-duration reached")
		}
	}()

	out, err := rr.phase(ctx, []Strategy{s})
	if err != nil {
		return CeilingStep{}, fmt.Errorf("ceiling step %d (%s at %s/s): %w", n, s.Name, num(rate), err)
	}
	res := out[0]
	if !c.KeepObjects && res.Verify.OK {
		if err := deletePrefix(ctx, r.st.S3, r.st.Bucket, res.Prefix); err != nil {
			return CeilingStep{}, err
		}
	}
	mu.Lock()
	why, produced := ended, c.Step
	if why != "" {
		produced = min(produced, endedAt.Sub(begin))
	}
	mu.Unlock()
	st := CeilingStep{Rate: rate, Producer: res.Producer, LandedRate: res.SustainedRate, EndToEnd: res.EndToEnd, Upload: res.Upload,
		Queryable: res.Queryable, CPUSecondsPerMillion: res.CPUSecondsPerMillion, PeakRSSBytes: res.PeakRSSBytes, MachineCPUUtil: res.MachineCPUUtil, DrainS: res.DrainS,
		Objects: res.Objects, PutRequests: res.PutRequests, S3Retries: res.S3Retries, EndedEarly: why,
		Verify: res.Verify, Series: res.Series}
	if wall := produced.Seconds() + res.DrainS; wall > 0 {
		cpu := res.CPUSecondsPerMillion * float64(res.Producer.Acked) / 1e6
		st.CPUUtil = cpu / wall / float64(runtime.NumCPU())
	}
	st.LagSlope, st.LagSlopeErr = lagTrend(res.Series, c.Step)
	for _, smp := range res.Series {
		if smp.TargetRate > 0 {
			st.LagEnd = smp.Lag
		}
	}
	records := float64(sc.Policy.Records)
	if res.BytesPerTick > 0 {
		records = min(records, float64(sc.Policy.Bytes)/res.BytesPerTick)
	}
	st.LagAllowance = held(int(records))
	st.LagGrew = lagGrew(st.LagSlope, st.LagSlopeErr, st.LagEnd, rate, st.LagAllowance)
	o, reasons := judge(res.Producer.RateHeld, res.Producer.AchievedRate, rate, st.LagGrew, st.LagSlope,
		c.SLO.misses(res.EndToEnd, res.Upload, res.Producer.Publish, res.Queryable), res.Verify)
	st.Reasons = reasons
	st.Verdict = [...]string{passed: VerdictPass, sloOnly: VerdictSLO, overloaded: VerdictFail}[o]
	if why == "interrupted" || why == "max-duration reached" {
		st.Verdict = VerdictCut
	}
	st.ElapsedS = time.Since(begin).Seconds()
	return st, nil
}

// deletePrefix removes a verified step's objects.
func deletePrefix(ctx context.Context, cl *s3.Client, bucket, prefix string) error {
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s to delete: %w", bucket, prefix, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err == nil && len(out.Errors) > 0 {
			err = fmt.Errorf("%d objects not deleted, first %s: %s", len(out.Errors), deref(out.Errors[0].Key), deref(out.Errors[0].Message))
		}
		if err != nil {
			return fmt.Errorf("delete s3://%s/%s: %w", bucket, prefix, err)
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stepHeader is the header of the lines printStep writes.
const stepHeader = "%-4s %11s %11s %8s %16s %9s %9s %7s  %s\n"

// printStep writes one step's line: rate, achieved, lag trend, e2e p99 and
// the verdict with its reasons.
func printStep(w io.Writer, n int, st CeilingStep) {
	if n == 1 {
		fmt.Fprintf(w, stepHeader, "step", "rate/s", "achieved/s", "landed/s", "lag trend/s", "e2e p99", "upl p99", "cpu", "verdict")
		fmt.Fprintln(w, "(cpu: this process / the whole machine, share of all cores, over production and drain)")
	}
	verdict := st.Verdict
	if len(st.Reasons) > 0 {
		verdict += ": " + joinReasons(st.Reasons)
	}
	if st.EndedEarly != "" {
		verdict += " (ended early " + st.EndedEarly + ")"
	}
	trend := fmt.Sprintf("%+.0f±%.0f", st.LagSlope, st.LagSlopeErr)
	fmt.Fprintf(w, stepHeader, fmt.Sprint(n), num(st.Rate), num(st.Producer.AchievedRate), num(st.LandedRate), trend,
		ms(st.EndToEnd.P99)+"ms", ms(st.Upload.P99)+"ms", fmt.Sprintf("%.0f/%.0f%%", 100*st.CPUUtil, 100*st.MachineCPUUtil), verdict)
}

func joinReasons(rs []string) string {
	out := rs[0]
	for _, r := range rs[1:] {
		out += "; " + r
	}
	return out
}

// printAnswer writes a search's answer with its resolution, or the best
// bound known when it was cut.
func printAnswer(w io.Writer, cs CeilingSearch) {
	fmt.Fprintf(w, "ceiling %s: %s\n", cs.Strategy, cs.Answer())
	if cs.Saturated != "" {
		fmt.Fprintf(w, "  saturated first: %s\n", cs.Saturated)
	}
}

// Answer states the search's result in a line: the rate with its
// resolution, or the bound known, marked, when the search did not finish.
func (cs CeilingSearch) Answer() string {
	bracket := "none failed"
	if cs.Upper > 0 {
		bracket = "failed at " + num(cs.Upper) + "/s"
	}
	var a string
	switch {
	case cs.Rate == 0 && cs.Upper > 0:
		a = fmt.Sprintf("no sustainable rate found: %s", bracket)
	case cs.Rate == 0:
		a = "no step passed yet"
	case cs.Complete:
		a = fmt.Sprintf("%s ticks/s (resolution %s/s: passed at %s/s, %s)", num(cs.Rate), num(cs.Resolution), num(cs.Rate), bracket)
	default:
		a = fmt.Sprintf("at least %s ticks/s (%s)", num(cs.Rate), bracket)
	}
	if !cs.Complete && cs.Stopped != "" {
		a += "  [INCOMPLETE, " + cs.Stopped + "]"
	}
	return a
}

// PrintCeiling writes the answers of every search as one table.
func (r *Result) PrintCeiling(w io.Writer) {
	c := r.Ceiling
	fmt.Fprintf(w, "\nrun        %s  stack %s (kafka=%s s3=%s)  slo %s  steps of %gs, resolution %s\n",
		r.RunID, r.Stack.Name, r.Stack.Kafka, r.Stack.S3, c.SLO, c.StepS, c.Resolution)
	fmt.Fprintf(w, "%-15s %12s %12s %12s %6s %8s  %s\n", "strategy", "ceiling/s", "resolution", "failed at/s", "steps", "time", "saturated first")
	for _, s := range c.Searches {
		rate := num(s.Rate)
		switch {
		case s.Rate == 0:
			rate = "none"
		case !s.Complete:
			rate = ">=" + rate + "*"
		}
		upper := "-"
		if s.Upper > 0 {
			upper = num(s.Upper)
		}
		fmt.Fprintf(w, "%-15s %12s %12s %12s %6d %7.0fs  %s\n", s.Strategy, rate, num(s.Resolution), upper, len(s.Steps), s.ElapsedS, s.Saturated)
	}
	for _, s := range c.Searches {
		if !s.Complete {
			fmt.Fprintf(w, "* %s: incomplete (%s): the best bound known\n", s.Strategy, s.Stopped)
		}
	}
}
