package result

import (
	"fmt"
	"io"
	"strings"
)

// CPUSplit is a strategy's CPU by pipeline stage, from a CPU profile of
// the window CPU s/M measures (schema v1.6; package bench/cpusplit makes
// it, docs/measurements.md gives its rules).
type CPUSplit struct {
	// Ticks went through the pipeline in the window.
	Ticks uint64 `json:"ticks"`
	// CPUSeconds is the profile's samples' total; CPUSecondsPerMillion
	// that per million ticks, beside the strategy's cpu_s_per_million
	// (the process's own count of its CPU time).
	CPUSeconds           float64    `json:"cpu_s"`
	CPUSecondsPerMillion float64    `json:"cpu_s_per_million"`
	Stages               []StageCPU `json:"stages"`
}

// StageCPU is one stage's part of a CPUSplit.
type StageCPU struct {
	Stage                string  `json:"stage"`
	CPUSeconds           float64 `json:"cpu_s"`
	CPUSecondsPerMillion float64 `json:"cpu_s_per_million"`
	Share                float64 `json:"share"` // of the profile's total, 0..1
}

// PrintCPUSplit writes the CPU split of the strategies that carry one, a
// column per strategy: CPU s per M ticks and share of each stage, the
// profile's total and the process's own count (when the row has one).
func (r *Result) PrintCPUSplit(w io.Writer) {
	var rows []StrategyResult
	for _, s := range r.Strategies {
		if s.CPUSplit != nil {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		return
	}
	cw := 15
	for _, s := range rows {
		cw = max(cw, len(s.Strategy))
	}
	fmt.Fprintf(w, "\n%-12s", "cpu split")
	for _, s := range rows {
		fmt.Fprintf(w, "  %*s", cw, s.Strategy)
	}
	fmt.Fprintf(w, "\n%-12s", "(s/M, share)")
	for range rows {
		fmt.Fprintf(w, "  %*s", cw, "")
	}
	fmt.Fprintln(w)
	for i, st := range rows[0].CPUSplit.Stages {
		fmt.Fprintf(w, "%-12s", st.Stage)
		for _, s := range rows {
			if i >= len(s.CPUSplit.Stages) {
				fmt.Fprintf(w, "  %*s", cw, "")
				continue
			}
			x := s.CPUSplit.Stages[i]
			fmt.Fprintf(w, "  %*s", cw, fmt.Sprintf("%.3f %5.1f%%", x.CPUSecondsPerMillion, 100*x.Share))
		}
		fmt.Fprintln(w)
	}
	line := func(name string, v func(StrategyResult) float64) {
		fmt.Fprintf(w, "%-12s", name)
		for _, s := range rows {
			fmt.Fprintf(w, "  %*s", cw, fmt.Sprintf("%.3f       ", v(s)))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, strings.Repeat("-", 12+len(rows)*(cw+2)))
	line("profile", func(s StrategyResult) float64 { return s.CPUSplit.CPUSecondsPerMillion })
	if rows[0].CPUSecondsPerMillion > 0 {
		line("CPU s/M", func(s StrategyResult) float64 { return s.CPUSecondsPerMillion })
	}
}
