package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tickbench/tickbench/stack"
)

// SchemaVersion identifies the result file's layout; results/README.md
// documents every field. Bump it on any incompatible change.
const SchemaVersion = "tickbench.result/v1"

// Result is everything a run measured; it is written as JSON.
type Result struct {
	Schema   string     `json:"schema"`
	Name     string     `json:"name"`
	RunID    string     `json:"run_id"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Stack    stack.Kind `json:"stack"`
	Workload Workload   `json:"workload"`
	Producer Producer   `json:"producer"`
	Sinks    []Sink     `json:"sinks"`
	Machine  Machine    `json:"machine"`
	// Verified is true when every sink landed exactly what was produced.
	Verified bool `json:"verified"`
}

// Workload is what was asked for.
type Workload struct {
	Rate       float64 `json:"rate"` // ticks/s
	DurationS  float64 `json:"duration_s"`
	Symbols    int     `json:"symbols"`
	Seed       uint64  `json:"seed"`
	Topic      string  `json:"topic"`
	Partitions int32   `json:"partitions"`
}

// Producer is what the generator did.
type Producer struct {
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"` // (sent-1) / (last hand-over - start)
	// RateHeld is achieved >= 99% of target.
	RateHeld    bool   `json:"rate_held"`
	Sent        uint64 `json:"sent"`
	Acked       uint64 `json:"acked"`
	Failed      uint64 `json:"failed"`
	Interrupted bool   `json:"interrupted,omitempty"`
	// PublishDelay is intended -> handed to the Kafka client; Publish is
	// intended -> acknowledged by the broker (acks=all).
	PublishDelay Latency `json:"publish_delay"`
	Publish      Latency `json:"publish"`
}

// Sink is one strategy's landing, as verified by reading it back.
type Sink struct {
	Strategy      string  `json:"strategy"`
	Format        string  `json:"format"`
	Layout        string  `json:"layout"`
	Prefix        string  `json:"prefix"`
	Bucket        string  `json:"bucket"`
	FlushRecords  int     `json:"flush_records"`
	FlushBytes    int     `json:"flush_bytes"`
	FlushInterval string  `json:"flush_interval"`
	Members       int     `json:"members"`   // sink members in the group at the start
	Semantics     string  `json:"semantics"` // "exactly-once" for deterministic policies
	Objects       int64   `json:"objects"`
	Bytes         int64   `json:"bytes"`
	BytesPerTick  float64 `json:"bytes_per_tick"`
	Consumed      int64   `json:"consumed"`
	// MembersConsumed is what each member consumed, in join order
	// (replays after a rebalance count again).
	MembersConsumed []int64 `json:"members_consumed"`
	Invalid         int64   `json:"invalid"`
	CommitErrors    int64   `json:"commit_errors"`
	DrainS          float64 `json:"drain_s"` // generator end -> everything landed
	Verify          Verify  `json:"verify"`
	// EndToEnd is intended -> the S3 PUT holding the tick acknowledged;
	// Upload is per object, PUT start -> acknowledged.
	EndToEnd Latency `json:"end_to_end"`
	Upload   Latency `json:"upload"`
}

// Machine is where the run happened.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
}

func thisMachine() Machine {
	return Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
}

// WriteFile writes r as indented JSON to dir/<UTC start>-<name>.json and
// returns the path.
func (r *Result) WriteFile(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("results folder: %w", err)
	}
	path := filepath.Join(dir, r.Started.UTC().Format("20060102T150405Z")+"-"+r.Name+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write result: %w", err)
	}
	return path, nil
}

// ReadResult parses a result file and checks its schema version.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: schema %q, this tickbench reads %q", path, r.Schema, SchemaVersion)
	}
	return &r, nil
}

// PrintSummary writes the human-readable summary.
func (r *Result) PrintSummary(w io.Writer) {
	p := r.Producer
	held := "held"
	if !p.RateHeld {
		held = "NOT HELD"
	}
	fmt.Fprintf(w, "run        %s  stack %s (kafka=%s s3=%s)\n", r.RunID, r.Stack.Name, r.Stack.Kafka, r.Stack.S3)
	fmt.Fprintf(w, "workload   %s ticks/s for %gs, %d symbols, seed %d, topic %s (%d partitions)\n",
		num(r.Workload.Rate), r.Workload.DurationS, r.Workload.Symbols, r.Workload.Seed, r.Workload.Topic, r.Workload.Partitions)
	fmt.Fprintf(w, "producer   target %s/s  achieved %s/s (%s)  sent %s  acked %s  failed %d",
		num(p.TargetRate), num(p.AchievedRate), held, num(float64(p.Sent)), num(float64(p.Acked)), p.Failed)
	if p.Interrupted {
		fmt.Fprint(w, "  (interrupted)")
	}
	fmt.Fprintln(w)
	for _, s := range r.Sinks {
		status := "VERIFIED"
		if !s.Verify.OK {
			status = "NOT VERIFIED: " + s.Verify.Problem
		}
		fmt.Fprintf(w, "sink %-6s objects %s  bytes %s  bytes/tick %.1f  landed %s  duplicates %d  missing %d  drain %.1fs  %s\n",
			s.Strategy, num(float64(s.Objects)), size(s.Bytes), s.BytesPerTick, num(float64(s.Verify.Landed)),
			s.Verify.Duplicates, s.Verify.Missing, s.DrainS, status)
	}
	fmt.Fprintf(w, "\n%-22s %10s %9s %9s %9s %9s %9s\n", "latency (µs)", "count", "p50", "p90", "p99", "p99.9", "max")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "%-22s %10d %9d %9d %9d %9d %9d\n", name, l.Count, l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	row("publish delay", p.PublishDelay)
	row("publish (acks=all)", p.Publish)
	for _, s := range r.Sinks {
		row("end-to-end "+s.Strategy, s.EndToEnd)
		row("upload/object "+s.Strategy, s.Upload)
	}
}

// num formats with thousands separators and no decimals past 1000.
func num(v float64) string {
	if v < 1000 && v != float64(int64(v)) {
		return fmt.Sprintf("%.2f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

func size(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
