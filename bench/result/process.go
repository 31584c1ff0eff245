package result

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"time"
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

// Clock sync states.
const (
	ClockSynchronized   = "synchronized"
	ClockUnsynchronized = "unsynchronized"
	ClockUnknown        = "unknown"
)

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
			n, p99, shard = p.Sink.Consumed, Millis(p.Sink.EndToEnd.P99), "-"
		}
		clock := p.Clock.Sync
		if p.Clock.MaxErrorUS > 0 {
			clock += fmt.Sprintf(" (max error %s ms)", Millis(p.Clock.MaxErrorUS))
		}
		fmt.Fprintf(w, "%-8s %-20s %8d %6s %12s %12s %8.2f %10s  %s\n", p.Role, p.Host, p.PID, shard, Thousands(float64(n)), p99, p.CPUSeconds, Size(p.PeakRSSBytes), clock)
	}
	if r.Clocks != nil {
		fmt.Fprintf(w, "clocks: %s\n", r.Clocks.Note)
	}
}
