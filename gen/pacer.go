package gen

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A Pacer decides when each tick is due. It is a pure value: it holds no
// clock and never sleeps, so it is tested with plain tables.
type Pacer interface {
	// Pace returns how long to wait before sending tick number sent (the
	// count already sent), given the time elapsed since the run began; wait
	// <= 0 means it is due (or overdue) now. elapsed+wait is the tick's
	// intended time: Due(sent) for a schedule. stop reports that the run
	// has no tick number sent.
	Pace(elapsed time.Duration, sent uint64) (wait time.Duration, stop bool)
	// Due returns the intended offset from the run's start of tick n, and
	// false when the run has no tick n.
	Due(n uint64) (time.Duration, bool)
	// Rate returns the target rate in ticks per second at elapsed.
	Rate(elapsed time.Duration) float64
	// Peak returns the highest rate of the run in ticks per second, 0 for
	// no schedule (unlimited): the producer sizes its workers by it.
	Peak() float64
}

// A Shape is a Pacer whose rate curve has a fixed length: Constant, Ramp,
// Steps, Sine and Burst. Tick n is due at the instant its cumulative curve
// Count reaches n, so intended times are exact for every shape, and the
// run has Total(s) ticks. ParseProfile reads a shape from its String.
type Shape interface {
	Pacer
	// Validate names the first bad value and its allowed range.
	Validate() error
	// Length is when the run ends: no tick is due at or after it.
	Length() time.Duration
	// Count is the integral of Rate from 0 to elapsed: the ticks scheduled
	// by then (fractional), constant after Length.
	Count(elapsed time.Duration) float64
	String() string
}

// MaxRate is the highest rate a pacer accepts, in ticks per second.
const MaxRate = 10_000_000

// MaxLength bounds a shape's length; shorter than a second is no run.
const (
	MinLength = time.Second
	MaxLength = 7 * 24 * time.Hour
)

// pace is every shape's Pace: tick sent is due at Due(sent).
func pace(p Pacer, elapsed time.Duration, sent uint64) (time.Duration, bool) {
	due, ok := p.Due(sent)
	if !ok {
		return 0, true
	}
	return due - elapsed, false
}

// dueAt turns an instant in ns (a float from a shape's inverse curve) into
// Due's answer for a run of the given length.
func dueAt(ns float64, length time.Duration) (time.Duration, bool) {
	if !(ns < float64(length)) { // also NaN and values past int64
		return length, false
	}
	d := time.Duration(math.Round(ns))
	return d, d < length
}

// inRun reports whether elapsed is within [0, length): Rate is 0 outside.
func inRun(elapsed, length time.Duration) bool { return elapsed >= 0 && elapsed < length }

// clampSeconds is elapsed in seconds, held to [0, length].
func clampSeconds(elapsed, length time.Duration) float64 {
	return min(max(elapsed, 0), length).Seconds()
}

func checkLength(name string, d time.Duration) error {
	if d < MinLength || d > MaxLength {
		return fmt.Errorf("%s %v: allowed %v..%v", name, d, MinLength, MaxLength)
	}
	return nil
}

// checkRate accepts rates in min..MaxRate ticks/s.
func checkRate(name string, r, min float64) error {
	if !(r >= min && r <= MaxRate) {
		return fmt.Errorf("%s %v: allowed %v..%d ticks/s", name, r, min, MaxRate)
	}
	return nil
}

// Total returns how many ticks a shape schedules: ceil(Count(Length)),
// checked against Due at the boundary, where rounding decides.
func Total(s Shape) uint64 {
	n := uint64(math.Ceil(s.Count(s.Length())))
	for n > 0 {
		if _, ok := s.Due(n - 1); ok {
			break
		}
		n--
	}
	for {
		if _, ok := s.Due(n); !ok {
			return n
		}
		n++
	}
}

// MeanRate is a shape's ticks per second over its whole length.
func MeanRate(s Shape) float64 { return float64(Total(s)) / s.Length().Seconds() }

// Constant paces PerSecond ticks a second for Duration: tick n is due at
// n/PerSecond, and the run has exactly ceil(PerSecond * Duration) ticks.
type Constant struct {
	PerSecond float64
	Duration  time.Duration
}

// Validate implements Shape.
func (c Constant) Validate() error {
	if err := checkRate("rate", c.PerSecond, 1); err != nil {
		return err
	}
	return checkLength("duration", c.Duration)
}

// Due implements Pacer.
func (c Constant) Due(n uint64) (time.Duration, bool) {
	return dueAt(float64(n)*float64(time.Second)/c.PerSecond, c.Duration)
}

// Pace implements Pacer.
func (c Constant) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	return pace(c, elapsed, sent)
}

// Rate implements Pacer.
func (c Constant) Rate(elapsed time.Duration) float64 {
	if !inRun(elapsed, c.Duration) {
		return 0
	}
	return c.PerSecond
}

// Peak implements Pacer.
func (c Constant) Peak() float64 { return c.PerSecond }

// Length implements Shape.
func (c Constant) Length() time.Duration { return c.Duration }

// Count implements Shape.
func (c Constant) Count(elapsed time.Duration) float64 {
	return c.PerSecond * clampSeconds(elapsed, c.Duration)
}

// String implements Shape: constant:RATE@DURATION.
func (c Constant) String() string {
	return "constant:" + fmtRate(c.PerSecond) + "@" + fmtDuration(c.Duration)
}

// Ramp changes the rate linearly from From to To ticks/s over Duration
// (up or down); tick n is due where From*t + (To-From)*t²/(2*Duration) = n.
type Ramp struct {
	From, To float64
	Duration time.Duration
}

// Validate implements Shape.
func (r Ramp) Validate() error {
	if err := checkRate("ramp from", r.From, 0); err != nil {
		return err
	}
	if err := checkRate("ramp to", r.To, 0); err != nil {
		return err
	}
	if max(r.From, r.To) < 1 {
		return fmt.Errorf("ramp %v-%v: allowed at least one end >= 1 tick/s", r.From, r.To)
	}
	return checkLength("ramp duration", r.Duration)
}

// Due implements Pacer: the root of the quadratic, in the form that stays
// exact when From is 0 or the slope is (nearly) 0.
func (r Ramp) Due(n uint64) (time.Duration, bool) {
	x := float64(n)
	if x >= r.Count(r.Duration) {
		return r.Duration, false
	}
	if n == 0 {
		return 0, true
	}
	disc := r.From*r.From + 2*(r.To-r.From)*x/r.Duration.Seconds()
	return dueAt(2*x/(r.From+math.Sqrt(max(disc, 0)))*1e9, r.Duration)
}

// Pace implements Pacer.
func (r Ramp) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	return pace(r, elapsed, sent)
}

// Rate implements Pacer.
func (r Ramp) Rate(elapsed time.Duration) float64 {
	if !inRun(elapsed, r.Duration) {
		return 0
	}
	return r.From + (r.To-r.From)*elapsed.Seconds()/r.Duration.Seconds()
}

// Peak implements Pacer.
func (r Ramp) Peak() float64 { return max(r.From, r.To) }

// Length implements Shape.
func (r Ramp) Length() time.Duration { return r.Duration }

// Count implements Shape.
func (r Ramp) Count(elapsed time.Duration) float64 {
	t := clampSeconds(elapsed, r.Duration)
	return r.From*t + (r.To-r.From)*t*t/(2*r.Duration.Seconds())
}

// String implements Shape: ramp:FROM-TO@DURATION.
func (r Ramp) String() string {
	return "ramp:" + fmtRate(r.From) + "-" + fmtRate(r.To) + "@" + fmtDuration(r.Duration)
}

// Step is one level of Steps: Rate ticks/s (0 pauses) for Duration.
type Step struct {
	Rate     float64
	Duration time.Duration
}

// MaxSteps bounds the levels of Steps.
const MaxSteps = 1000

// Steps holds each rate for its duration, in order. Build it with
// NewSteps, which sums the levels once so Due is a binary search.
type Steps struct {
	steps []Step
	start []time.Duration // when step i begins; start[len] is the end
	count []float64       // ticks scheduled before step i; count[len] is the total
}

// NewSteps returns the shape of the given levels (Validate checks them).
func NewSteps(steps ...Step) Steps {
	s := Steps{steps: slices.Clone(steps), start: make([]time.Duration, len(steps)+1), count: make([]float64, len(steps)+1)}
	for i, st := range steps {
		s.start[i+1] = s.start[i] + st.Duration
		s.count[i+1] = s.count[i] + st.Rate*st.Duration.Seconds()
	}
	return s
}

// Validate implements Shape.
func (s Steps) Validate() error {
	if len(s.steps) == 0 || len(s.steps) > MaxSteps {
		return fmt.Errorf("steps: %d levels: allowed 1..%d", len(s.steps), MaxSteps)
	}
	for i, st := range s.steps {
		if err := checkRate(fmt.Sprintf("step %d rate", i+1), st.Rate, 0); err != nil {
			return err
		}
		if st.Duration < time.Millisecond || st.Duration > MaxLength {
			return fmt.Errorf("step %d duration %v: allowed 1ms..%v", i+1, st.Duration, MaxLength)
		}
	}
	if s.Peak() < 1 {
		return fmt.Errorf("steps: every rate is below 1 tick/s: allowed at least one step of 1..%d", MaxRate)
	}
	return checkLength("steps total duration", s.Length())
}

// Due implements Pacer: tick n falls in the first step whose end count
// exceeds n (never a paused one).
func (s Steps) Due(n uint64) (time.Duration, bool) {
	x := float64(n)
	i := sort.Search(len(s.steps), func(i int) bool { return s.count[i+1] > x })
	if i == len(s.steps) {
		return s.Length(), false
	}
	return dueAt(float64(s.start[i])+(x-s.count[i])/s.steps[i].Rate*1e9, s.Length())
}

// Pace implements Pacer.
func (s Steps) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	return pace(s, elapsed, sent)
}

// at returns the step holding elapsed (within the run).
func (s Steps) at(elapsed time.Duration) int {
	return sort.Search(len(s.steps), func(i int) bool { return s.start[i+1] > elapsed })
}

// Rate implements Pacer.
func (s Steps) Rate(elapsed time.Duration) float64 {
	if !inRun(elapsed, s.Length()) {
		return 0
	}
	return s.steps[s.at(elapsed)].Rate
}

// Peak implements Pacer.
func (s Steps) Peak() float64 {
	var p float64
	for _, st := range s.steps {
		p = max(p, st.Rate)
	}
	return p
}

// Length implements Shape.
func (s Steps) Length() time.Duration {
	if len(s.start) == 0 {
		return 0 // a Steps not made by NewSteps
	}
	return s.start[len(s.steps)]
}

// Count implements Shape.
func (s Steps) Count(elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	if elapsed >= s.Length() {
		return s.count[len(s.steps)]
	}
	i := s.at(elapsed)
	return s.count[i] + s.steps[i].Rate*(elapsed-s.start[i]).Seconds()
}

// String implements Shape: steps:RATE@DURATION,RATE@DURATION,...
func (s Steps) String() string {
	parts := make([]string, len(s.steps))
	for i, st := range s.steps {
		parts[i] = fmtRate(st.Rate) + "@" + fmtDuration(st.Duration)
	}
	return "steps:" + strings.Join(parts, ",")
}

// Sine swings the rate around Mean by Amplitude with Period, rising first,
// for Duration: rate(t) = Mean + Amplitude*sin(2πt/Period). Its curve has
// no closed-form inverse, so Due solves Count(t) = n numerically to within
// half a nanosecond, far below the 100 ns between ticks at MaxRate, so
// intended times stay strictly increasing.
type Sine struct {
	Mean, Amplitude  float64
	Period, Duration time.Duration
}

// Validate implements Shape.
func (s Sine) Validate() error {
	if err := checkRate("sine mean", s.Mean, 1); err != nil {
		return err
	}
	if !(s.Amplitude >= 0 && s.Amplitude <= s.Mean && s.Mean+s.Amplitude <= MaxRate) {
		return fmt.Errorf("sine amplitude %v: allowed 0..%v (the mean, so the rate stays >= 0, and mean+amplitude <= %d)",
			s.Amplitude, min(s.Mean, MaxRate-s.Mean), MaxRate)
	}
	if s.Period < 100*time.Millisecond || s.Period > MaxLength {
		return fmt.Errorf("sine period %v: allowed 100ms..%v", s.Period, MaxLength)
	}
	return checkLength("sine duration", s.Duration)
}

// Due implements Pacer: every whole period holds Mean*Period ticks, so
// Due solves Count(t) = n within the period holding tick n, by Newton's
// method inside a bracket that shrinks every step, falling back to
// bisection where the rate is near 0. Count(t) - Mean*t lies in
// [0, Amplitude*Period/π], which gives the first bracket.
func (s Sine) Due(n uint64) (time.Duration, bool) {
	x := float64(n)
	if x >= s.Count(s.Duration) {
		return s.Duration, false
	}
	const tol = 0.25e-9 // s
	p := s.Period.Seconds()
	k := math.Floor(x / (s.Mean * p))
	x = max(x-k*s.Mean*p, 0)
	w := 2 * math.Pi / p
	c := s.Amplitude / w
	lo, hi := max(0, (x-2*c)/s.Mean), min(x/s.Mean, p)
	t := hi
	for range 100 {
		sin, cos := math.Sincos(w * t)
		f := s.Mean*t + c*(1-cos) - x
		step := f / (s.Mean + s.Amplitude*sin)
		if math.Abs(step) <= tol {
			t -= step
			break
		}
		if f > 0 {
			hi = t
		} else {
			lo = t
		}
		t -= step
		if !(t > lo && t < hi) {
			t = lo + (hi-lo)/2
		}
		if hi-lo <= tol {
			break
		}
	}
	return dueAt((k*p+t)*1e9, s.Duration)
}

// rate and curve are Rate and Count in seconds, without the run's bounds.
func (s Sine) rate(t float64) float64 {
	return s.Mean + s.Amplitude*math.Sin(2*math.Pi*t/s.Period.Seconds())
}

func (s Sine) curve(t float64) float64 {
	p := s.Period.Seconds()
	return s.Mean*t + s.Amplitude*p/(2*math.Pi)*(1-math.Cos(2*math.Pi*t/p))
}

// Pace implements Pacer.
func (s Sine) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	return pace(s, elapsed, sent)
}

// Rate implements Pacer.
func (s Sine) Rate(elapsed time.Duration) float64 {
	if !inRun(elapsed, s.Duration) {
		return 0
	}
	return s.rate(elapsed.Seconds())
}

// Peak implements Pacer: the crest, or where a run shorter than a quarter
// period stops rising.
func (s Sine) Peak() float64 { return s.rate(min(s.Duration, s.Period/4).Seconds()) }

// Length implements Shape.
func (s Sine) Length() time.Duration { return s.Duration }

// Count implements Shape.
func (s Sine) Count(elapsed time.Duration) float64 {
	return s.curve(clampSeconds(elapsed, s.Duration))
}

// String implements Shape: sine:MEAN+-AMPLITUDE/PERIOD@DURATION.
func (s Sine) String() string {
	return "sine:" + fmtRate(s.Mean) + "+-" + fmtRate(s.Amplitude) + "/" + fmtDuration(s.Period) + "@" + fmtDuration(s.Duration)
}

// Burst runs at Base ticks/s with a spike to Spike ticks/s during the last
// For of every Every, for Duration (so a run starts at the base rate).
type Burst struct {
	Base, Spike float64
	For, Every  time.Duration
	Duration    time.Duration
}

// Validate implements Shape.
func (b Burst) Validate() error {
	if err := checkRate("burst base", b.Base, 0); err != nil {
		return err
	}
	if err := checkRate("burst spike", b.Spike, max(1, b.Base)); err != nil {
		return err
	}
	if b.Every < 10*time.Millisecond || b.Every > MaxLength {
		return fmt.Errorf("burst every %v: allowed 10ms..%v", b.Every, MaxLength)
	}
	if b.For < time.Millisecond || b.For >= b.Every {
		return fmt.Errorf("burst for %v: allowed 1ms..%v (below every)", b.For, b.Every-1)
	}
	return checkLength("burst duration", b.Duration)
}

// gap is the base part of a period; perPeriod the ticks of a period.
func (b Burst) gap() float64       { return (b.Every - b.For).Seconds() }
func (b Burst) perPeriod() float64 { return b.Base*b.gap() + b.Spike*b.For.Seconds() }

// Due implements Pacer.
func (b Burst) Due(n uint64) (time.Duration, bool) {
	x := float64(n)
	k := math.Floor(x / b.perPeriod())
	rem := x - k*b.perPeriod()
	t := k * b.Every.Seconds()
	if baseTicks := b.Base * b.gap(); rem < baseTicks && b.Base > 0 {
		t += rem / b.Base
	} else {
		t += b.gap() + (rem-baseTicks)/b.Spike
	}
	return dueAt(t*1e9, b.Duration)
}

// Pace implements Pacer.
func (b Burst) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	return pace(b, elapsed, sent)
}

// Rate implements Pacer.
func (b Burst) Rate(elapsed time.Duration) float64 {
	if !inRun(elapsed, b.Duration) {
		return 0
	}
	if elapsed%b.Every < b.Every-b.For {
		return b.Base
	}
	return b.Spike
}

// Peak implements Pacer: the spike, if the run reaches one.
func (b Burst) Peak() float64 {
	if b.Duration <= b.Every-b.For {
		return b.Base
	}
	return b.Spike
}

// Length implements Shape.
func (b Burst) Length() time.Duration { return b.Duration }

// Count implements Shape.
func (b Burst) Count(elapsed time.Duration) float64 {
	e := min(max(elapsed, 0), b.Duration)
	k, r := e/b.Every, (e % b.Every).Seconds()
	return float64(k)*b.perPeriod() + b.Base*min(r, b.gap()) + b.Spike*max(r-b.gap(), 0)
}

// String implements Shape: burst:BASE,SPIKE@FOR/EVERY@DURATION.
func (b Burst) String() string {
	return "burst:" + fmtRate(b.Base) + "," + fmtRate(b.Spike) + "@" + fmtDuration(b.For) + "/" + fmtDuration(b.Every) + "@" + fmtDuration(b.Duration)
}

// Unlimited schedules Count ticks with no schedule: the producer sends as
// fast as back-pressure allows, and each tick is intended when its worker
// is free to send it (Pace never waits: the previous hand-over), so
// latency is measured from about the hand-over; use it for throughput.
type Unlimited struct {
	Count uint64
}

// Due implements Pacer.
func (u Unlimited) Due(n uint64) (time.Duration, bool) { return 0, n < u.Count }

// Pace implements Pacer.
func (u Unlimited) Pace(_ time.Duration, sent uint64) (time.Duration, bool) {
	return 0, sent >= u.Count
}

// Rate implements Pacer: 0 means unlimited.
func (Unlimited) Rate(time.Duration) float64 { return 0 }

// Peak implements Pacer: 0 means unlimited.
func (Unlimited) Peak() float64 { return 0 }

// ProfileSyntax documents ParseProfile's grammar (for flag help and errors).
// Rates are ticks/s, optionally with a k or M suffix (10k = 10000);
// durations are Go durations (30s, 5m, 1h30m).
const ProfileSyntax = "constant:RATE@DUR | ramp:FROM-TO@DUR | steps:RATE@DUR,RATE@DUR,... | " +
	"sine:MEAN+-AMP/PERIOD@DUR | burst:BASE,SPIKE@FOR/EVERY@DUR " +
	"(e.g. ramp:1k-300k@5m, steps:1000@30s,5000@30s, sine:50k+-20k/60s@5m, burst:10k,100k@1s/10s@5m)"

// ParseProfile reads a rate profile (see ProfileSyntax) and validates it.
// Its String form reads back to the same shape.
func ParseProfile(spec string) (Shape, error) {
	kind, body, ok := strings.Cut(spec, ":")
	var s Shape
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("no shape: want %s", ProfileSyntax)
	case kind == "constant":
		var c Constant
		c.PerSecond, c.Duration, err = rateFor(body)
		s = c
	case kind == "ramp":
		s, err = parseRamp(body)
	case kind == "steps":
		s, err = parseSteps(body)
	case kind == "sine":
		s, err = parseSine(body)
	case kind == "burst":
		s, err = parseBurst(body)
	default:
		err = fmt.Errorf("shape %q: allowed constant, ramp, steps, sine, burst", kind)
	}
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("rate profile %q: %w", spec, err)
	}
	return s, nil
}

func parseRamp(body string) (Shape, error) {
	rates, dur, ok := strings.Cut(body, "@")
	from, to, ok2 := strings.Cut(rates, "-")
	if !ok || !ok2 {
		return nil, fmt.Errorf("want ramp:FROM-TO@DURATION, e.g. ramp:1000-300000@5m")
	}
	var r Ramp
	var err error
	if r.From, err = parseRate(from); err != nil {
		return nil, err
	}
	if r.To, err = parseRate(to); err != nil {
		return nil, err
	}
	r.Duration, err = parseDuration(dur)
	return r, err
}

func parseSteps(body string) (Shape, error) {
	var steps []Step
	for _, part := range strings.Split(body, ",") {
		r, d, err := rateFor(part)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", len(steps)+1, err)
		}
		steps = append(steps, Step{Rate: r, Duration: d})
		if len(steps) > MaxSteps {
			break // Validate names the count
		}
	}
	return NewSteps(steps...), nil
}

func parseSine(body string) (Shape, error) {
	body = strings.Replace(body, "±", "+-", 1)
	mean, rest, ok := strings.Cut(body, "+-")
	amp, rest, ok2 := strings.Cut(rest, "/")
	period, dur, ok3 := strings.Cut(rest, "@")
	if !ok || !ok2 || !ok3 {
		return nil, fmt.Errorf("want sine:MEAN+-AMPLITUDE/PERIOD@DURATION, e.g. sine:50000+-20000/60s@5m")
	}
	var s Sine
	var err error
	if s.Mean, err = parseRate(mean); err != nil {
		return nil, err
	}
	if s.Amplitude, err = parseRate(amp); err != nil {
		return nil, err
	}
	if s.Period, err = parseDuration(period); err != nil {
		return nil, err
	}
	s.Duration, err = parseDuration(dur)
	return s, err
}

func parseBurst(body string) (Shape, error) {
	base, rest, ok := strings.Cut(body, ",")
	spike, rest, ok2 := strings.Cut(rest, "@")
	burst, dur, ok3 := strings.Cut(rest, "@")
	length, every, ok4 := strings.Cut(burst, "/")
	if !ok || !ok2 || !ok3 || !ok4 {
		return nil, fmt.Errorf("want burst:BASE,SPIKE@FOR/EVERY@DURATION, e.g. burst:10000,100000@1s/10s@5m")
	}
	var b Burst
	var err error
	if b.Base, err = parseRate(base); err != nil {
		return nil, err
	}
	if b.Spike, err = parseRate(spike); err != nil {
		return nil, err
	}
	if b.For, err = parseDuration(length); err != nil {
		return nil, err
	}
	if b.Every, err = parseDuration(every); err != nil {
		return nil, err
	}
	b.Duration, err = parseDuration(dur)
	return b, err
}

// rateFor reads RATE@DURATION.
func rateFor(s string) (float64, time.Duration, error) {
	rate, dur, ok := strings.Cut(s, "@")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want RATE@DURATION, e.g. 5000@30s", s)
	}
	r, err := parseRate(rate)
	if err != nil {
		return 0, 0, err
	}
	d, err := parseDuration(dur)
	return r, d, err
}

// parseRate reads ticks/s: a decimal number, optionally with a k (1e3) or
// M (1e6) suffix and _ between digits.
func parseRate(s string) (float64, error) {
	num, mul := strings.ReplaceAll(s, "_", ""), 1.0
	switch {
	case strings.HasSuffix(num, "k"):
		num, mul = num[:len(num)-1], 1e3
	case strings.HasSuffix(num, "M"):
		num, mul = num[:len(num)-1], 1e6
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || strings.ContainsAny(num, "eExXpP") {
		return 0, fmt.Errorf("rate %q: want a number of ticks/s such as 5000, 2.5k or 1M", s)
	}
	return v * mul, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a Go duration such as 30s, 5m or 1h30m", s)
	}
	return d, nil
}

// fmtDuration writes d as time.Duration does, without its zero minutes
// and seconds (5m, 1h30m, not 5m0s, 1h30m0s).
func fmtDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = out[:len(out)-2]
	}
	if strings.HasSuffix(out, "h0m") {
		out = out[:len(out)-2]
	}
	return out
}

// fmtRate writes a rate so that parseRate reads it back exactly.
func fmtRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
