package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/stack"
)

// NetFault is a network fault between tickbench and the local stack's
// brokers or S3 server (the toxiproxy proxies of scripts/faults.sh), in
// force from From to To after each generator run starts.
type NetFault struct {
	// Spec is the fault as given (ParseNetFault), for the summary.
	Spec string
	// Faults are its toxics, each on the proxies it names.
	Faults   []stack.Fault
	From, To time.Duration
}

// NetFaultKinds are the kinds ParseNetFault takes, with what their
// arguments mean.
var NetFaultKinds = []string{
	"latency[:DELAY[:JITTER]] (default 100ms:50ms, replies delayed)",
	"bandwidth[:KBPS] (default 256 KB/s: fetches from Kafka, uploads to S3)",
	"reset[:AFTER] (default 500ms: each connection reset after it)",
	"slow-close[:DELAY] (default 2s)",
	"blackhole (nothing passes either way; default target kafka-2)",
}

// ParseNetFault reads KIND[:ARGS][/TARGET][@FROM-TO]: KIND and ARGS as
// NetFaultKinds lists them; TARGET all (the default, blackhole's is the
// second broker), kafka (every broker), kafka-N or s3; FROM-TO the window
// after each generator run's start, e.g. 5s-25s (default the middle three
// fifths of duration). nf names the proxies.
func ParseNetFault(spec string, nf stack.NetFaults, duration time.Duration) (NetFault, error) {
	bad := func(format string, a ...any) (NetFault, error) {
		return NetFault{}, fmt.Errorf("net fault %q: %s", spec, fmt.Sprintf(format, a...))
	}
	rest, window, hasWindow := strings.Cut(spec, "@")
	rest, target, hasTarget := strings.Cut(rest, "/")
	args := strings.Split(rest, ":")
	kind := args[0]
	f := NetFault{Spec: spec, From: duration / 5, To: duration * 4 / 5}
	if hasWindow {
		from, to, ok := strings.Cut(window, "-")
		var err1, err2 error
		f.From, err1 = time.ParseDuration(from)
		f.To, err2 = time.ParseDuration(to)
		if !ok || err1 != nil || err2 != nil {
			return bad("window %q: allowed FROM-TO, e.g. 5s-25s", window)
		}
	}
	if f.From < 0 || f.To <= f.From || f.To > duration {
		return bad("window %v-%v: allowed 0 <= from < to <= the duration %v", f.From, f.To, duration)
	}
	if !hasTarget {
		target = "all"
		if kind == "blackhole" {
			target = "kafka-" + strconv.Itoa(min(2, len(nf.Proxies)))
		}
	}
	kafka, s3, err := netTargets(target, nf)
	if err != nil {
		return bad("%v", err)
	}
	if f.Faults, err = netToxics(kind, args[1:], kafka, s3); err != nil {
		return bad("%v", err)
	}
	return f, nil
}

// netToxics are the toxics of fault kind with its args on the Kafka and
// S3 proxies given.
func netToxics(kind string, args []string, kafka, s3 []string) ([]stack.Fault, error) {
	maxArgs := map[string]int{"latency": 2, "bandwidth": 1, "reset": 1, "slow-close": 1, "blackhole": 0}
	n, ok := maxArgs[kind]
	if !ok {
		return nil, fmt.Errorf("kind %q: allowed %s", kind, strings.Join(NetFaultKinds, "; "))
	}
	if len(args) > n {
		return nil, fmt.Errorf("%s takes %d argument(s), not %d", kind, n, len(args))
	}
	// ms is argument i in milliseconds, def if not given.
	var bad error
	ms := func(i int, def time.Duration) int64 {
		if len(args) <= i {
			return def.Milliseconds()
		}
		d, err := time.ParseDuration(args[i])
		if err != nil || d < 0 || d > time.Hour {
			bad = cmp.Or(bad, fmt.Errorf("%s %q: allowed a duration 0..1h, e.g. 100ms", kind, args[i]))
		}
		return d.Milliseconds()
	}
	var out []stack.Fault
	toxic := func(name, typ, stream string, attrs map[string]int64, proxies []string) {
		if len(proxies) > 0 {
			out = append(out, stack.Fault{Toxic: stack.Toxic{Name: "tickbench-" + name, Type: typ, Stream: stream, Attributes: attrs}, Proxies: proxies})
		}
	}
	both := append(slices.Clip(kafka), s3...)
	switch kind {
	case "latency":
		toxic("latency", "latency", "downstream", map[string]int64{"latency": ms(0, 100*time.Millisecond), "jitter": ms(1, 50*time.Millisecond)}, both)
	case "bandwidth":
		rate := int64(256)
		if len(args) > 0 {
			var err error
			if rate, err = strconv.ParseInt(args[0], 10, 64); err != nil || rate < 1 || rate > 10_000_000 {
				return nil, fmt.Errorf("bandwidth %q: allowed 1..10000000 KB/s", args[0])
			}
		}
		toxic("bandwidth-fetch", "bandwidth", "downstream", map[string]int64{"rate": rate}, kafka)
		toxic("bandwidth-upload", "bandwidth", "upstream", map[string]int64{"rate": rate}, s3)
	case "reset":
		toxic("reset", "reset_peer", "upstream", map[string]int64{"timeout": ms(0, 500*time.Millisecond)}, both)
	case "slow-close":
		toxic("slow-close", "slow_close", "downstream", map[string]int64{"delay": ms(0, 2*time.Second)}, both)
	case "blackhole":
		toxic("blackhole-up", "timeout", "upstream", map[string]int64{"timeout": 0}, both)
		toxic("blackhole-down", "timeout", "downstream", map[string]int64{"timeout": 0}, both)
	}
	return out, bad
}

// netTargets are the Kafka and S3 proxies target names.
func netTargets(target string, nf stack.NetFaults) (kafka, s3 []string, err error) {
	switch {
	case target == "all":
		return nf.Proxies, []string{nf.S3Proxy}, nil
	case target == "kafka":
		return nf.Proxies, nil, nil
	case target == "s3":
		return nil, []string{nf.S3Proxy}, nil
	case slices.Contains(nf.Proxies, target):
		return []string{target}, nil, nil
	}
	return nil, nil, fmt.Errorf("target %q: allowed all, kafka, s3, %s", target, strings.Join(nf.Proxies, ", "))
}

// String names what the fault does and when: "latency 100ms ±50ms
// downstream on kafka-1,kafka-2,s3 from 6s to 24s".
func (f NetFault) String() string {
	var what []string
	for _, t := range f.Faults {
		what = append(what, t.String())
	}
	return fmt.Sprintf("%s from %v to %v", strings.Join(what, "; "), f.From, f.To)
}

// netFaults starts the configured faults' schedule for a generator run
// starting now; the returned func ends any still in force and returns
// what was injected.
func (r *runner) netFaults(ctx context.Context) func() []result.NetFault {
	if len(r.cfg.NetFaults) == 0 {
		return func() []result.NetFault { return nil }
	}
	nf := *r.cfg.Proxies
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan []result.NetFault, 1)
	start := time.Now()
	go func() {
		var out []result.NetFault
		for _, f := range r.cfg.NetFaults {
			out = append(out, result.NetFault{Spec: f.Spec, What: f.String()})
		}
		defer func() { done <- out }()
		// Begin and end of each fault, in time order.
		type edge struct {
			at  time.Duration
			i   int
			add bool
		}
		var edges []edge
		for i, f := range r.cfg.NetFaults {
			edges = append(edges, edge{f.From, i, true}, edge{f.To, i, false})
		}
		slices.SortStableFunc(edges, func(a, b edge) int { return int(a.at - b.at) })
		active := make([]bool, len(r.cfg.NetFaults))
		defer func() {
			// Whatever happens, no fault outlives the run.
			for i, on := range active {
				if on {
					out[i].ToS = time.Since(start).Seconds()
					out[i].Error = cmpErr(out[i].Error, remove(nf, r.cfg.NetFaults[i]))
				}
			}
		}()
		for _, e := range edges {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(e.at))):
			}
			f := r.cfg.NetFaults[e.i]
			if e.add {
				if err := add(nf, f); err != nil {
					out[e.i].Error = err.Error()
					continue
				}
				active[e.i] = true
				out[e.i].FromS = time.Since(start).Seconds()
				if r.cfg.Progress != nil {
					fmt.Fprintf(r.cfg.Progress, "net fault: %s\n", f)
				}
			} else if active[e.i] {
				active[e.i] = false
				out[e.i].ToS = time.Since(start).Seconds()
				out[e.i].Error = cmpErr(out[e.i].Error, remove(nf, f))
			}
		}
	}()
	return func() []result.NetFault {
		cancel()
		return <-done
	}
}

// add and remove put a fault's toxics in and out, bounded in time: a
// toxiproxy that does not answer must not hold the run.
func add(nf stack.NetFaults, f NetFault) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, t := range f.Faults {
		if err := nf.Add(ctx, t); err != nil {
			for _, done := range f.Faults[:i] {
				_ = nf.Remove(ctx, done) // best effort: Add failed already
			}
			return err
		}
	}
	return nil
}

func remove(nf stack.NetFaults, f NetFault) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var first error
	for _, t := range f.Faults {
		if err := nf.Remove(ctx, t); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// cmpErr keeps the first error's text.
func cmpErr(have string, err error) string {
	if have != "" || err == nil {
		return have
	}
	return err.Error()
}
