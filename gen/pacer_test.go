package gen

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConstantPace(t *testing.T) {
	p := Constant{PerSecond: 1000, Duration: time.Second}
	tests := []struct {
		name     string
		elapsed  time.Duration
		sent     uint64
		wantWait time.Duration
		wantStop bool
	}{
		{"first tick due at once", 0, 0, 0, false},
		{"on schedule waits for the next", 0, 1, time.Millisecond, false},
		{"half way through the gap", 500 * time.Microsecond, 1, 500 * time.Microsecond, false},
		{"behind schedule sends at once", 10 * time.Millisecond, 3, -7 * time.Millisecond, false},
		{"ahead of schedule waits", 0, 10, 10 * time.Millisecond, false},
		{"last tick", 999 * time.Millisecond, 999, 0, false},
		{"all sent stops", 999 * time.Millisecond, 1000, 0, true},
		{"stops even when late", 5 * time.Second, 1000, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, stop := p.Pace(tt.elapsed, tt.sent)
			if wait != tt.wantWait || stop != tt.wantStop {
				t.Fatalf("Pace(%v, %d) = (%v, %v), want (%v, %v)", tt.elapsed, tt.sent, wait, stop, tt.wantWait, tt.wantStop)
			}
		})
	}
}

func TestConstantTotal(t *testing.T) {
	tests := []struct {
		rate float64
		dur  time.Duration
		want uint64
	}{
		{1, 10 * time.Second, 10},
		{50_000, 30 * time.Second, 1_500_000},
		{3, time.Second, 3},
		{2.5, 2 * time.Second, 5},
		{0.5 + 1, time.Second, 2}, // due at 0 and 0.667 s
		{7, 1500 * time.Millisecond, 11},
	}
	for _, tt := range tests {
		p := Constant{PerSecond: tt.rate, Duration: tt.dur}
		if got := Total(p); got != tt.want {
			t.Errorf("Total(%v/s for %v) = %d, want %d", tt.rate, tt.dur, got, tt.want)
		}
		// Total must agree with walking Due one by one.
		var walked uint64
		for {
			if _, ok := p.Due(walked); !ok {
				break
			}
			walked++
		}
		if walked != tt.want {
			t.Errorf("walking Due(%v/s for %v) gives %d, want %d", tt.rate, tt.dur, walked, tt.want)
		}
	}
}

func TestConstantValidate(t *testing.T) {
	tests := []struct {
		p       Constant
		wantErr string
	}{
		{Constant{PerSecond: 1, Duration: time.Second}, ""},
		{Constant{PerSecond: 0, Duration: time.Second}, "rate 0: allowed 1..10000000 ticks/s"},
		{Constant{PerSecond: -5, Duration: time.Second}, "rate -5: allowed 1..10000000 ticks/s"},
		{Constant{PerSecond: 2e7, Duration: time.Second}, "rate 2e+07: allowed"},
		{Constant{PerSecond: 10, Duration: time.Millisecond}, "duration 1ms: allowed 1s..168h"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.p, err, tt.wantErr)
		}
	}
}

// shapes are one of each shape, short enough to walk every tick.
var shapes = []Shape{
	Constant{PerSecond: 1000, Duration: 3 * time.Second},
	Ramp{From: 1000, To: 3000, Duration: 10 * time.Second},
	Ramp{From: 3000, To: 1000, Duration: 10 * time.Second},
	Ramp{From: 0, To: 2000, Duration: 10 * time.Second},
	NewSteps(Step{1000, 2 * time.Second}, Step{0, time.Second}, Step{3000, time.Second}),
	Sine{Mean: 1000, Amplitude: 500, Period: 4 * time.Second, Duration: 8 * time.Second},
	Sine{Mean: 1000, Amplitude: 1000, Period: 3 * time.Second, Duration: 10 * time.Second}, // touches 0
	Burst{Base: 1000, Spike: 5000, For: time.Second, Every: 4 * time.Second, Duration: 10 * time.Second},
	Burst{Base: 0, Spike: 100, For: time.Second, Every: 2 * time.Second, Duration: 4 * time.Second},
}

// TestShapeDueTimes pins due times worked out by hand from each shape's
// cumulative curve.
func TestShapeDueTimes(t *testing.T) {
	const none = -1
	tests := []struct {
		shape Shape
		n     uint64
		want  time.Duration // none: the run has no tick n
	}{
		{shapes[1], 0, 0},
		{shapes[1], 1000, 916079783},       // 1000t + 100t² = 1000: t = (-10+√140)/2
		{shapes[1], 7500, 5 * time.Second}, // 5000 + 2500
		{shapes[1], 19_999, 9_999_666_663}, // the last: t² + 10t = 199.99, about 1/3000 s before the end
		{shapes[1], 20_000, none},          // 10000 + 10000 ticks in all
		{shapes[2], 7500, 2_752_551_286},   // 3000t - 100t² = 7500: t = 15 - √150
		{shapes[2], 20_000, none},          //
		{shapes[3], 100, time.Second},      // 100t²
		{shapes[3], 2500, 5 * time.Second}, //
		{shapes[4], 1999, 1_999 * time.Millisecond},
		{shapes[4], 2000, 3 * time.Second}, // the pause has no ticks
		{shapes[4], 2001, 3_000_333_333},   //
		{shapes[4], 4999, 3_999_666_667},   //
		{shapes[4], 5000, none},            //
		{shapes[5], 4000, 4 * time.Second}, // a whole period holds mean*period
		{shapes[5], 8000, none},            //
		{shapes[7], 2999, 2_999 * time.Millisecond},
		{shapes[7], 3000, 3 * time.Second}, // the spike begins
		{shapes[7], 3001, 3_000_200_000},   //
		{shapes[7], 8000, 4 * time.Second}, // the next period
		{shapes[7], 17_999, 9_999 * time.Millisecond},
		{shapes[7], 18_000, none},         //
		{shapes[8], 0, time.Second},       // no base rate: the first spike
		{shapes[8], 100, 3 * time.Second}, //
		{shapes[8], 200, none},            //
	}
	for _, tt := range tests {
		got, ok := tt.shape.Due(tt.n)
		if tt.want == none {
			if ok {
				t.Errorf("%v: Due(%d) = %v, want no such tick", tt.shape, tt.n, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("%v: Due(%d) = %v, %v, want %v", tt.shape, tt.n, got, ok, tt.want)
		}
	}
}

// TestShapeInvariants walks every tick of every shape: due times strictly
// increase and invert the cumulative curve, Total matches the walk, Pace
// agrees with Due, and the curve's per-second increments add up to Total.
func TestShapeInvariants(t *testing.T) {
	for _, s := range shapes {
		t.Run(s.String(), func(t *testing.T) {
			var n uint64
			prev := time.Duration(-1)
			for ; ; n++ {
				d, ok := s.Due(n)
				if !ok {
					break
				}
				if d <= prev || d >= s.Length() {
					t.Fatalf("Due(%d) = %v after Due(%d) = %v, length %v", n, d, n-1, prev, s.Length())
				}
				if got := s.Count(d); math.Abs(got-float64(n)) > 1e-3 {
					t.Fatalf("Count(Due(%d) = %v) = %v", n, d, got)
				}
				if wait, stop := s.Pace(d-time.Millisecond, n); stop || wait != time.Millisecond {
					t.Fatalf("Pace(Due(%d) - 1ms, %d) = %v, %v", n, n, wait, stop)
				}
				prev = d
			}
			if _, stop := s.Pace(time.Hour, n); !stop {
				t.Fatalf("Pace(_, %d) does not stop after the last tick", n)
			}
			if Total(s) != n {
				t.Fatalf("Total = %d, walking Due gives %d", Total(s), n)
			}
			var sum float64
			for sec := time.Duration(0); sec < s.Length()+time.Second; sec += time.Second {
				sum += s.Count(sec+time.Second) - s.Count(sec)
			}
			if math.Abs(sum-float64(n)) > 1 {
				t.Fatalf("per-second increments of Count add up to %v, want about %d", sum, n)
			}
		})
	}
}

func TestShapeRates(t *testing.T) {
	tests := []struct {
		shape   Shape
		elapsed time.Duration
		want    float64
	}{
		{shapes[0], 0, 1000},
		{shapes[0], 3 * time.Second, 0}, // the end
		{shapes[0], -time.Second, 0},
		{shapes[1], 5 * time.Second, 2000},
		{shapes[2], 2500 * time.Millisecond, 2500},
		{shapes[1], 10 * time.Second, 0},
		{shapes[4], time.Second, 1000},
		{shapes[4], 2500 * time.Millisecond, 0},
		{shapes[4], 3 * time.Second, 3000},
		{shapes[4], 4 * time.Second, 0},
		{shapes[5], time.Second, 1500}, // the crest, a quarter period in
		{shapes[5], 3 * time.Second, 500},
		{shapes[5], 2 * time.Second, 1000},
		{shapes[7], 2 * time.Second, 1000},
		{shapes[7], 3500 * time.Millisecond, 5000},
		{shapes[7], 4 * time.Second, 1000},
	}
	for _, tt := range tests {
		if got := tt.shape.Rate(tt.elapsed); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%v: Rate(%v) = %v, want %v", tt.shape, tt.elapsed, got, tt.want)
		}
	}
	peaks := []float64{1000, 3000, 3000, 2000, 3000, 1500, 2000, 5000, 100}
	for i, s := range shapes {
		if s.Peak() != peaks[i] {
			t.Errorf("%v: Peak() = %v, want %v", s, s.Peak(), peaks[i])
		}
	}
	if p := (Sine{Mean: 100, Amplitude: 50, Period: 8 * time.Second, Duration: time.Second}).Peak(); math.Abs(p-(100+50*math.Sqrt2/2)) > 1e-9 {
		t.Errorf("a sine cut off an eighth of a period in peaks at %v, want 100 + 50·sin(π/4)", p)
	}
}

// TestSineFarEnd: due times stay strictly increasing at the far end of
// the longest run at the highest rate, where float seconds are coarsest.
func TestSineFarEnd(t *testing.T) {
	s := Sine{Mean: MaxRate / 2, Amplitude: MaxRate / 2, Period: time.Hour, Duration: MaxLength}
	total := Total(s)
	prev, _ := s.Due(total - 2001)
	for n := total - 2000; n < total; n++ {
		d, ok := s.Due(n)
		if !ok || d <= prev {
			t.Fatalf("Due(%d) = %v, %v after %v", n, d, ok, prev)
		}
		prev = d
	}
}

func TestShapeValidate(t *testing.T) {
	tests := []struct {
		shape Shape
		want  string
	}{
		{Ramp{From: -1, To: 10, Duration: time.Minute}, "ramp from -1: allowed 0..10000000 ticks/s"},
		{Ramp{From: 1, To: 2e7, Duration: time.Minute}, "ramp to 2e+07: allowed 0..10000000 ticks/s"},
		{Ramp{From: 0.5, To: 0, Duration: time.Minute}, "ramp 0.5-0: allowed at least one end >= 1 tick/s"},
		{Ramp{From: 1, To: 2, Duration: time.Millisecond}, "ramp duration 1ms: allowed 1s..168h0m0s"},
		{NewSteps(), "steps: 0 levels: allowed 1..1000"},
		{Steps{}, "steps: 0 levels: allowed 1..1000"},
		{NewSteps(Step{10, time.Second}, Step{-1, time.Second}), "step 2 rate -1: allowed 0..10000000 ticks/s"},
		{NewSteps(Step{10, 0}), "step 1 duration 0s: allowed 1ms..168h0m0s"},
		{NewSteps(Step{0, time.Minute}), "steps: every rate is below 1 tick/s"},
		{NewSteps(Step{10, 100 * time.Millisecond}), "steps total duration 100ms: allowed 1s..168h0m0s"},
		{Sine{Mean: 0, Amplitude: 0, Period: time.Second, Duration: time.Minute}, "sine mean 0: allowed 1..10000000 ticks/s"},
		{Sine{Mean: 100, Amplitude: 101, Period: time.Second, Duration: time.Minute}, "sine amplitude 101: allowed 0..100"},
		{Sine{Mean: 9e6, Amplitude: 2e6, Period: time.Second, Duration: time.Minute}, "sine amplitude 2e+06: allowed 0..1e+06"},
		{Sine{Mean: 100, Amplitude: 10, Period: time.Millisecond, Duration: time.Minute}, "sine period 1ms: allowed 100ms..168h0m0s"},
		{Sine{Mean: 100, Amplitude: 10, Period: time.Second, Duration: 200 * time.Hour}, "sine duration 200h0m0s: allowed 1s..168h0m0s"},
		{Burst{Base: -1, Spike: 10, For: time.Second, Every: 2 * time.Second, Duration: time.Minute}, "burst base -1: allowed 0..10000000 ticks/s"},
		{Burst{Base: 100, Spike: 50, For: time.Second, Every: 2 * time.Second, Duration: time.Minute}, "burst spike 50: allowed 100..10000000 ticks/s"},
		{Burst{Base: 0, Spike: 0, For: time.Second, Every: 2 * time.Second, Duration: time.Minute}, "burst spike 0: allowed 1..10000000 ticks/s"},
		{Burst{Base: 1, Spike: 10, For: time.Second, Every: time.Millisecond, Duration: time.Minute}, "burst every 1ms: allowed 10ms..168h0m0s"},
		{Burst{Base: 1, Spike: 10, For: 2 * time.Second, Every: 2 * time.Second, Duration: time.Minute}, "burst for 2s: allowed 1ms..1.999999999s (below every)"},
		{Burst{Base: 1, Spike: 10, For: time.Second, Every: 2 * time.Second, Duration: 0}, "burst duration 0s: allowed 1s..168h0m0s"},
	}
	for _, tt := range tests {
		err := tt.shape.Validate()
		if err == nil || err.Error() != tt.want && !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%#v.Validate() = %v, want %q", tt.shape, err, tt.want)
		}
	}
	for _, s := range shapes {
		if err := s.Validate(); err != nil {
			t.Errorf("%v: %v", s, err)
		}
	}
}

func TestParseProfile(t *testing.T) {
	good := []struct {
		spec string
		want Shape
	}{
		{"constant:5000@30s", Constant{PerSecond: 5000, Duration: 30 * time.Second}},
		{"ramp:1000-300000@5m", Ramp{From: 1000, To: 300_000, Duration: 5 * time.Minute}},
		{"ramp:1k-0.3M@5m", Ramp{From: 1000, To: 300_000, Duration: 5 * time.Minute}},
		{"ramp:2_000-0@1m", Ramp{From: 2000, To: 0, Duration: time.Minute}},
		{"steps:1000@30s,5000@1m,0@10s", NewSteps(Step{1000, 30 * time.Second}, Step{5000, time.Minute}, Step{0, 10 * time.Second})},
		{"sine:50000+-20000/60s@5m", Sine{Mean: 50_000, Amplitude: 20_000, Period: time.Minute, Duration: 5 * time.Minute}},
		{"sine:50k±20k/1m@5m", Sine{Mean: 50_000, Amplitude: 20_000, Period: time.Minute, Duration: 5 * time.Minute}},
		{"burst:10000,100000@1s/10s@5m", Burst{Base: 10_000, Spike: 100_000, For: time.Second, Every: 10 * time.Second, Duration: 5 * time.Minute}},
	}
	for _, tt := range good {
		got, err := ParseProfile(tt.spec)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseProfile(%q) = %#v, %v, want %#v", tt.spec, got, err, tt.want)
			continue
		}
		again, err := ParseProfile(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParseProfile(%q.String() = %q) = %#v, %v: does not read back", tt.spec, got.String(), again, err)
		}
	}
	bad := []struct{ spec, want string }{
		{"", `rate profile "": no shape: want constant:RATE@DUR`},
		{"5000", `rate profile "5000": no shape`},
		{"square:1@1s", `rate profile "square:1@1s": shape "square": allowed constant, ramp, steps, sine, burst`},
		{"ramp:1000-300000/5m", `want ramp:FROM-TO@DURATION, e.g. ramp:1000-300000@5m`},
		{"ramp:fast-300000@5m", `rate "fast": want a number of ticks/s such as 5000, 2.5k or 1M`},
		{"ramp:1e3-300000@5m", `rate "1e3": want a number`},
		{"ramp:1000-300000@5 minutes", `duration "5 minutes": want a Go duration such as 30s, 5m or 1h30m`},
		{"ramp:1000-3e7@5m", `rate "3e7"`},
		{"ramp:1000-30M@5m", `ramp to 3e+07: allowed 0..10000000 ticks/s`},
		{"steps:1000@30s,5000", `step 2: "5000": want RATE@DURATION, e.g. 5000@30s`},
		{"steps:", `step 1: "": want RATE@DURATION`},
		{"steps:" + strings.Repeat("1@1s,", MaxSteps) + "1@1s", `steps: 1001 levels: allowed 1..1000`},
		{"sine:50000/60s@5m", `want sine:MEAN+-AMPLITUDE/PERIOD@DURATION, e.g. sine:50000+-20000/60s@5m`},
		{"sine:100+-200/60s@5m", `sine amplitude 200: allowed 0..100`},
		{"burst:100,1000@1s@1m", `want burst:BASE,SPIKE@FOR/EVERY@DURATION, e.g. burst:10000,100000@1s/10s@5m`},
		{"burst:100,1000@1s/1s@1m", `burst for 1s: allowed 1ms..999.999999ms (below every)`},
		{"constant:0@1m", `rate 0: allowed 1..10000000 ticks/s`},
	}
	for _, tt := range bad {
		_, err := ParseProfile(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseProfile(%q) = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

// ExampleParseProfile shows a ramp's schedule: the rate climbs linearly,
// so ticks come closer together.
func ExampleParseProfile() {
	ramp, err := ParseProfile("ramp:1k-3k@10s")
	if err != nil {
		panic(err)
	}
	for _, n := range []uint64{0, 1000, 7500, 19_999} {
		due, _ := ramp.Due(n)
		fmt.Printf("tick %5d due at %v, rate there %.0f/s\n", n, due, ramp.Rate(due))
	}
	fmt.Println(Total(ramp), "ticks,", ramp)
	// Output:
	// tick     0 due at 0s, rate there 1000/s
	// tick  1000 due at 916.079783ms, rate there 1183/s
	// tick  7500 due at 5s, rate there 2000/s
	// tick 19999 due at 9.999666663s, rate there 3000/s
	// 20000 ticks, ramp:1000-3000@10s
}

// BenchmarkDue is each shape's cost per tick in the producer's loop.
func BenchmarkDue(b *testing.B) {
	for _, s := range shapes {
		b.Run(strings.SplitN(s.String(), ":", 2)[0], func(b *testing.B) {
			total := Total(s)
			var n uint64
			for b.Loop() {
				s.Due(n)
				n = (n + 7) % total
			}
		})
	}
}

// TestProfileString: String writes the compact form, durations without
// zero minutes or seconds.
func TestProfileString(t *testing.T) {
	for spec, want := range map[string]string{
		"ramp:1k-0.3M@300s":             "ramp:1000-300000@5m",
		"steps:1000@1h,5k@90s,0@1h0m1s": "steps:1000@1h,5000@1m30s,0@1h0m1s",
		"sine:50k±20k/60s@2h30m":        "sine:50000+-20000/1m@2h30m",
		"burst:0,2.5k@500ms/10s@1m":     "burst:0,2500@500ms/10s@1m",
		"constant:1M@1s":                "constant:1000000@1s",
	} {
		s, err := ParseProfile(spec)
		if err != nil || s.String() != want {
			t.Errorf("ParseProfile(%q) = %v, %v: want %s", spec, s, err, want)
		}
	}
}

// FuzzParseProfile: the parser never panics; what it accepts is valid,
// reads back from its String, and schedules its first ticks in order.
func FuzzParseProfile(f *testing.F) {
	for _, s := range shapes {
		f.Add(s.String())
	}
	f.Add("ramp:1000-300000/5m")
	f.Add("sine:1M±1M/100ms@168h")
	f.Add("burst:0,1@1ms/10ms@1s")
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseProfile(spec)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("%q parsed to an invalid %#v: %v", spec, s, err)
		}
		again, err := ParseProfile(s.String())
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("%q -> %q -> %#v, %v", spec, s.String(), again, err)
		}
		prev := time.Duration(-1)
		for n := range uint64(100) {
			d, ok := s.Due(n)
			if !ok {
				break
			}
			if d <= prev || d >= s.Length() {
				t.Fatalf("%v: Due(%d) = %v after %v", s, n, d, prev)
			}
			prev = d
		}
	})
}
