// Package dist owns what makes one run of the processes of a distributed
// run (generator shards from tickbench produce, sink members from
// tickbench sink, on one host or many): each process's result file (File)
// and their merge into one result (Merge): shards checked, counts summed,
// histograms added, the hosts' clocks judged. The processes themselves run
// in package bench (Produce, RunSink); docs/distributed.md shows the whole.
package dist

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/stack"
)

// checkClocks sums up the processes' clock facts.
func checkClocks(ps []result.Process) *result.Clocks {
	maxErr := map[string]int64{}
	var unsynced []string
	c := &result.Clocks{}
	for _, p := range ps {
		if _, seen := maxErr[p.Host]; !seen {
			maxErr[p.Host] = 0
		}
		maxErr[p.Host] = max(maxErr[p.Host], p.Clock.MaxErrorUS)
		if p.Clock.Sync != result.ClockSynchronized && !slices.Contains(unsynced, p.Host) {
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
		c.Note = fmt.Sprintf("%d hosts, all synchronized: end-to-end across hosts is within ±%s ms", c.Hosts, result.Millis(c.SkewBoundUS))
	}
	if len(c.Stepped) > 0 {
		c.Note += "; wall clock stepped during the run: " + strings.Join(c.Stepped, ", ")
	}
	return c
}

// processResult wraps one process's row as a result file.
func File(name, runID string, kind stack.Kind, w result.Workload, p result.Process) *result.Result {
	return &result.Result{Schema: result.SchemaVersion, Name: name, RunID: runID, Role: p.Role, Started: p.Clock.WallStart, Finished: p.Clock.WallEnd,
		Stack: kind, Workload: w, Prices: lake.USEast1, Machine: p.Machine, Processes: []result.Process{p}}
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
func Merge(files []*result.Result) (*result.Result, error) {
	prods, sinks, first, sinkKind, err := sortProcesses(files)
	if err != nil {
		return nil, err
	}
	if err := checkShards(prods); err != nil {
		return nil, err
	}
	out := &result.Result{Schema: result.SchemaVersion, Name: result.RoleMerged, RunID: first.RunID, Role: result.RoleMerged, Stack: first.Stack,
		Workload: first.Workload, Mode: result.ModeDistributed, Prices: lake.USEast1, Machine: result.ThisMachine()}
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
	groups := map[string][]result.Process{}
	var order []string
	for _, p := range sinks {
		k := p.Sink.Bucket + "/" + p.Sink.Prefix + " " + p.Sink.Strategy
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	// Landed per second from the schedule's start (or the first
	// producer's, without a shared one) to the last process's end.
	began := out.Workload.StartAt
	if began.IsZero() {
		began = prods[0].Clock.WallStart
		for _, p := range prods {
			began = minTime(began, p.Clock.WallStart)
		}
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
		if whole := out.Finished.Sub(began).Seconds(); whole > 0 {
			sr.SustainedRate = float64(prod.Acked) / whole
		}
		out.Strategies = append(out.Strategies, sr)
	}
	if len(out.Strategies) == 0 {
		// Producers alone: their row carries the merged producer.
		out.Strategies = []result.StrategyResult{{Strategy: "none", Producer: prod, Verify: result.Verify{Problem: "no sink results"}}}
	}
	return out, nil
}

// sortProcesses gathers the producers' and the sinks' rows of the files,
// checking that each is a process's result and that the producers ran one
// workload; first is the first producer's file, sinkKind the sinks' stack.
func sortProcesses(files []*result.Result) (prods, sinks []result.Process, first *result.Result, sinkKind stack.Kind, err error) {
	for _, r := range files {
		switch r.Role {
		case result.RoleProduce, result.RoleSink, result.RoleMerged:
		default:
			return nil, nil, nil, sinkKind, fmt.Errorf("merge %s: role %q is not a process's result (from tickbench produce or sink --result, or a merge)", r.Name, r.Role)
		}
		for _, p := range r.Processes {
			switch {
			case p.Role == result.RoleProduce && p.Producer != nil:
				prods = append(prods, p)
				if first == nil {
					first = r
				} else if !reflect.DeepEqual(first.Workload, r.Workload) {
					return nil, nil, nil, sinkKind, fmt.Errorf("merge: %s ran workload %+v, %s ran %+v: not one run", first.Name, first.Workload, r.Name, r.Workload)
				}
			case p.Role == result.RoleSink && p.Sink != nil:
				sinks = append(sinks, p)
				if sinkKind == (stack.Kind{}) {
					sinkKind = r.Stack // the sinks alone know the S3 side
				}
			default:
				return nil, nil, nil, sinkKind, fmt.Errorf("merge %s: a %q row without its %s counts", r.Name, p.Role, p.Role)
			}
		}
	}
	if first == nil {
		return nil, nil, nil, sinkKind, fmt.Errorf("merge: no producer's result among the %d given (tickbench produce --result)", len(files))
	}
	return prods, sinks, first, sinkKind, nil
}

// checkShards requires shards 0/N..N-1/N, each once, all of the same N.
func checkShards(prods []result.Process) error {
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

func describe(p result.Process) string {
	if p.File != "" {
		return p.File
	}
	return fmt.Sprintf("%s pid %d", p.Host, p.PID)
}

// mergeProducers sums the shards' counts and adds their histograms; rates
// add up because the shards run at the same time.
func mergeProducers(prods []result.Process) (result.Producer, error) {
	out := result.Producer{RateHeld: true}
	var delays, pubs []result.Latency
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
func mergeSinks(members []result.Process, prod result.Producer) (result.StrategyResult, error) {
	s0 := members[0].Sink
	out := result.StrategyResult{Strategy: s0.Strategy, Format: s0.Format, Layout: s0.Layout, Prefix: s0.Prefix, Bucket: s0.Bucket,
		FlushRecords: s0.FlushRecords, FlushBytes: s0.FlushBytes, FlushInterval: s0.FlushInterval, Semantics: s0.Semantics,
		Producer: prod, Members: len(members)}
	var e2es, ups []result.Latency
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
	out.Verify = result.Verify{Problem: "not verified yet (tickbench verify --result this file)"}
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
func mergeLatencies(ls []result.Latency) (result.Latency, error) {
	h := result.NewHistogram()
	var clamped int64
	for _, l := range ls {
		if l.HDR == "" {
			if l.Count > 0 {
				return result.Latency{}, fmt.Errorf("a summary of %d values has no histogram", l.Count)
			}
			continue
		}
		d, err := l.DecodeHistogram()
		if err != nil {
			return result.Latency{}, fmt.Errorf("decode histogram: %w", err)
		}
		if dropped := h.Merge(d); dropped > 0 {
			return result.Latency{}, fmt.Errorf("%d values outside 1 µs..1 h", dropped)
		}
		clamped += l.Clamped
	}
	return result.Summarize(h, clamped)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
