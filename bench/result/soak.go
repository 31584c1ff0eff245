package result

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Soak is a long run's faults and the steadiness of what it watched.
type Soak struct {
	FaultEveryS float64 `json:"fault_every_s"`
	FaultForS   float64 `json:"fault_for_s"`
	// WindowS is the length of the two windows compared: the first after
	// the warm-up (WarmupS from the generator's start) and the last before
	// the generator stopped.
	WindowS   float64     `json:"window_s"`
	WarmupS   float64     `json:"warmup_s"`
	MaxGrowth float64     `json:"max_growth"`
	Faults    []SoakFault `json:"faults"`
	Watched   []Growth    `json:"watched"`
	// OK: every fault was injected and healed, nothing watched grew past
	// its bound and the run verified.
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// SoakFault is one fault as injected: seconds from the generator's start.
type SoakFault struct {
	Name    string  `json:"name"`
	AtS     float64 `json:"at_s"`
	HealedS float64 `json:"healed_s"`
	Problem string  `json:"problem,omitempty"`
}

// Growth compares the median of one watched figure over the first and the
// last window; Bound is the most Last may be (First grown by the allowed
// share, plus a little slack for small counts).
type Growth struct {
	Name  string  `json:"name"`
	First float64 `json:"first"`
	Last  float64 `json:"last"`
	Bound float64 `json:"bound"`
	OK    bool    `json:"ok"`
}

// printSoak writes the faults and the watched figures of a soak.
func (r *Result) printSoak(w io.Writer) {
	s := r.Soak
	if s == nil {
		return
	}
	var faults []string
	for _, f := range s.Faults {
		line := fmt.Sprintf("%s at %.0fs", f.Name, f.AtS)
		if f.Problem != "" {
			line += " (FAILED: " + f.Problem + ")"
		} else {
			line += fmt.Sprintf(" (healed at %.0fs)", f.HealedS)
		}
		faults = append(faults, line)
	}
	if len(faults) == 0 {
		faults = []string{"none (the run was shorter than the interval)"}
	}
	fmt.Fprintf(w, "\nsoak       a fault every %gs for %gs: %s\n", s.FaultEveryS, s.FaultForS, strings.Join(faults, ", "))
	fmt.Fprintf(w, "%-15s %14s %14s %14s  %s\n", "watched", fmt.Sprintf("first %gs", s.WindowS), fmt.Sprintf("last %gs", s.WindowS), "bound", "steady")
	for _, g := range s.Watched {
		steady := "yes"
		if !g.OK {
			steady = "NO: grew"
		}
		f := Thousands
		if g.Name == "rss" || g.Name == "heap live" {
			f = func(v float64) string { return Size(int64(v)) }
		}
		fmt.Fprintf(w, "%-15s %14s %14s %14s  %s\n", g.Name, f(g.First), f(g.Last), f(g.Bound), steady)
	}
	r.printSoakTimeline(w)
	verdict := "steady"
	if !s.OK {
		verdict = "NOT STEADY: " + s.Problem
	}
	fmt.Fprintf(w, "(medians over the first window after %gs of warm-up and the last before the generator stopped; bound: the first grown by %.0f%%, plus slack for small counts)\nsoak       %s\n",
		s.WarmupS, 100*s.MaxGrowth, verdict)
}

// printSoakTimeline writes the watched figures over time: their medians
// over each stretch between two faults.
func (r *Result) printSoakTimeline(w io.Writer) {
	if len(r.Strategies) == 0 || r.Soak.FaultEveryS <= 0 {
		return
	}
	var rows [][]Sample
	for _, smp := range r.Strategies[0].Series {
		if smp.TargetRate <= 0 {
			continue
		}
		// The last sample may end a moment past the duration.
		last := max(int(math.Ceil(r.Workload.DurationS/r.Soak.FaultEveryS))-1, 0)
		i := min(int(smp.T/r.Soak.FaultEveryS), last)
		for len(rows) <= i {
			rows = append(rows, nil)
		}
		rows[i] = append(rows[i], smp)
	}
	fmt.Fprintf(w, "%-15s %14s %14s %14s %14s %14s\n", "over time", "rss", "heap live", "goroutines", "open files", "lag (ticks)")
	for i, row := range rows {
		if len(row) == 0 {
			continue
		}
		med := func(f func(Sample) float64) float64 {
			vs := make([]float64, len(row))
			for j, smp := range row {
				vs[j] = f(smp)
			}
			slices.Sort(vs)
			return vs[len(vs)/2]
		}
		from := float64(i) * r.Soak.FaultEveryS
		to := min(from+r.Soak.FaultEveryS, r.Workload.DurationS)
		fmt.Fprintf(w, "%-15s %14s %14s %14s %14s %14s\n", fmt.Sprintf("%.0f-%.0fs", from, to),
			Size(int64(med(func(s Sample) float64 { return float64(s.RSSBytes) }))),
			Size(int64(med(func(s Sample) float64 { return float64(s.HeapLiveBytes) }))),
			Thousands(med(func(s Sample) float64 { return float64(s.Goroutines) })),
			Thousands(med(func(s Sample) float64 { return float64(s.OpenFiles) })),
			Thousands(med(func(s Sample) float64 { return float64(s.Lag) })))
	}
}
