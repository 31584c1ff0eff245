package result

import (
	"fmt"
	"io"
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
		if g.Name == "rss" {
			f = func(v float64) string { return Size(int64(v)) }
		}
		fmt.Fprintf(w, "%-15s %14s %14s %14s  %s\n", g.Name, f(g.First), f(g.Last), f(g.Bound), steady)
	}
	verdict := "steady"
	if !s.OK {
		verdict = "NOT STEADY: " + s.Problem
	}
	fmt.Fprintf(w, "(medians over the first window after %gs of warm-up and the last before the generator stopped; bound: the first grown by %.0f%%, plus slack for small counts)\nsoak       %s\n",
		s.WarmupS, 100*s.MaxGrowth, verdict)
}
