package result

import (
	"fmt"
	"io"
)

// Ceiling is a search's part of a result file (schema v1.3).
type Ceiling struct {
	SLO          string  `json:"slo"`
	StartRate    float64 `json:"start_rate"`
	StepS        float64 `json:"step_s"`
	Resolution   string  `json:"resolution"`
	MaxDurationS float64 `json:"max_duration_s"`
	// Searches holds one search per strategy, in the order searched.
	Searches []CeilingSearch `json:"searches"`
}

// CeilingSearch is one strategy's search and its answer.
type CeilingSearch struct {
	Strategy string `json:"strategy"`
	// Rate is the highest rate that passed (0: none did); Upper the
	// lowest that failed above it (0: none did). Within the resolution
	// when Complete.
	Rate  float64 `json:"rate"`
	Upper float64 `json:"upper"`
	// Resolution is the bracket's stated width at Rate, ticks/s.
	Resolution float64 `json:"resolution"`
	// Complete is false when the search ended before its resolution;
	// Stopped says why (max-duration, interrupted, top of the range).
	Complete bool   `json:"complete"`
	Stopped  string `json:"stopped,omitempty"`
	// Saturated names what gave out first at Upper, if the figures tell.
	Saturated string        `json:"saturated,omitempty"`
	ElapsedS  float64       `json:"elapsed_s"`
	Steps     []CeilingStep `json:"steps"`
}

// Verdicts of a step.
const (
	VerdictPass = "pass"
	VerdictFail = "fail" // the producer did not hold the rate, lag grew, or it did not verify
	VerdictSLO  = "slo"  // kept up but missed the SLO
	VerdictCut  = "cut"  // ended by max-duration or an interrupt: not judged
)

// CeilingStep is one constant-rate step of a search.
type CeilingStep struct {
	Rate     float64  `json:"rate"`
	Producer Producer `json:"producer"`
	// LandedRate is what landed per second over production and drain.
	LandedRate float64 `json:"landed_rate"`
	// LagSlope is the least-squares slope of the per-second lag over the
	// step's second half (ticks/s) and LagSlopeErr its standard error;
	// LagEnd the lag at the end of production; LagAllowance what open
	// batches and uploads in flight hold when the sink keeps up.
	LagSlope     float64 `json:"lag_slope"`
	LagSlopeErr  float64 `json:"lag_slope_stderr"`
	LagEnd       int64   `json:"lag_end"`
	LagAllowance float64 `json:"lag_allowance"`
	LagGrew      bool    `json:"lag_grew"`
	EndToEnd     Latency `json:"end_to_end"`
	Upload       Latency `json:"upload"`
	// Queryable is the step's queryable latency (schema v1.4; see
	// StrategyResult.Queryable).
	Queryable Latency `json:"queryable"`
	// CPUUtil is the process's CPU time over production and drain, as a
	// share of all its cores (1 = every core busy).
	CPUUtil float64 `json:"cpu_util"`
	// MachineCPUUtil is the same for the whole machine, any process's (a
	// local broker and S3 server are not in the process).
	MachineCPUUtil       float64 `json:"machine_cpu_util,omitempty"`
	CPUSecondsPerMillion float64 `json:"cpu_s_per_million"`
	PeakRSSBytes         int64   `json:"peak_rss_bytes"`
	DrainS               float64 `json:"drain_s"`
	Objects              int64   `json:"objects"`
	PutRequests          int64   `json:"put_requests"`
	S3Retries            int64   `json:"s3_retries"`
	// EndedEarly says why production stopped before the step's length.
	EndedEarly string   `json:"ended_early,omitempty"`
	Verdict    string   `json:"verdict"`
	Reasons    []string `json:"reasons,omitempty"`
	Verify     Verify   `json:"verify"`
	Series     []Sample `json:"series,omitempty"`
	ElapsedS   float64  `json:"elapsed_s"` // the whole step: start, production, drain, verification
}

// stepHeader is the header of the lines printStep writes.
const stepHeader = "%-4s %11s %11s %8s %16s %9s %9s %7s  %s\n"

// printStep writes one step's line: rate, achieved, lag trend, e2e p99 and
// the verdict with its reasons.
func PrintStep(w io.Writer, n int, st CeilingStep) {
	if n == 1 {
		fmt.Fprintf(w, stepHeader, "step", "rate/s", "achieved/s", "landed/s", "lag trend/s", "e2e p99", "upl p99", "cpu", "verdict")
		fmt.Fprintln(w, "(cpu: this process / the whole machine, share of all cores, over production and drain)")
	}
	verdict := st.Verdict
	if len(st.Reasons) > 0 {
		verdict += ": " + joinReasons(st.Reasons)
	}
	if st.EndedEarly != "" {
		verdict += " (ended early " + st.EndedEarly + ")"
	}
	trend := fmt.Sprintf("%+.0f±%.0f", st.LagSlope, st.LagSlopeErr)
	fmt.Fprintf(w, stepHeader, fmt.Sprint(n), Thousands(st.Rate), Thousands(st.Producer.AchievedRate), Thousands(st.LandedRate), trend,
		Millis(st.EndToEnd.P99)+"ms", Millis(st.Upload.P99)+"ms", fmt.Sprintf("%.0f/%.0f%%", 100*st.CPUUtil, 100*st.MachineCPUUtil), verdict)
}

func joinReasons(rs []string) string {
	out := rs[0]
	for _, r := range rs[1:] {
		out += "; " + r
	}
	return out
}

// printAnswer writes a search's answer with its resolution, or the best
// bound known when it was cut.
func PrintAnswer(w io.Writer, cs CeilingSearch) {
	fmt.Fprintf(w, "ceiling %s: %s\n", cs.Strategy, cs.Answer())
	if cs.Saturated != "" {
		fmt.Fprintf(w, "  saturated first: %s\n", cs.Saturated)
	}
}

// Answer states the search's result in a line: the rate with its
// resolution, or the bound known, marked, when the search did not finish.
func (cs CeilingSearch) Answer() string {
	bracket := "none failed"
	if cs.Upper > 0 {
		bracket = "failed at " + Thousands(cs.Upper) + "/s"
	}
	var a string
	switch {
	case cs.Rate == 0 && cs.Upper > 0:
		a = fmt.Sprintf("no sustainable rate found: %s", bracket)
	case cs.Rate == 0:
		a = "no step passed yet"
	case cs.Complete:
		a = fmt.Sprintf("%s ticks/s (resolution %s/s: passed at %s/s, %s)", Thousands(cs.Rate), Thousands(cs.Resolution), Thousands(cs.Rate), bracket)
	default:
		a = fmt.Sprintf("at least %s ticks/s (%s)", Thousands(cs.Rate), bracket)
	}
	if !cs.Complete && cs.Stopped != "" {
		a += "  [INCOMPLETE, " + cs.Stopped + "]"
	}
	return a
}

// PrintCeiling writes the answers of every search as one table.
func (r *Result) PrintCeiling(w io.Writer) {
	c := r.Ceiling
	fmt.Fprintf(w, "\nrun        %s  stack %s (kafka=%s s3=%s)  slo %s  steps of %gs, resolution %s\n",
		r.RunID, r.Stack.Name, r.Stack.Kafka, r.Stack.S3, c.SLO, c.StepS, c.Resolution)
	fmt.Fprintf(w, "%-15s %12s %12s %12s %6s %8s  %s\n", "strategy", "ceiling/s", "resolution", "failed at/s", "steps", "time", "saturated first")
	for _, s := range c.Searches {
		rate := Thousands(s.Rate)
		switch {
		case s.Rate == 0:
			rate = "none"
		case !s.Complete:
			rate = ">=" + rate + "*"
		}
		upper := "-"
		if s.Upper > 0 {
			upper = Thousands(s.Upper)
		}
		fmt.Fprintf(w, "%-15s %12s %12s %12s %6d %7.0fs  %s\n", s.Strategy, rate, Thousands(s.Resolution), upper, len(s.Steps), s.ElapsedS, s.Saturated)
	}
	for _, s := range c.Searches {
		if !s.Complete {
			fmt.Fprintf(w, "* %s: incomplete (%s): the best bound known\n", s.Strategy, s.Stopped)
		}
	}
}
