package ceiling

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

func TestParseSLO(t *testing.T) {
	good := map[string]SLO{
		"e2e-p99<2s":                   {{"e2e", "p99", 2 * time.Second}},
		"e2e-p50<500ms, upload-max<1s": {{"e2e", "p50", 500 * time.Millisecond}, {"upload", "max", time.Second}},
		"publish-p99.9<20ms":           {{"publish", "p99.9", 20 * time.Millisecond}},
	}
	for in, want := range good {
		got, err := ParseSLO(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseSLO(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if s, _ := ParseSLO(DefaultSLO); s.String() != DefaultSLO {
		t.Errorf("default round trip: %q", s)
	}
	bad := map[string]string{
		"e2e-p99>2s":   `term "e2e-p99>2s": allowed METRIC-QUANTILE<DURATION`,
		"lag-p99<2s":   `metric "lag": allowed`,
		"e2e-p42<2s":   `quantile "p42": allowed`,
		"e2e-p99<2":    `bound "2": allowed a duration 1µs..1h`,
		"e2e-p99<-1s":  `bound "-1s": allowed`,
		"e2e-p99<2s,,": `term "": allowed`,
	}
	for in, want := range bad {
		_, err := ParseSLO(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `slo "`+in+`"`) {
			t.Errorf("ParseSLO(%q) = %v, want it to name the value and %q", in, err, want)
		}
	}
}

func TestSLOMisses(t *testing.T) {
	slo, _ := ParseSLO("e2e-p99<2s,upload-p50<100ms,queryable-p99<7s")
	ok := result.Latency{P50: 90_000, P99: 1_999_000}
	fresh := result.Latency{P99: 6_999_000}
	if m := slo.misses(ok, ok, result.Latency{}, fresh); len(m) != 0 {
		t.Errorf("misses under the bounds: %v", m)
	}
	over := result.Latency{P50: 100_000, P99: 2_000_000}
	m := slo.misses(over, over, result.Latency{}, result.Latency{P99: 7_000_000})
	if len(m) != 3 || m[0] != "slo e2e-p99 2s >= 2s" || m[1] != "slo upload-p50 100ms >= 100ms" || m[2] != "slo queryable-p99 7s >= 7s" {
		t.Errorf("misses at the bounds: %q", m)
	}
}

func TestParseResolution(t *testing.T) {
	for in, want := range map[string]Resolution{"5%": {Share: 0.05}, "0.5%": {Share: 0.005}, "1000": {PerSecond: 1000}, "2_500": {PerSecond: 2500}} {
		got, err := ParseResolution(in)
		if err != nil || got != want {
			t.Errorf("ParseResolution(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != strings.ReplaceAll(in, "_", "") {
			t.Errorf("%q prints as %q", in, got.String())
		}
	}
	for _, in := range []string{"0%", "51%", "x%", "0", "-5", "1e9", "fast"} {
		if _, err := ParseResolution(in); err == nil || !strings.Contains(err.Error(), `resolution "`+in+`": allowed`) {
			t.Errorf("ParseResolution(%q) = %v", in, err)
		}
	}
}

// drive runs a search against a fake pipeline and returns the rates it
// tried, at most 50.
func drive(s *search, at func(rate float64) outcome) []float64 {
	var tried []float64
	for range 50 {
		r, done := s.next()
		if done {
			return tried
		}
		tried = append(tried, r)
		s.record(r, at(r))
	}
	return tried
}

func TestSearch(t *testing.T) {
	// capacity: overloaded above it; floor: below it the SLO fails on
	// latency of batches that fill slowly.
	pipeline := func(capacity, floor float64) func(float64) outcome {
		return func(r float64) outcome {
			switch {
			case r > capacity:
				return overloaded
			case r < floor:
				return sloOnly
			}
			return passed
		}
	}
	for _, tc := range []struct {
		name            string
		start           float64
		res             Resolution
		capacity, floor float64
		lo, hi          float64 // the answer's bracket; 0 = none
		tried           []float64
	}{
		{name: "doubling then bisecting", start: 10_000, res: Resolution{Share: 0.05}, capacity: 73_000,
			lo: 72_500, hi: 75_000, tried: []float64{10_000, 20_000, 40_000, 80_000, 60_000, 70_000, 75_000, 72_500}},
		{name: "absolute resolution", start: 10_000, res: Resolution{PerSecond: 10_000}, capacity: 73_000,
			lo: 70_000, hi: 80_000, tried: []float64{10_000, 20_000, 40_000, 80_000, 60_000, 70_000}},
		{name: "start above the capacity halves", start: 1000, res: Resolution{PerSecond: 3}, capacity: 20,
			lo: 19.53125, hi: 21.484375, tried: []float64{1000, 500, 250, 125, 62.5, 31.25, 15.625, 23.4375, 19.53125, 21.484375}},
		{name: "slow batches at low rates go up", start: 1000, res: Resolution{Share: 0.1}, capacity: 5000, floor: 3000,
			lo: 5000, hi: 5500, tried: []float64{1000, 2000, 4000, 8000, 6000, 5000, 5500}},
		{name: "nothing meets the slo", start: 1000, res: Resolution{Share: 0.1}, capacity: 3000, floor: 4000,
			lo: 0, hi: 3250, tried: []float64{1000, 2000, 4000, 3000, 3500, 3250}},
		{name: "overloaded, then halving meets the slo floor", start: 10, res: Resolution{PerSecond: 1}, capacity: 1, floor: 100,
			lo: 0, hi: 1.25, tried: []float64{10, 5, 2.5, 1.25, 1}},
		{name: "nothing passes at the minimum", start: 8, res: Resolution{PerSecond: 1}, capacity: 0.5,
			lo: 0, hi: 1, tried: []float64{8, 4, 2, 1}},
		{name: "passes at the top of the range", start: 4e6, res: Resolution{Share: 0.05}, capacity: math.Inf(1),
			lo: 1e7, hi: 0, tried: []float64{4e6, 8e6, 1e7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &search{start: tc.start, min: 1, max: 1e7, res: tc.res}
			tried := drive(s, pipeline(tc.capacity, tc.floor))
			if tc.tried != nil && !slices.Equal(tried, tc.tried) {
				t.Errorf("tried %v, want %v", tried, tc.tried)
			}
			if s.lo != tc.lo || s.hi != tc.hi {
				t.Errorf("bracket [%v, %v) after %v, want [%v, %v)", s.lo, s.hi, tried, tc.lo, tc.hi)
			}
			if s.lo > 0 && s.hi > 0 && (s.hi-s.lo > tc.res.at(s.lo) || s.lo > tc.capacity || s.hi <= tc.capacity) {
				t.Errorf("bracket [%v, %v) does not hold capacity %v within %v", s.lo, s.hi, tc.capacity, tc.res.at(s.lo))
			}
		})
	}
}

func TestLagTrend(t *testing.T) {
	series := func(lag func(t float64) float64, n int) []result.Sample {
		var out []result.Sample
		for i := 1; i <= n; i++ {
			out = append(out, result.Sample{T: float64(i), TargetRate: 1000, Lag: int64(lag(float64(i)))})
		}
		// The drain's samples (target 0) are not part of the trend.
		return append(out, result.Sample{T: float64(n) + 1, Lag: 1e9})
	}
	step := 10 * time.Second
	if s, e := lagTrend(series(func(t float64) float64 { return 500 + 250*t }, 10), step); s != 250 || e != 0 {
		t.Errorf("a straight line: slope %v ± %v, want 250 ± 0", s, e)
	}
	// The first half (a group joining, a backlog worked off) does not count.
	if s, _ := lagTrend(series(func(t float64) float64 { return max(0, 5000-1000*t) + 100 }, 10), step); s != 0 {
		t.Errorf("flat second half: slope %v", s)
	}
	// A batch sawtooth: no significant trend.
	saw := series(func(t float64) float64 { return float64(int(t)%2) * 20_000 }, 10)
	s, e := lagTrend(saw, step)
	if lagGrew(s, e, saw[9].Lag, 1000, 60_000) || e == 0 {
		t.Errorf("a sawtooth is not growth: slope %v ± %v", s, e)
	}
	if s, e := lagTrend(series(func(float64) float64 { return 7 }, 1), step); s != 0 || e != 0 {
		t.Errorf("one sample: %v ± %v", s, e)
	}
}

func TestLagGrew(t *testing.T) {
	for _, tc := range []struct {
		slope, stderr float64
		last          int64
		want          bool
	}{
		{slope: 2000, stderr: 100, last: 200_000, want: true},
		{slope: 900, stderr: 100, last: 200_000},   // under 1% of 100,000/s
		{slope: 2000, stderr: 1500, last: 200_000}, // within twice its error
		{slope: 2000, stderr: 100, last: 100_000},  // what the batches hold
		{slope: -5000, stderr: 100, last: 200_000}, // shrinking
	} {
		if got := lagGrew(tc.slope, tc.stderr, tc.last, 100_000, 140_000); got != tc.want {
			t.Errorf("lagGrew(%+v) = %v", tc, got)
		}
	}
}

func TestJudge(t *testing.T) {
	ok, bad := result.Verify{OK: true}, result.Verify{Problem: "3 of 10 ticks missing"}
	for _, tc := range []struct {
		held, grew bool
		slo        []string
		v          result.Verify
		want       outcome
		why        string
	}{
		{held: true, v: ok, want: passed},
		{held: true, slo: []string{"slo e2e-p99 3s >= 2s"}, v: ok, want: sloOnly, why: "slo e2e-p99 3s >= 2s"},
		{held: false, v: ok, want: overloaded, why: "rate not held (achieved 990 of 1,000/s)"},
		{held: true, grew: true, slo: []string{"slo e2e-p99 3s >= 2s"}, v: ok, want: overloaded, why: "lag grew by 40 ticks/s; slo e2e-p99 3s >= 2s"},
		{held: true, v: bad, want: overloaded, why: "not verified: 3 of 10 ticks missing"},
	} {
		o, why := judge(tc.held, 990, 1000, tc.grew, 40, tc.slo, tc.v)
		if o != tc.want || strings.Join(why, "; ") != tc.why {
			t.Errorf("judge(%+v) = %v %q, want %v %q", tc, o, why, tc.want, tc.why)
		}
	}
}

func TestSaturation(t *testing.T) {
	pass := &result.CeilingStep{Rate: 70_000, CPUUtil: 0.5, Upload: result.Latency{P99: 20_000}, Producer: result.Producer{RateHeld: true}}
	for _, tc := range []struct {
		fail result.CeilingStep
		want string
	}{
		{result.CeilingStep{Rate: 80_000, CPUUtil: 0.95}, "cpu: the process used 95% of its cores at 80,000/s"},
		{result.CeilingStep{Rate: 80_000, CPUUtil: 0.45, MachineCPUUtil: 0.97}, "cpu: the machine's cores were 97% busy at 80,000/s, the process using 45%"},
		{result.CeilingStep{Rate: 80_000, CPUUtil: 0.6, Upload: result.Latency{P99: 45_000}}, "s3 uploads: upload p99 45.0 ms at 80,000/s against 20.0 ms at 70,000/s"},
		{result.CeilingStep{Rate: 80_000, CPUUtil: 0.6, Upload: result.Latency{P99: 21_000}, LagGrew: true, LagSlope: 5000, Producer: result.Producer{RateHeld: true}},
			"sink: consumer lag grew 5,000 ticks/s at 80,000/s"},
		{result.CeilingStep{Rate: 80_000, CPUUtil: 0.6, Producer: result.Producer{AchievedRate: 75_000}}, "producer: achieved 75,000 of 80,000/s"},
		{result.CeilingStep{Rate: 80_000, CPUUtil: 0.6, Producer: result.Producer{RateHeld: true}}, "latency slo only"},
	} {
		if got := saturation(pass, &tc.fail); !strings.HasPrefix(got, tc.want) {
			t.Errorf("saturation(%+v) = %q, want %q...", tc.fail, got, tc.want)
		}
	}
	if got := saturation(pass, nil); got != "" {
		t.Errorf("no failure, saturation %q", got)
	}
}
