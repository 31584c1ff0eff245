package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/stack"
)

// Roles of a result file: a whole run in one process (bench, empty), one
// process of a run spread over several, or their merge.
const (
	RoleProduce = "produce"
	RoleSink    = "sink"
	RoleMerged  = "merged"
)

// ModeDistributed is the Mode of a merged result: generator shards and
// sink members in processes of their own.
const ModeDistributed = "distributed"

// Process is one OS process of a run spread over several: a generator
// shard (produce) or a sink member (sink). Its --result file holds one; a
// merged result keeps every process's row.
type Process struct {
	Role string `json:"role"` // RoleProduce or RoleSink
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Shard is a generator's share, i/N (gen.Shard).
	Shard string `json:"shard,omitempty"`
	// Producer is a generator's counts and histograms (publish delay,
	// publish), of its own ticks only.
	Producer *Producer `json:"producer,omitempty"`
	// Sink is a sink member's landing: its strategy, counts and histograms
	// (end-to-end, upload) of the ticks it landed. Its Verify is empty:
	// only the union of all members can be verified.
	Sink *StrategyResult `json:"sink,omitempty"`
	// CPUSeconds and PeakRSSBytes are the whole process's over its run
	// (the generator's, from before any wait for the start, or the sink's
	// consuming), setting up clients aside; the clock's wall times span
	// the same.
	CPUSeconds   float64 `json:"cpu_s"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	Clock        Clock   `json:"clock"`
	Machine      Machine `json:"machine"`
	// File is where merge read the row from.
	File string `json:"file,omitempty"`
}

// Clock is what a process knows of its wall clock. End-to-end latency
// across hosts subtracts a producer host's wall time (the intended time)
// from a sink host's (the S3 acknowledgement), so it is only as good as
// the two clocks agree: each process records whether its kernel's clock
// discipline (NTP, chrony, PTP) calls the clock synchronized and the
// error bound it keeps. Two synchronized hosts disagree by at most the sum
// of their MaxErrorUS.
type Clock struct {
	WallStart time.Time `json:"wall_start"`
	WallEnd   time.Time `json:"wall_end"`
	// MonotonicS is the run's length by the monotonic clock; it differs
	// from WallEnd-WallStart when the wall clock was stepped meanwhile
	// (SteppedS, the difference).
	MonotonicS float64 `json:"monotonic_s"`
	SteppedS   float64 `json:"stepped_s"`
	// Sync is "synchronized" or "unsynchronized" as the kernel's adjtimex
	// reports it at the end, or "unknown" where it cannot be asked.
	Sync string `json:"sync"`
	// MaxErrorUS and EstErrorUS are the kernel's maximum and estimated
	// error of the wall clock, µs (adjtimex maxerror, esterror).
	MaxErrorUS int64 `json:"max_error_us,omitempty"`
	EstErrorUS int64 `json:"est_error_us,omitempty"`
}

// Clocks is what a merged result can assert about the clocks its
// end-to-end latencies were measured with (intended time on a producer's
// host, S3 acknowledgement on a sink's).
type Clocks struct {
	Hosts int `json:"hosts"`
	// Synchronized: every host's kernel called its clock synchronized.
	Synchronized bool `json:"synchronized"`
	// SkewBoundUS bounds how far two hosts' clocks may disagree: the sum
	// of the two largest max errors of the hosts; 0 on one host (one
	// clock) or when not every host is synchronized.
	SkewBoundUS int64 `json:"skew_bound_us"`
	// Stepped lists processes whose wall clock was stepped during the run
	// (by more than a millisecond).
	Stepped []string `json:"stepped,omitempty"`
	Note    string   `json:"note"`
}

// checkClocks sums up the processes' clock facts.
func checkClocks(ps []Process) *Clocks {
	maxErr := map[string]int64{}
	var unsynced []string
	c := &Clocks{}
	for _, p := range ps {
		if _, seen := maxErr[p.Host]; !seen {
			maxErr[p.Host] = 0
		}
		maxErr[p.Host] = max(maxErr[p.Host], p.Clock.MaxErrorUS)
		if p.Clock.Sync != ClockSynchronized && !slices.Contains(unsynced, p.Host) {
			unsynced = append(unsynced, p.Host)
		}
		if math.Abs(p.Clock.SteppedS) > 1e-3 {
			c.Stepped = append(c.Stepped, fmt.Sprintf("%s pid %d by %.3fs", p.Host, p.PID, p.Clock.SteppedS))
		}
	}
	c.Hosts, c.Synchronized = len(maxErr), len(unsynced) == 0
	errs := slices.Sorted(maps.Values(maxErr))
	switch {
	case c.Hosts == 1:
		c.Note = "one host: intended and acknowledged times come from one clock"
	case !c.Synchronized:
		c.Note = fmt.Sprintf("%d hosts, %s not synchronized: end-to-end across hosts is not asserted", c.Hosts, strings.Join(unsynced, ", "))
	default:
		c.SkewBoundUS = errs[len(errs)-1] + errs[len(errs)-2]
		c.Note = fmt.Sprintf("%d hosts, all synchronized: end-to-end across hosts is within ±%s ms", c.Hosts, ms(c.SkewBoundUS))
	}
	if len(c.Stepped) > 0 {
		c.Note += "; wall clock stepped during the run: " + strings.Join(c.Stepped, ", ")
	}
	return c
}

// Clock sync states.
const (
	ClockSynchronized   = "synchronized"
	ClockUnsynchronized = "unsynchronized"
	ClockUnknown        = "unknown"
)

// processMeter follows a process's run: CPU, peak memory and the clock.
type processMeter struct {
	use  *usage
	wall time.Time // with its monotonic reading
	host string
}

func startProcessMeter() *processMeter {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown (" + err.Error() + ")"
	}
	return &processMeter{use: startUsage(nil), wall: time.Now(), host: host}
}

// row stops the meter and returns the process's row; call it once.
func (m *processMeter) row(role string) Process {
	used := m.use.stop()
	end := time.Now()
	mono := end.Sub(m.wall) // monotonic: both readings carry it
	wall := end.Round(0).Sub(m.wall.Round(0))
	c := Clock{WallStart: m.wall.Round(0).UTC(), WallEnd: end.Round(0).UTC(), MonotonicS: mono.Seconds(), SteppedS: (wall - mono).Seconds()}
	c.Sync, c.MaxErrorUS, c.EstErrorUS = clockSync()
	return Process{Role: role, Host: m.host, PID: os.Getpid(), CPUSeconds: used.cpu.total().Seconds(),
		PeakRSSBytes: used.peakRSS, Clock: c, Machine: thisMachine()}
}

// processResult wraps one process's row as a result file.
func processResult(name, runID string, kind stack.Kind, w Workload, p Process) *Result {
	return &Result{Schema: SchemaVersion, Name: name, RunID: runID, Role: p.Role, Started: p.Clock.WallStart, Finished: p.Clock.WallEnd,
		Stack: kind, Workload: w, Prices: lake.USEast1, Machine: p.Machine, Processes: []Process{p}}
}

// Merge combines the result files of the processes of one run into one
// result: the producers' counts summed and histograms added (every shard
// i/N must be there, once), the sink members' likewise per strategy and
// prefix, CPU summed and peak memory the largest, and every process's row
// kept. A sink member killed before it wrote its result is absent: the
// ticks it landed are still in S3 (verify counts them), but their
// end-to-end latencies were lost with it unless a member that took over
// its partitions landed them again. The merge is not verified: Verify
// reads the objects back.
func Merge(files []*Result) (*Result, error) {
	var prods, sinks []Process
	var first *Result
	var sinkKind stack.Kind
	for _, r := range files {
		switch r.Role {
		case RoleProduce, RoleSink, RoleMerged:
		default:
			return nil, fmt.Errorf("merge %s: role %q is not a process's result (from tickbench produce or sink --result, or a merge)", r.Name, r.Role)
		}
		for _, p := range r.Processes {
			switch {
			case p.Role == RoleProduce && p.Producer != nil:
				prods = append(prods, p)
				if first == nil {
					first = r
				} else if !reflect.DeepEqual(first.Workload, r.Workload) {
					return nil, fmt.Errorf("merge: %s ran workload %+v, %s ran %+v: not one run", first.Name, first.Workload, r.Name, r.Workload)
				}
			case p.Role == RoleSink && p.Sink != nil:
				sinks = append(sinks, p)
				if sinkKind == (stack.Kind{}) {
					sinkKind = r.Stack // the sinks alone know the S3 side
				}
			default:
				return nil, fmt.Errorf("merge %s: a %q row without its %s counts", r.Name, p.Role, p.Role)
			}
		}
	}
	if first == nil {
		return nil, fmt.Errorf("merge: no producer's result among the %d given (tickbench produce --result)", len(files))
	}
	if err := checkShards(prods); err != nil {
		return nil, err
	}
	out := &Result{Schema: SchemaVersion, Name: RoleMerged, RunID: first.RunID, Role: RoleMerged, Stack: first.Stack,
		Workload: first.Workload, Mode: ModeDistributed, Prices: lake.USEast1, Machine: thisMachine()}
	out.Started, out.Finished = first.Started, first.Finished
	if sinkKind != (stack.Kind{}) {
		out.Stack = sinkKind
	}
	var cpu float64
	var peak int64
	for _, p := range slices.Concat(prods, sinks) {
		out.Processes = append(out.Processes, p)
		cpu += p.CPUSeconds
		peak = max(peak, p.PeakRSSBytes)
		out.Started = minTime(out.Started, p.Clock.WallStart)
		if p.Clock.WallEnd.After(out.Finished) {
			out.Finished = p.Clock.WallEnd
		}
	}
	out.Clocks = checkClocks(out.Processes)
	prod, err := mergeProducers(prods)
	if err != nil {
		return nil, err
	}
	groups := map[string][]Process{}
	var order []string
	for _, p := range sinks {
		k := p.Sink.Bucket + "/" + p.Sink.Prefix + " " + p.Sink.Strategy
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	for _, k := range order {
		sr, err := mergeSinks(groups[k], prod)
		if err != nil {
			return nil, err
		}
		if prod.Acked > 0 {
			sr.CPUSecondsPerMillion = cpu / float64(prod.Acked) * 1e6
			sr.PutCostPerDayUSD = out.Prices.PutCost(float64(sr.PutRequests) / float64(prod.Acked) * out.Workload.Rate * 86400)
		}
		sr.PeakRSSBytes = peak
		// Landed per second from the schedule's start (or the first
		// producer's, without a shared one) to the last process's end.
		began := out.Workload.StartAt
		if began.IsZero() {
			began = prods[0].Clock.WallStart
			for _, p := range prods {
				began = minTime(began, p.Clock.WallStart)
			}
		}
		if whole := out.Finished.Sub(began).Seconds(); whole > 0 {
			sr.SustainedRate = float64(prod.Acked) / whole
		}
		out.Strategies = append(out.Strategies, sr)
	}
	if len(out.Strategies) == 0 {
		// Producers alone: their row carries the merged producer.
		out.Strategies = []StrategyResult{{Strategy: "none", Producer: prod, Verify: Verify{Problem: "no sink results"}}}
	}
	return out, nil
}

// checkShards requires shards 0/N..N-1/N, each once, all of the same N.
func checkShards(prods []Process) error {
	byShard := map[string]string{}
	n := 0
	for _, p := range prods {
		var i, count int
		if _, err := fmt.Sscanf(p.Shard, "%d/%d", &i, &count); err != nil {
			return fmt.Errorf("merge: producer on %s (pid %d): shard %q is not i/N", p.Host, p.PID, p.Shard)
		}
		if n == 0 {
			n = count
		}
		if count != n {
			return fmt.Errorf("merge: shards of %d and of %d producers: not one run", n, count)
		}
		if prev, ok := byShard[p.Shard]; ok {
			return fmt.Errorf("merge: shard %s twice (%s and %s)", p.Shard, prev, describe(p))
		}
		byShard[p.Shard] = describe(p)
	}
	var missing []string
	for i := range n {
		if s := fmt.Sprintf("%d/%d", i, n); byShard[s] == "" {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("merge: shards %s missing: give every generator shard's result", strings.Join(missing, ", "))
	}
	return nil
}

func describe(p Process) string {
	if p.File != "" {
		return p.File
	}
	return fmt.Sprintf("%s pid %d", p.Host, p.PID)
}

// mergeProducers sums the shards' counts and adds their histograms; rates
// add up because the shards run at the same time.
func mergeProducers(prods []Process) (Producer, error) {
	out := Producer{RateHeld: true}
	var delays, pubs []Latency
	for _, p := range prods {
		s := p.Producer
		out.TargetRate += s.TargetRate
		out.AchievedRate += s.AchievedRate
		out.RateHeld = out.RateHeld && s.RateHeld
		out.Workers += s.Workers
		out.Sent += s.Sent
		out.Acked += s.Acked
		out.Failed += s.Failed
		out.Interrupted = out.Interrupted || s.Interrupted
		delays, pubs = append(delays, s.PublishDelay), append(pubs, s.Publish)
	}
	var err error
	if out.PublishDelay, err = mergeLatencies(delays); err != nil {
		return out, fmt.Errorf("merge publish delay: %w", err)
	}
	if out.Publish, err = mergeLatencies(pubs); err != nil {
		return out, fmt.Errorf("merge publish: %w", err)
	}
	return out, nil
}

// mergeSinks sums one strategy's members.
func mergeSinks(members []Process, prod Producer) (StrategyResult, error) {
	s0 := members[0].Sink
	out := StrategyResult{Strategy: s0.Strategy, Format: s0.Format, Layout: s0.Layout, Prefix: s0.Prefix, Bucket: s0.Bucket,
		FlushRecords: s0.FlushRecords, FlushBytes: s0.FlushBytes, FlushInterval: s0.FlushInterval, Semantics: s0.Semantics,
		Producer: prod, Members: len(members)}
	var e2es, ups []Latency
	for _, p := range members {
		s := p.Sink
		out.Objects += s.Objects
		out.Bytes += s.Bytes
		out.Consumed += s.Consumed
		out.MembersConsumed = append(out.MembersConsumed, s.Consumed)
		out.Invalid += s.Invalid
		out.BadRecords += s.BadRecords
		out.ErrorObjects += s.ErrorObjects
		out.CommitErrors += s.CommitErrors
		out.ExistingObjects += s.ExistingObjects
		out.OverwrittenObjects += s.OverwrittenObjects
		out.AgedFlushes += s.AgedFlushes
		out.CappedFlushes += s.CappedFlushes
		out.FetchPauses += s.FetchPauses
		out.PutRequests += s.PutRequests
		out.S3Retries += s.S3Retries
		if s.Semantics != "exactly-once" {
			out.Semantics = s.Semantics
		}
		e2es, ups = append(e2es, s.EndToEnd), append(ups, s.Upload)
	}
	if prod.Acked > 0 {
		out.BytesPerTick = float64(out.Bytes) / float64(prod.Acked)
	}
	out.Verify = Verify{Problem: "not verified yet (tickbench verify --result this file)"}
	var err error
	if out.EndToEnd, err = mergeLatencies(e2es); err != nil {
		return out, fmt.Errorf("merge end-to-end of %s: %w", out.Strategy, err)
	}
	if out.Upload, err = mergeLatencies(ups); err != nil {
		return out, fmt.Errorf("merge upload of %s: %w", out.Strategy, err)
	}
	return out, nil
}

// mergeLatencies adds the histograms of several summaries: the result is
// the summary of one histogram holding every value.
func mergeLatencies(ls []Latency) (Latency, error) {
	h := newHist()
	for _, l := range ls {
		if l.HDR == "" {
			if l.Count > 0 {
				return Latency{}, fmt.Errorf("a summary of %d values has no histogram", l.Count)
			}
			continue
		}
		d, err := l.DecodeHistogram()
		if err != nil {
			return Latency{}, fmt.Errorf("decode histogram: %w", err)
		}
		if dropped := h.h.Merge(d); dropped > 0 {
			return Latency{}, fmt.Errorf("%d values outside 1 µs..1 h", dropped)
		}
		h.clamped += l.Clamped
	}
	return h.summary()
}

// printProcesses writes one line per process of a merged result.
func (r *Result) printProcesses(w io.Writer) {
	if len(r.Processes) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-8s %-20s %8s %6s %12s %12s %8s %10s  %s\n", "process", "host", "pid", "shard", "sent/landed", "e2e p99 ms", "CPU s", "peak RSS", "clock")
	rows := slices.Clone(r.Processes)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Role < rows[j].Role })
	for _, p := range rows {
		var n int64
		p99, shard := "-", p.Shard
		switch {
		case p.Producer != nil:
			n = int64(p.Producer.Acked)
		case p.Sink != nil:
			n, p99, shard = p.Sink.Consumed, ms(p.Sink.EndToEnd.P99), "-"
		}
		clock := p.Clock.Sync
		if p.Clock.MaxErrorUS > 0 {
			clock += fmt.Sprintf(" (max error %s ms)", ms(p.Clock.MaxErrorUS))
		}
		fmt.Fprintf(w, "%-8s %-20s %8d %6s %12s %12s %8.2f %10s  %s\n", p.Role, p.Host, p.PID, shard, num(float64(n)), p99, p.CPUSeconds, size(p.PeakRSSBytes), clock)
	}
	if r.Clocks != nil {
		fmt.Fprintf(w, "clocks: %s\n", r.Clocks.Note)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
