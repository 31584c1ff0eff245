package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/stack"
)

// SoakConfig is a long run of one strategy with a fault every FaultEvery,
// judged by whether the process's memory, goroutines and open files and
// the sink's lag stay steady. Start from DefaultSoak.
type SoakConfig struct {
	// Run is the run: one strategy, a constant rate, its Duration the
	// soak's length.
	Run Config
	// FaultEvery is the time between faults, the first one FaultEvery
	// after the start; each lasts FaultFor. Defaults 5 m and 30 s.
	FaultEvery, FaultFor time.Duration
	// Faults are injected in turn (SoakFaults); default: broker-restart on
	// the local stack (then net-latency, net-reset and net-blackhole with
	// Run.Proxies), s3-errors and s3-stall on the embedded one.
	Faults []string
	// Window is the length of the first and the last window whose medians
	// are compared (default 5 m, or a third of what follows the warm-up
	// when the run is shorter); MaxGrowth how much the last may exceed the
	// first (default 0.10).
	Window    time.Duration
	MaxGrowth float64
	// Heap, if set, receives the heap profiles of the two windows.
	Heap *SoakHeap
}

// SoakHeap receives a soak's heap profiles (pprof, in-use after a
// collection) at the ends of the two windows it judges, so what grew can
// be traced: go tool pprof -diff_base FIRST LAST.
type SoakHeap struct {
	First, Last bytes.Buffer
	Err         error
}

// SoakFaults are the faults a soak can inject.
// The net-* ones (NetFaultKinds with their defaults, on every proxy but
// blackhole's one broker) need the local stack's proxies (Run.Proxies).
var SoakFaults = []string{"broker-restart", "s3-errors", "s3-stall", "net-latency", "net-bandwidth", "net-reset", "net-slow-close", "net-blackhole"}

// DefaultSoak returns the documented defaults.
func DefaultSoak() SoakConfig {
	run := Default()
	run.Name, run.Duration = "soak", 30*time.Minute
	run.Strategies = []string{"parquet-zstd"}
	return SoakConfig{Run: run, FaultEvery: 5 * time.Minute, FaultFor: 30 * time.Second, Window: 5 * time.Minute, MaxGrowth: 0.10}
}

// Validate names the first bad value and its allowed range.
func (c SoakConfig) Validate() error {
	switch {
	case len(c.Run.Strategies) != 1 || c.Run.Strategies[0] == "all":
		return fmt.Errorf("strategies %v: a soak runs one strategy", c.Run.Strategies)
	case c.Run.Profile != nil || c.Run.Ticks > 0 || c.Run.JoinAt > 0 || c.Run.Backlog:
		return errors.New("rate profile, ticks, join-at or backlog: a soak runs one constant rate for its duration")
	case c.FaultFor < time.Second || c.FaultFor > 10*time.Minute:
		return fmt.Errorf("fault-for %v: allowed 1s..10m", c.FaultFor)
	case c.FaultEvery < 2*c.FaultFor || c.FaultEvery > 24*time.Hour:
		return fmt.Errorf("fault-every %v: allowed twice fault-for (%v)..24h", c.FaultEvery, 2*c.FaultFor)
	case c.Window < time.Second || c.Window > c.Run.Duration/2:
		return fmt.Errorf("window %v: allowed 1s..half the duration (%v)", c.Window, c.Run.Duration/2)
	case !(c.MaxGrowth > 0 && c.MaxGrowth <= 1):
		return fmt.Errorf("max-growth %v: allowed 0 < share <= 1 (0.1 is 10%%)", c.MaxGrowth)
	}
	for _, f := range c.Faults {
		if !slices.Contains(SoakFaults, f) {
			return fmt.Errorf("fault %q: allowed %s", f, strings.Join(SoakFaults, ", "))
		}
	}
	return c.Run.Validate()
}

// RunSoak runs the soak: the run of c.Run with the faults injected in turn
// while the generator runs, then the comparison of the first window after
// the warm-up with the last one. The result's Soak says whether it held;
// Verified whether every acknowledged tick landed once.
func RunSoak(ctx context.Context, c SoakConfig) (*result.Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	strategies, err := c.Run.strategies()
	if err != nil {
		return nil, err
	}
	r, res, err := setUp(ctx, c.Run)
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.noLake = true // what a soak watches is the pipeline, not the queries
	// Per-second histograms (.hlog) would grow with the soak: ~7 KB a
	// second, the largest growth of a 12-minute soak's heap.
	r.noIntervals = true
	faults, err := c.faults(r.st)
	if err != nil {
		return nil, err
	}
	if c.Run.Progress != nil {
		names := make([]string, len(faults))
		for i, f := range faults {
			names[i] = f.name
		}
		through := ""
		if c.Run.Proxies != nil {
			through = "; Kafka and S3 through the fault proxies"
		}
		fmt.Fprintf(c.Run.Progress, "soak: %s in turn, one every %v for %v%s\n", strings.Join(names, ", "), c.FaultEvery, c.FaultFor, through)
	}
	fctx, stop := context.WithCancel(ctx)
	timeline := make(chan []result.SoakFault, 1)
	go func() { timeline <- c.inject(fctx, faults) }()
	heapDone := make(chan struct{})
	go func() { c.heapProfiles(fctx); close(heapDone) }()
	out, err := r.phase(ctx, strategies)
	stop()
	injected := <-timeline
	<-heapDone
	if err != nil {
		return nil, err
	}
	res.Strategies = out
	res.Verified = out[0].Verify.OK
	res.Finished = time.Now().UTC()
	res.Soak = c.judge(out[0], injected)
	return res, nil
}

// soakFault is one kind of fault: inject starts it, and the heal it
// returns ends it.
type soakFault struct {
	name   string
	inject func(ctx context.Context) (heal func(context.Context) error, err error)
}

// faults are the configured faults on stack st, or its defaults.
func (c SoakConfig) faults(st *stack.Stack) ([]soakFault, error) {
	names := c.Faults
	if len(names) == 0 {
		switch {
		case c.Run.Proxies != nil:
			names = []string{"net-latency", "net-reset", "net-blackhole"}
			if len(st.Brokers) >= 3 {
				names = append([]string{"broker-restart"}, names...)
			}
		case st.S3Server == nil:
			names = []string{"broker-restart"}
		default:
			names = []string{"s3-errors", "s3-stall"}
		}
	}
	var out []soakFault
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "net-"):
			f, err := c.netFault(n)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		case n == "broker-restart":
			if len(st.Brokers) < 3 {
				return nil, fmt.Errorf("fault broker-restart: needs a cluster of 3 brokers or more (make up BROKERS=3), the stack has %d", len(st.Brokers))
			}
			node := 1 + len(out)%len(st.Brokers)
			out = append(out, soakFault{n + " " + strconv.Itoa(node), brokerRestart(node)})
		case st.S3Server == nil:
			return nil, fmt.Errorf("fault %s: only the embedded S3 server injects it (--stack embedded)", n)
		case n == "s3-errors":
			srv, base := st.S3Server, c.Run.Stack.Faults
			out = append(out, soakFault{n, func(context.Context) (func(context.Context) error, error) {
				f := base
				f.ErrorRate503, f.ResetRate = 0.2, 0.05
				if err := srv.SetFaults(f); err != nil {
					return nil, err
				}
				return func(context.Context) error { return srv.SetFaults(base) }, nil
			}})
		case n == "s3-stall":
			srv, d := st.S3Server, c.FaultFor
			out = append(out, soakFault{n, func(context.Context) (func(context.Context) error, error) {
				srv.Stall(d)
				return func(context.Context) error { return nil }, nil
			}})
		}
	}
	return out, nil
}

// netFault is soak fault n (net-KIND) through the run's proxies.
func (c SoakConfig) netFault(n string) (soakFault, error) {
	if c.Run.Proxies == nil {
		return soakFault{}, fmt.Errorf("fault %s: needs the local stack's fault proxies (make up FAULTS=1, --stack local)", n)
	}
	f, err := ParseNetFault(strings.TrimPrefix(n, "net-"), *c.Run.Proxies, c.Run.Duration)
	if err != nil {
		return soakFault{}, err
	}
	nf := *c.Run.Proxies
	return soakFault{n, func(context.Context) (func(context.Context) error, error) {
		if err := add(nf, f); err != nil {
			return nil, err
		}
		return func(context.Context) error { return remove(nf, f) }, nil
	}}, nil
}

// brokerRestart stops node of the local cluster (scripts/kafka.sh, from
// the repository's root) and starts it again to heal.
func brokerRestart(node int) func(ctx context.Context) (func(context.Context) error, error) {
	script := func(ctx context.Context, verb string) error {
		out, err := exec.CommandContext(ctx, "bash", "scripts/kafka.sh", verb, strconv.Itoa(node)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("scripts/kafka.sh %s %d (run tickbench soak from the repository's root): %v: %s", verb, node, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	return func(ctx context.Context) (func(context.Context) error, error) {
		if err := script(ctx, "broker-stop"); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return script(ctx, "broker-start") }, nil
	}
}

// inject runs the faults in turn, one every FaultEvery for FaultFor, while
// the generator runs, and returns what it did (seconds from its start).
// A fault is always healed, also when ctx ends while it lasts.
func (c SoakConfig) inject(ctx context.Context, faults []soakFault) []result.SoakFault {
	begin := time.Now()
	var done []result.SoakFault
	for k := 1; time.Duration(k)*c.FaultEvery+c.FaultFor < c.Run.Duration; k++ {
		select {
		case <-ctx.Done():
			return done
		case <-time.After(time.Until(begin.Add(time.Duration(k) * c.FaultEvery))):
		}
		f := faults[(k-1)%len(faults)]
		sf := result.SoakFault{Name: f.name, AtS: time.Since(begin).Seconds()}
		if c.Run.Progress != nil {
			fmt.Fprintf(c.Run.Progress, "soak: %s at %.0fs for %v\n", f.name, sf.AtS, c.FaultFor)
		}
		heal, err := f.inject(ctx)
		if err == nil {
			select {
			case <-ctx.Done():
			case <-time.After(c.FaultFor):
			}
			hctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			err = heal(hctx)
			cancel()
		}
		sf.HealedS = time.Since(begin).Seconds()
		if err != nil {
			sf.Problem = err.Error()
		}
		done = append(done, sf)
	}
	return done
}

// windows are the warm-up and the length of the two windows judged: the
// first after the warm-up, the last before the generator stops.
func (c SoakConfig) windows() (warmup, window time.Duration) {
	warmup = min(time.Minute, c.Run.Duration/10)
	return warmup, min(c.Window, (c.Run.Duration-warmup)/3)
}

// heapProfiles writes the heap profiles of c.Heap at the ends of the two
// windows judged, timed from now (the generator's start), until ctx ends.
func (c SoakConfig) heapProfiles(ctx context.Context) {
	if c.Heap == nil {
		return
	}
	warmup, window := c.windows()
	start := time.Now()
	for _, p := range []struct {
		at  time.Duration
		buf *bytes.Buffer
	}{{warmup + window, &c.Heap.First}, {c.Run.Duration - time.Second, &c.Heap.Last}} {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(p.at))):
		}
		runtime.GC() // the profile's in-use figures are the last collection's
		if err := pprof.Lookup("heap").WriteTo(p.buf, 0); err != nil {
			c.Heap.Err = err
			return
		}
	}
}

// judge compares the medians of the watched figures over the first window
// after the warm-up and the last window of production.
func (c SoakConfig) judge(s result.StrategyResult, faults []result.SoakFault) *result.Soak {
	warmup, window := c.windows()
	out := &result.Soak{FaultEveryS: c.FaultEvery.Seconds(), FaultForS: c.FaultFor.Seconds(), WindowS: window.Seconds(),
		WarmupS: warmup.Seconds(), MaxGrowth: c.MaxGrowth, Faults: faults, OK: true}
	var prod []result.Sample
	for _, smp := range s.Series {
		if smp.TargetRate > 0 {
			prod = append(prod, smp)
		}
	}
	end := c.Run.Duration.Seconds()
	if len(prod) > 0 {
		end = prod[len(prod)-1].T
	}
	in := func(from, to float64, f func(result.Sample) float64) []float64 {
		var vs []float64
		for _, smp := range prod {
			if smp.T >= from && smp.T < to {
				vs = append(vs, f(smp))
			}
		}
		return vs
	}
	first0, last0 := warmup.Seconds(), end-window.Seconds()
	for _, w := range []struct {
		name  string
		value func(result.Sample) float64
		slack float64
	}{
		{"rss", func(s result.Sample) float64 { return float64(s.RSSBytes) }, 0},
		{"heap live", func(s result.Sample) float64 { return float64(s.HeapLiveBytes) }, 0},
		{"goroutines", func(s result.Sample) float64 { return float64(s.Goroutines) }, 10},
		{"open files", func(s result.Sample) float64 { return float64(s.OpenFiles) }, 10},
		{"lag (ticks)", func(s result.Sample) float64 { return float64(s.Lag) }, 0},
	} {
		first, last := in(first0, first0+window.Seconds(), w.value), in(last0, end+1, w.value)
		g := result.Growth{Name: w.name, First: median(first), Last: median(last)}
		g.Bound = g.First*(1+c.MaxGrowth) + w.slack
		if w.name == "lag (ticks)" && len(first) > 0 {
			// Lag is a sawtooth of batches filling: the last window's
			// median must stay under the first window's highest.
			g.Bound = slices.Max(first) * (1 + c.MaxGrowth)
		}
		g.Bound = math.Floor(g.Bound)
		g.OK = len(first) == 0 || len(last) == 0 || g.Last <= g.Bound
		if !g.OK && out.OK {
			f := result.Thousands
			if w.name == "rss" || w.name == "heap live" {
				f = func(v float64) string { return result.Size(int64(v)) }
			}
			out.OK, out.Problem = false, fmt.Sprintf("%s grew from %s to %s, over %s", w.name, f(g.First), f(g.Last), f(g.Bound))
		}
		out.Watched = append(out.Watched, g)
	}
	for _, f := range faults {
		if f.Problem != "" && out.OK {
			out.OK, out.Problem = false, fmt.Sprintf("fault %s at %.0fs: %s", f.Name, f.AtS, f.Problem)
		}
	}
	if !s.Verify.OK && out.OK {
		out.OK, out.Problem = false, "not verified: "+s.Verify.Problem
	}
	return out
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Clone(vs)
	sort.Float64s(vs)
	return vs[len(vs)/2]
}
