package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// A short soak on the embedded stack: the S3 faults are injected in turn
// and healed, every tick lands once, each sample carries the process's
// memory, goroutines and open files, and the summary shows the soak.
func TestSoakEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := DefaultSoak()
	c.Run = testConfig(t)
	c.Run.Strategies = []string{"jsonl"}
	c.Run.Duration = 14 * time.Second
	c.FaultEvery, c.FaultFor, c.Window = 4*time.Second, time.Second, 4*time.Second
	c.Heap = &SoakHeap{}
	res, err := RunSoak(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"first": c.Heap.First.Bytes(), "last": c.Heap.Last.Bytes()} {
		// A pprof profile: gzipped protobuf, samples and all.
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Errorf("heap profile of the %s window (%d bytes): %v", name, len(b), err)
			continue
		}
		if raw, err := io.ReadAll(zr); err != nil || len(raw) < 100 {
			t.Errorf("heap profile of the %s window: %d bytes, %v; want a pprof heap profile", name, len(raw), err)
		}
	}
	s := res.Soak
	if !res.Verified || s == nil || len(s.Faults) != 3 || len(s.Watched) != 5 {
		t.Fatalf("verified %v, soak %+v: want every tick once, 3 faults and 5 watched figures", res.Verified, s)
	}
	for i, f := range s.Faults {
		if want := []string{"s3-errors", "s3-stall", "s3-errors"}[i]; f.Name != want || f.Problem != "" || f.HealedS < f.AtS+1 {
			t.Errorf("fault %d: %+v, want %s injected and healed a second later", i, f, want)
		}
	}
	if iv := res.Strategies[0].Intervals; len(iv.E2E)+len(iv.Upload)+len(iv.Publish) > 0 {
		t.Errorf("a soak kept %d+%d+%d interval histograms: its memory would grow with its length", len(iv.E2E), len(iv.Upload), len(iv.Publish))
	}
	if st := res.Strategies[0]; st.S3Faults.Errors503 == 0 || st.S3Faults.Stalled == 0 {
		t.Errorf("s3 faults %+v: want 503s and stalls injected", st.S3Faults)
	}
	for _, g := range s.Watched[:4] {
		if g.First <= 0 || g.Last <= 0 {
			t.Errorf("%s: first %v, last %v: want the process's figures in the samples", g.Name, g.First, g.Last)
		}
	}
	var out bytes.Buffer
	res.PrintSummary(&out)
	for _, want := range []string{"soak       a fault every 4s for 1s: s3-errors at ", "rss ", "goroutines ", "open files ", "over time ", "0-4s "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, &out)
		}
	}
}

// The judgement: steady figures hold; memory grown past the bound, a fault
// that failed or a landing that did not verify each fail the soak, named.
func TestSoakJudge(t *testing.T) {
	c := DefaultSoak()
	c.Run.Duration = 30 * time.Minute
	series := func(rss func(t float64) int64) []result.Sample {
		var out []result.Sample
		for i := 1; i <= 1800; i++ {
			lag := int64(1000 + 500*(i%10)) // a sawtooth of batches
			out = append(out, result.Sample{T: float64(i), TargetRate: 1000, Lag: lag, RSSBytes: rss(float64(i)), Goroutines: 80, OpenFiles: 40})
		}
		return out
	}
	ok := result.StrategyResult{Verify: result.Verify{OK: true}, Series: series(func(float64) int64 { return 100 << 20 })}
	if s := c.judge(ok, nil); !s.OK || s.WindowS != 300 || s.WarmupS != 60 {
		t.Fatalf("steady: %+v, want ok over 5 m windows after 60 s", s)
	}
	leak := ok
	leak.Series = series(func(t float64) int64 { return 100<<20 + int64(t)*(20<<10) }) // +20 KiB/s
	if s := c.judge(leak, nil); s.OK || !strings.HasPrefix(s.Problem, "rss grew from ") {
		t.Errorf("leak: %+v, want rss named", s)
	}
	if s := c.judge(ok, []result.SoakFault{{Name: "broker-restart 1", AtS: 300, Problem: "kafka.sh failed"}}); s.OK || !strings.Contains(s.Problem, "broker-restart 1 at 300s") {
		t.Errorf("failed fault: %+v", s)
	}
	bad := ok
	bad.Verify = result.Verify{Problem: "3 of 10 ticks missing"}
	if s := c.judge(bad, nil); s.OK || !strings.Contains(s.Problem, "3 of 10 ticks missing") {
		t.Errorf("unverified: %+v", s)
	}
	c.Faults = []string{"dns"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `fault "dns": allowed broker-restart, s3-errors, s3-stall`) {
		t.Errorf("Validate = %v", err)
	}
}
