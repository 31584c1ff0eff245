package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/ceiling"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/stack/s3lite"
)

// TestCeilingKnownAnswer: json-per-tick with one uploader puts one tick at
// a time, and every request to the S3 server takes 100 ms, so no more than
// 10 ticks/s can land. The search must find that within its resolution:
// the highest passing rate at most 10/s and no more than the resolution
// below it, the lowest failing rate above 10/s, every step verified.
// Start and resolution keep the steps off the knee (3, 6, 12, then 9),
// where a short step cannot tell a few percent of overload.
func TestCeilingKnownAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const limit = 10.0 // 1 / 100 ms
	c := DefaultCeiling()
	c.Run.Strategies = []string{"json-per-tick"}
	c.Run.Uploaders = 1
	c.Run.Stack.DataDir = t.TempDir()
	c.Run.Stack.Faults = s3lite.Faults{Latency: 100 * time.Millisecond}
	c.Run.DrainTimeout = 30 * time.Second
	c.SLO = ceiling.SLO{{Metric: "e2e", Quantile: "p99", Below: 500 * time.Millisecond}}
	c.Start, c.Step, c.Resolution, c.MaxDuration = 3, 5*time.Second, ceiling.Resolution{PerSecond: 3}, 2*time.Minute
	var out bytes.Buffer
	res, err := RunCeiling(ctx, c, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if len(res.Ceiling.Searches) != 1 {
		t.Fatalf("%d searches, want 1", len(res.Ceiling.Searches))
	}
	s := res.Ceiling.Searches[0]
	if !s.Complete || s.Rate > limit || limit-s.Rate > s.Resolution || s.Upper <= limit || s.Upper-s.Rate > s.Resolution {
		t.Errorf("answer %s (rate %v, upper %v, resolution %v): want a complete search with the rate in [%v, %v] and the first failure above %v",
			s.Answer(), s.Rate, s.Upper, s.Resolution, limit-s.Resolution, limit, limit)
	}
	if !res.Verified {
		t.Errorf("not verified")
	}
	for _, st := range s.Steps {
		if !st.Verify.OK || st.Verify.Unique != int64(st.Producer.Acked) || st.Producer.Acked == 0 {
			t.Errorf("step at %v/s: verify %+v of %d acked", st.Rate, st.Verify, st.Producer.Acked)
		}
		if st.Verdict == result.VerdictFail && st.Rate <= limit {
			t.Errorf("step at %v/s, under the limit, failed: %v", st.Rate, st.Reasons)
		}
	}
	if !strings.Contains(out.String(), "ceiling json-per-tick: ") {
		t.Errorf("no answer line in:\n%s", out.String())
	}
	// The result file holds every step and reads back.
	path, err := res.WriteFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	back, err := result.ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Schema != result.SchemaVersion || back.Ceiling == nil || len(back.Ceiling.Searches[0].Steps) != len(s.Steps) {
		t.Errorf("read back %s with %+v", back.Schema, back.Ceiling)
	}
}

func TestCeilingValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*CeilingConfig)
		want string
	}{
		{func(c *CeilingConfig) { c.SLO = nil }, "slo: none given"},
		{func(c *CeilingConfig) { c.Start = 0 }, "start 0: allowed 1..10000000 ticks/s"},
		{func(c *CeilingConfig) { c.Step = time.Second }, "step 1s: allowed 2s..10m"},
		{func(c *CeilingConfig) { c.MaxDuration = 10 * time.Second }, "max-duration 10s: allowed step 15s..24h"},
		{func(c *CeilingConfig) { c.Resolution = ceiling.Resolution{} }, "resolution 0: allowed"},
		{func(c *CeilingConfig) { c.Run.Mode = result.ModeParallel }, `mode "parallel": the ceiling searches strategies one after the other`},
		{func(c *CeilingConfig) { c.Run.Strategies = []string{"csv"} }, `strategy "csv": allowed`},
		{func(c *CeilingConfig) { c.Run.Uploaders = 300 }, "uploaders 300: allowed"},
	} {
		c := DefaultCeiling()
		tc.mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
	if err := DefaultCeiling().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
