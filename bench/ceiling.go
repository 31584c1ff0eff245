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

	"github.com/tickbench/tickbench/bench/ceiling"
	"github.com/tickbench/tickbench/bench/result"
)

// CeilingConfig is a search for the highest rate each strategy sustains.
// Start from DefaultCeiling.
type CeilingConfig struct {
	// Run holds everything but the rate: strategies (searched one after
	// the other, same seed), stack, model, policy. Its Rate, Duration,
	// Ticks and Profile are set by each step.
	Run Config
	ceiling.Params
	// KeepObjects keeps each step's objects in S3 after verification
	// (default: deleted, so a long search does not fill the disk).
	KeepObjects bool
}

// DefaultCeiling returns the documented defaults.
func DefaultCeiling() CeilingConfig {
	run := Default()
	run.Name = "ceiling"
	return CeilingConfig{Run: run, Params: ceiling.DefaultParams()}
}

// Validate names the first bad value and its allowed range.
func (c CeilingConfig) Validate() error {
	if err := c.Params.Validate(); err != nil {
		return err
	}
	switch {
	case c.Run.Profile != nil || c.Run.Ticks > 0:
		return errors.New("rate profile or ticks: the ceiling search sets the rate of each step; give neither")
	case c.Run.Mode != result.ModeSequential:
		return fmt.Errorf("mode %q: the ceiling searches strategies one after the other (%s)", c.Run.Mode, result.ModeSequential)
	case c.Run.JoinAt > 0:
		return fmt.Errorf("join-at %v: not with the ceiling search (a rebalance mid-step is not the pipeline's capacity)", c.Run.JoinAt)
	}
	run := c.Run
	run.Rate, run.Duration = c.Start, c.Step
	return run.Validate()
}

// RunCeiling searches, for each strategy in turn on one warm stack (the
// broker, the S3 server, the topic and the process stay up), the highest
// rate it sustains. Each step is a phase of its own at a constant rate: a
// consumer group starting at the topic's end and a key prefix of its own,
// drained and verified like a bench run. Steps are printed to w as they
// end. The result's Verified is false if any step's ticks did not land
// exactly once.
func RunCeiling(ctx context.Context, c CeilingConfig, w io.Writer) (*result.Result, error) {
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
	res.Ceiling = &result.Ceiling{SLO: c.SLO.String(), StartRate: c.Start, StepS: c.Step.Seconds(), Resolution: c.Resolution.String(),
		MaxDurationS: c.MaxDuration.Seconds()}
	res.Verified = true
	for i, s := range strategies {
		// Each strategy gets an even share of what is left of the bound.
		share := time.Until(deadline) / time.Duration(len(strategies)-i)
		fmt.Fprintf(w, "== %s: slo %s, steps of %v from %s/s, resolution %s, %v of the bound\n",
			s.Name, c.SLO, c.Step, result.Thousands(c.Start), c.Resolution, share.Round(time.Second))
		step := func(ctx context.Context, n int, rate float64, deadline time.Time) (result.CeilingStep, error) {
			return c.step(ctx, r, s, n, rate, deadline)
		}
		cs, err := ceiling.Search(ctx, c.Params, s.Name, time.Now().Add(share), func() bool { return stopped(c.Run.Stop) }, step, w)
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

// step runs strategy s at rate for the step's length, ending production
// early when the step clearly fails (less than half of what was produced
// has landed, beyond what the batches hold) or the deadline passes, then
// drains and verifies it; ceiling.Search judges it.
func (c CeilingConfig) step(ctx context.Context, r *runner, s Strategy, n int, rate float64, deadline time.Time) (result.CeilingStep, error) {
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
		return result.CeilingStep{}, err
	}
	held := func(records int) float64 { return float64(int(cfg.Partitions)+sc.Uploaders) * float64(records) }

	end := &stepEnd{stop: stop}
	rr.cfg.AfterProduce = end.over
	rr.onSample = func(_ int, smp result.Sample) {
		lag := float64(smp.Lag)
		if smp.TargetRate > 0 && smp.T >= 3 && lag > held(sc.Policy.Records) && lag > rate*smp.T/2 {
			end.end(fmt.Sprintf("at %.0fs: %s ticks not landed, over half of those produced", smp.T, result.Thousands(lag)))
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
			end.end(ceiling.EndedInterrupted)
		case <-t.C:
			end.end(ceiling.EndedDeadline)
		}
	}()

	out, err := rr.phase(ctx, []Strategy{s})
	if err != nil {
		return result.CeilingStep{}, fmt.Errorf("ceiling step %d (%s at %s/s): %w", n, s.Name, result.Thousands(rate), err)
	}
	res := out[0]
	if !c.KeepObjects && res.Verify.OK {
		if err := deletePrefix(ctx, r.st.S3, r.st.Bucket, res.Prefix); err != nil {
			return result.CeilingStep{}, err
		}
	}
	why, produced := end.reason(begin, c.Step)
	st := stepFigures(rate, res, why, produced)
	records := float64(sc.Policy.Records)
	if res.BytesPerTick > 0 {
		records = min(records, float64(sc.Policy.Bytes)/res.BytesPerTick)
	}
	st.LagAllowance = held(int(records))
	st.ElapsedS = time.Since(begin).Seconds()
	return st, nil
}

// stepEnd ends a step's production early, once, for the first reason
// given before production is over.
type stepEnd struct {
	stop chan struct{}

	mu      sync.Mutex
	why     string
	at      time.Time
	overNow bool // production is over: later reasons do not end it
}

func (e *stepEnd) end(why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.why == "" && !e.overNow {
		e.why, e.at = why, time.Now()
		close(e.stop)
	}
}

func (e *stepEnd) over() {
	e.mu.Lock()
	e.overNow = true
	e.mu.Unlock()
}

// reason is why production ended early ("" if it did not) and how long it
// ran of a step that began at begin and was to run for length.
func (e *stepEnd) reason(begin time.Time, length time.Duration) (string, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.why != "" {
		return e.why, min(length, e.at.Sub(begin))
	}
	return "", length
}

// stepFigures are a step's figures from its phase's result: production
// lasted produced, and ended early for why ("" if it did not).
func stepFigures(rate float64, res result.StrategyResult, why string, produced time.Duration) result.CeilingStep {
	st := result.CeilingStep{Rate: rate, Producer: res.Producer, LandedRate: res.SustainedRate, EndToEnd: res.EndToEnd, Upload: res.Upload,
		Queryable: res.Queryable, CPUSecondsPerMillion: res.CPUSecondsPerMillion, PeakRSSBytes: res.PeakRSSBytes, MachineCPUUtil: res.MachineCPUUtil, DrainS: res.DrainS,
		Objects: res.Objects, PutRequests: res.PutRequests, S3Retries: res.S3Retries, EndedEarly: why,
		Verify: res.Verify, Series: res.Series}
	if wall := produced.Seconds() + res.DrainS; wall > 0 {
		cpu := res.CPUSecondsPerMillion * float64(res.Producer.Acked) / 1e6
		st.CPUUtil = cpu / wall / float64(runtime.NumCPU())
	}
	return st
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
