package result

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/stack"
)

// Modes of comparing strategies.
const (
	ModeSequential = "sequential"
	ModeParallel   = "parallel"
)

// SchemaVersion identifies the result file's layout; docs/results.md
// documents every field. The major version changes on any incompatible
// change; a minor version only adds fields, so a reader of v1.N reads every
// v1.M (absent fields stay zero).
const SchemaVersion = "tickbench.result/v1.6"

// readableSchemas are the versions ReadResult accepts.
var readableSchemas = []string{"tickbench.result/v1", "tickbench.result/v1.1", "tickbench.result/v1.2", "tickbench.result/v1.3", "tickbench.result/v1.4", "tickbench.result/v1.5", SchemaVersion}

// Result is everything a run measured; it is written as JSON.
type Result struct {
	Schema   string     `json:"schema"`
	Name     string     `json:"name"`
	RunID    string     `json:"run_id"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Stack    stack.Kind `json:"stack"`
	Workload Workload   `json:"workload"`
	// Mode is "sequential" or "parallel" (see Config.Mode).
	Mode       string           `json:"mode"`
	Strategies []StrategyResult `json:"strategies"`
	Prices     lake.Prices      `json:"prices"`
	Machine    Machine          `json:"machine"`
	// Verified is true when every strategy landed exactly what was produced.
	Verified bool `json:"verified"`
	// Role is empty for a run in one process (bench), RoleProduce or
	// RoleSink for one process of a distributed run, RoleMerged for their
	// merge (schema v1.3).
	Role string `json:"role,omitempty"`
	// Processes are the rows of a distributed run: one in a process's
	// result, every one in a merge.
	Processes []Process `json:"processes,omitempty"`
	// Clocks is what a merged result can assert about the clocks of its
	// processes' hosts (end-to-end latency crosses them).
	Clocks *Clocks `json:"clocks,omitempty"`
	// Ceiling is the search of `tickbench ceiling` (schema v1.3): its
	// steps and answers. Strategies is empty in such a result.
	Ceiling *Ceiling `json:"ceiling,omitempty"`
	// Soak is what `tickbench soak` injected and whether the process's
	// resources and the lag held steady (schema v1.5).
	Soak *Soak `json:"soak,omitempty"`
}

// Workload is what was asked for.
type Workload struct {
	Rate      float64 `json:"rate"` // ticks/s; of a shaped run, its mean
	DurationS float64 `json:"duration_s"`
	// Profile is the rate's shape (gen.ParseProfile's syntax); empty for
	// a constant rate.
	Profile string `json:"profile,omitempty"`
	// Backlog: the sinks started only after the generator had produced
	// every tick (Config.Backlog).
	Backlog    bool   `json:"backlog,omitempty"`
	Symbols    int    `json:"symbols"`
	Seed       uint64 `json:"seed"`
	Topic      string `json:"topic"`
	Partitions int32  `json:"partitions"`
	// Source is "model" or "csv:FILE"; Replay is "order" or "sample".
	Source        string   `json:"source"`
	Replay        string   `json:"replay"`
	SourceRows    int      `json:"source_rows,omitempty"`
	SourceBadRows []string `json:"source_bad_rows,omitempty"`
	// StartAt is the shared start of a distributed run's schedule and
	// Shards how many generator processes split it (schema v1.3).
	StartAt time.Time `json:"start_at,omitzero"`
	Shards  int       `json:"shards,omitempty"`
}

// Producer is what the generator did.
type Producer struct {
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"` // (sent-1) / (last hand-over - start)
	// RateHeld is achieved >= 99% of target.
	RateHeld bool `json:"rate_held"`
	// Workers is how many goroutines generated the ticks.
	Workers     int    `json:"workers"`
	Sent        uint64 `json:"sent"`
	Acked       uint64 `json:"acked"`
	Failed      uint64 `json:"failed"`
	Interrupted bool   `json:"interrupted,omitempty"`
	// ValueBytesPerTick is the mean size of a tick's record value on Kafka
	// in the run's wire format (schema v1.5; before the Kafka client's
	// batching and compression).
	ValueBytesPerTick float64 `json:"value_bytes_per_tick,omitempty"`
	// PublishDelay is intended -> handed to the Kafka client; Publish is
	// intended -> acknowledged by the broker (acks=all).
	PublishDelay Latency `json:"publish_delay"`
	Publish      Latency `json:"publish"`
}

// StrategyResult is one strategy's landing, as verified by reading it back.
type StrategyResult struct {
	Strategy string `json:"strategy"`
	// Wire is the format of the ticks on Kafka: json, avro or protobuf
	// (schema v1.5; absent: json).
	Wire          string `json:"wire,omitempty"`
	Format        string `json:"format"`
	Layout        string `json:"layout"`
	Prefix        string `json:"prefix"`
	Bucket        string `json:"bucket"`
	FlushRecords  int    `json:"flush_records"`
	FlushBytes    int    `json:"flush_bytes"`
	FlushInterval string `json:"flush_interval"`
	Members       int    `json:"members"`   // sink members in the group at the start
	Semantics     string `json:"semantics"` // "exactly-once" for deterministic policies
	// Producer is the generator run that fed this strategy (in parallel
	// mode the same for every strategy).
	Producer     Producer `json:"producer"`
	Objects      int64    `json:"objects"`
	Bytes        int64    `json:"bytes"`
	BytesPerTick float64  `json:"bytes_per_tick"`
	Consumed     int64    `json:"consumed"`
	// MembersConsumed is what each member consumed, in join order
	// (replays after a rebalance count again).
	MembersConsumed []int64 `json:"members_consumed"`
	Invalid         int64   `json:"invalid"`
	// BadRecords are the records that were not ticks, landed with their
	// reason and bytes in ErrorObjects under the prefix's errors/.
	BadRecords   int64 `json:"bad_records"`
	ErrorObjects int64 `json:"error_objects"`
	CommitErrors int64 `json:"commit_errors"`
	// ExistingObjects were already in S3 when uploaded (If-None-Match: 412):
	// rewrites of batches whose commit was lost.
	ExistingObjects int64 `json:"existing_objects"`
	// OverwrittenObjects held other bytes (an early cut before a crash)
	// and were replaced; AgedFlushes and CappedFlushes are batches cut
	// early by --max-age and by the memory cap.
	OverwrittenObjects int64   `json:"overwritten_objects"`
	AgedFlushes        int64   `json:"aged_flushes"`
	CappedFlushes      int64   `json:"capped_flushes"`
	DrainS             float64 `json:"drain_s"` // generator end -> everything landed
	// FellBehind: the strategy could not land ticks as fast as they were
	// produced (its drain took over 2 s and a tenth of the production
	// time); SustainedRate is what it landed per second over production
	// and drain. FetchPauses counts the times its sink paused fetching
	// because its memory or queue was full.
	FellBehind    bool    `json:"fell_behind"`
	SustainedRate float64 `json:"sustained_rate"`
	FetchPauses   int64   `json:"fetch_pauses"`
	// PutRequests counts PUT/POST requests to S3 (objects, plus parts of
	// multipart uploads), and PutCostPerDayUSD prices them for a day at
	// the workload's rate.
	PutRequests      int64   `json:"put_requests"`
	PutCostPerDayUSD float64 `json:"put_cost_per_day_usd"`
	// S3Retries counts requests the SDK retried (throttling, errors,
	// resets) during the phase; S3Faults what the embedded server injected
	// (shared by the strategies of a parallel run).
	S3Retries int64    `json:"s3_retries"`
	S3Faults  S3Faults `json:"s3_faults"`
	// NetFaults are the network faults the run was under (bench
	// --net-fault; schema v1.6), Rebalances the times a sink member lost
	// or gave up partitions.
	NetFaults  []NetFault `json:"net_faults,omitempty"`
	Rebalances int64      `json:"rebalances,omitempty"`
	// CPUSecondsPerMillion and PeakRSSBytes are the whole process's
	// (generator, embedded servers and sink) while this strategy ran alone;
	// 0 in parallel mode, where they cannot be told apart.
	// UserCPUSecondsPerMillion is the user-mode part of that CPU time:
	// without the kernel's share (system calls, page faults), which moves
	// with the machine's load more than the code's own work does.
	CPUSecondsPerMillion     float64 `json:"cpu_s_per_million"`
	UserCPUSecondsPerMillion float64 `json:"user_cpu_s_per_million,omitempty"`
	PeakRSSBytes             int64   `json:"peak_rss_bytes"`
	// CPUSplit is that CPU by pipeline stage, from a CPU profile of the
	// same window (--cpu-split; schema v1.6; nil without a profile and in
	// parallel mode).
	CPUSplit *CPUSplit `json:"cpu_split,omitempty"`
	// CPUByProcess is the CPU each process used while this strategy ran
	// alone: tickbench and, on the local stack, each of its servers. The
	// one nearest the machine's cores is what saturates first. Empty in
	// parallel mode.
	CPUByProcess []ProcessCPU `json:"cpu_by_process,omitempty"`
	// MachineCPUUtil is the share of all the machine's cores busy while
	// the strategy ran alone, any process's (schema v1.3; 0 in parallel
	// mode and without /proc/stat).
	MachineCPUUtil float64 `json:"machine_cpu_util,omitempty"`
	Verify         Verify  `json:"verify"`
	// EndToEnd is intended -> the S3 PUT holding the tick acknowledged;
	// Upload is per object, PUT start -> acknowledged.
	EndToEnd Latency `json:"end_to_end"`
	Upload   Latency `json:"upload"`
	// Queryable is intended -> the tick can be queried: the table commit
	// holding it for a table strategy; for Hive-style prefixes the same as
	// EndToEnd (partition projection finds new partitions without a
	// commit). Schema v1.4.
	Queryable Latency `json:"queryable"`
	// Table is a table strategy's commits and files (schema v1.4).
	Table *TableReport `json:"table,omitempty"`
	// Lake is the query side: modelled Athena scans of the standard
	// queries and the local SQL check (package bench, lake.go).
	Lake *LakeReport `json:"lake,omitempty"`
	// Series is the run second by second (schema v1.1; absent in v1).
	Series []Sample `json:"series,omitempty"`
	// intervals are the per-second histograms behind Series, written as
	// .hlog files by WriteFiles (not kept in the JSON).
	Intervals Intervals `json:"-"`
}

// ProcessCPU is one process's CPU over a phase.
type ProcessCPU struct {
	Name       string  `json:"name"` // "tickbench", or the server's ("kafka", "kafka-2", "s3")
	CPUSeconds float64 `json:"cpu_s"`
	Cores      float64 `json:"cores"` // CPU seconds per second of the phase
}

// NetFault is a network fault a run was under: Spec as given, What it
// did, from FromS to ToS seconds after the generator started (both 0 if
// it never began: Error says why).
type NetFault struct {
	Spec  string  `json:"spec"`
	What  string  `json:"what"`
	FromS float64 `json:"from_s"`
	ToS   float64 `json:"to_s"`
	Error string  `json:"error,omitempty"`
}

// S3Faults counts faults the embedded S3 server injected (--s3-faults).
type S3Faults struct {
	Errors503 int64 `json:"errors_503"`
	Errors500 int64 `json:"errors_500"`
	Resets    int64 `json:"resets"`
	Throttled int64 `json:"throttled"` // 503 SlowDown from the per-prefix PUT rate
	Stalled   int64 `json:"stalled"`
	Delayed   int64 `json:"delayed"`
}

// Machine is where the run happened.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`    // /proc/cpuinfo's model name (Linux)
	Memory    int64  `json:"memory_bytes,omitempty"` // /proc/meminfo's MemTotal (Linux)
	GoVersion string `json:"go_version"`
	// Tickbench is the build's VCS revision ("+dirty" when it had local
	// changes), or its module version.
	Tickbench string `json:"tickbench,omitempty"`
	// Modules are the versions of the dependencies the numbers depend on.
	Modules map[string]string `json:"modules,omitempty"`
}

// measuredModules are the dependencies whose version a result names.
var measuredModules = []string{
	"github.com/twmb/franz-go",
	"github.com/twmb/franz-go/pkg/kfake",
	"github.com/aws/aws-sdk-go-v2/service/s3",
	"github.com/parquet-go/parquet-go",
	"github.com/klauspost/compress",
	"github.com/HdrHistogram/hdrhistogram-go",
	"github.com/duckdb/duckdb-go/v2",
}

func ThisMachine() Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			var kb int64
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				m.Memory = kb << 10
				break
			}
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		m.Tickbench, m.Modules = buildVersions(bi)
	}
	return m
}

// buildVersions reads the build's VCS revision (or module version) and the
// measured modules' versions from its build info.
func buildVersions(bi *debug.BuildInfo) (string, map[string]string) {
	rev := bi.Main.Version
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		rev += "+dirty"
	}
	var mods map[string]string
	for _, d := range bi.Deps {
		if slices.Contains(measuredModules, d.Path) {
			if mods == nil {
				mods = map[string]string{}
			}
			mods[d.Path] = d.Version
		}
	}
	return rev, mods
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
	r, err := ParseResult(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ParseResult decodes a result file's bytes, refusing other schemas.
func ParseResult(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if !slices.Contains(readableSchemas, r.Schema) {
		return nil, fmt.Errorf("schema %q, this tickbench reads %s", r.Schema, strings.Join(readableSchemas, ", "))
	}
	return &r, nil
}

// PrintSummary writes the run as the bench command prints it: the workload
// and the producer, each strategy's landing, the table strategies' commits,
// notes, the lake's scans, the processes of a distributed run and the
// latency quantiles.
func (r *Result) PrintSummary(w io.Writer) {
	r.printWorkload(w)
	r.printStrategies(w)
	r.PrintCPUSplit(w)
	r.printTables(w)
	r.printNotes(w)
	r.printLake(w)
	r.printProcesses(w)
	r.printLatencies(w)
	r.printSoak(w)
}

// printWorkload writes the run's, the workload's and the producers' lines.
func (r *Result) printWorkload(w io.Writer) {
	fmt.Fprintf(w, "run        %s  stack %s (kafka=%s s3=%s)  mode %s\n", r.RunID, r.Stack.Name, r.Stack.Kafka, r.Stack.S3, r.Mode)
	source := fmt.Sprintf("%d symbols", r.Workload.Symbols)
	if r.Workload.Source != "model" && r.Workload.Source != "" {
		source = fmt.Sprintf("%s (%d rows, %s)", r.Workload.Source, r.Workload.SourceRows, r.Workload.Replay)
	}
	rate := Thousands(r.Workload.Rate) + " ticks/s"
	if r.Workload.Profile != "" {
		rate = r.Workload.Profile + " (mean " + rate + ")"
	}
	backlog := ""
	if r.Workload.Backlog {
		backlog = "; backlog: the sinks started when the generator had finished"
	}
	fmt.Fprintf(w, "workload   %s for %gs, %s, seed %d, topic %s (%d partitions)%s\n",
		rate, r.Workload.DurationS, source, r.Workload.Seed, r.Workload.Topic, r.Workload.Partitions, backlog)
	for i, s := range r.Strategies {
		if i > 0 && r.Mode == ModeParallel {
			break // one generator fed them all
		}
		p := s.Producer
		held := "held"
		if !p.RateHeld {
			held = "NOT HELD"
		}
		label := ""
		if r.Mode == ModeSequential && len(r.Strategies) > 1 {
			label = "[" + s.Strategy + "] "
		}
		fmt.Fprintf(w, "producer   %starget %s/s  achieved %s/s (%s)  sent %s  acked %s  failed %d  workers %d", label,
			Thousands(p.TargetRate), Thousands(p.AchievedRate), held, Thousands(float64(p.Sent)), Thousands(float64(p.Acked)), p.Failed, p.Workers)
		if p.ValueBytesPerTick > 0 {
			fmt.Fprintf(w, "  %.1f B/tick on Kafka (%s)", p.ValueBytesPerTick, cmp.Or(s.Wire, "json"))
		}
		if p.Interrupted {
			fmt.Fprint(w, "  (interrupted)")
		}
		fmt.Fprintln(w)
	}
}

// printStrategies writes each strategy's landing: latency, rate, objects,
// bytes, PUTs and their price, CPU, memory and whether it verified.
func (r *Result) printStrategies(w io.Writer) {
	// Names wider than 15 (iceberg-parquet-zstd) widen the column.
	nw := 15
	for _, s := range r.Strategies {
		nw = max(nw, len(s.Strategy))
	}
	fmt.Fprintf(w, "\n%-*s %9s %9s %9s %9s %10s %10s %8s %10s %10s %10s %8s %9s  %s\n", nw, "strategy",
		"e2e p50", "p99", "p99.9", "max", "landed/s", "objects", "bytes", "B/tick", "PUTs", "PUT $/day", "CPU s/M", "peak RSS", "verified")
	for _, s := range r.Strategies {
		status := "yes"
		if !s.Verify.OK {
			status = "NO: " + s.Verify.Problem
		}
		cpu, rss := "-", "-"
		if s.CPUSecondsPerMillion > 0 {
			cpu = fmt.Sprintf("%.2f", s.CPUSecondsPerMillion)
		}
		if s.PeakRSSBytes > 0 {
			rss = Size(s.PeakRSSBytes)
		}
		landed := Thousands(s.SustainedRate)
		if s.FellBehind {
			landed += "*"
		}
		fmt.Fprintf(w, "%-*s %9s %9s %9s %9s %10s %10s %10s %8.1f %10s %10s %8s %9s  %s\n", nw, s.Strategy,
			Millis(s.EndToEnd.P50), Millis(s.EndToEnd.P99), Millis(s.EndToEnd.P999), Millis(s.EndToEnd.Max), landed,
			Thousands(float64(s.Objects)), Size(s.Bytes), s.BytesPerTick, Thousands(float64(s.PutRequests)),
			usd(s.PutCostPerDayUSD), cpu, rss, status)
	}
	over := "production and drain, * = fell behind"
	if r.Workload.Backlog {
		over = "the drain of the backlog"
	}
	fmt.Fprintln(w, "(e2e = intended time -> S3 PUT acknowledged, ms; landed/s over "+over+"; PUT $/day at this rate, "+r.Prices.Region+" prices)")
}

// printNotes writes what a strategy's row cannot hold: falling behind, S3
// faults, the cores of each process, bad records, weaker semantics.
func (r *Result) printNotes(w io.Writer) {
	for _, s := range r.Strategies {
		if s.FellBehind {
			fmt.Fprintf(w, "fell behind: %s landed %s ticks/s against %s/s produced and took %.1fs after the generator stopped to land the rest (%d fetch pauses)\n",
				s.Strategy, Thousands(s.SustainedRate), Thousands(s.Producer.AchievedRate), s.DrainS, s.FetchPauses)
		}
		if f := s.S3Faults; f != (S3Faults{}) || s.S3Retries > 0 {
			fmt.Fprintf(w, "s3 faults during %s: %d retries by the client; injected %d x 503, %d x 500, %d resets, %d throttled, %d stalled, %d delayed\n",
				s.Strategy, s.S3Retries, f.Errors503, f.Errors500, f.Resets, f.Throttled, f.Stalled, f.Delayed)
		}
		for _, f := range s.NetFaults {
			printNetFault(w, s, f)
		}
		if len(s.CPUByProcess) > 1 {
			var parts []string
			for _, p := range s.CPUByProcess {
				parts = append(parts, fmt.Sprintf("%s %.2f", p.Name, p.Cores))
			}
			fmt.Fprintf(w, "cores used during %s: %s (of %d on this machine)\n", s.Strategy, strings.Join(parts, ", "), r.Machine.CPUs)
		}
		if s.BadRecords > 0 {
			fmt.Fprintf(w, "bad records during %s: %d not ticks, set aside with their reason in %d objects under %serrors/\n",
				s.Strategy, s.BadRecords, s.ErrorObjects, s.Prefix)
		}
		if s.Semantics != "exactly-once" {
			fmt.Fprintf(w, "note: %s is %s\n", s.Strategy, s.Semantics)
		}
	}
}

// printNetFault writes a network fault of strategy s's run and how it
// showed.
func printNetFault(w io.Writer, s StrategyResult, f NetFault) {
	if f.Error != "" && f.ToS == 0 {
		fmt.Fprintf(w, "net fault %s during %s: NOT injected: %s\n", f.Spec, s.Strategy, f.Error)
		return
	}
	fmt.Fprintf(w, "net fault %s during %s (%s; in force %.1f-%.1fs): publish p99 %s ms max %s ms, e2e p99 %s ms max %s ms, %d S3 retries, %d fetch pauses, %d rebalances, drain %.1fs\n",
		f.Spec, s.Strategy, f.What, f.FromS, f.ToS, Millis(s.Producer.Publish.P99), Millis(s.Producer.Publish.Max),
		Millis(s.EndToEnd.P99), Millis(s.EndToEnd.Max), s.S3Retries, s.FetchPauses, s.Rebalances, s.DrainS)
	if f.Error != "" {
		fmt.Fprintf(w, "  (toxiproxy: %s)\n", f.Error)
	}
}

// printLatencies writes the quantiles of every latency histogram.
func (r *Result) printLatencies(w io.Writer) {
	fmt.Fprintf(w, "\n%-35s %10s %9s %9s %9s %9s %9s\n", "latency (µs)", "count", "p50", "p90", "p99", "p99.9", "max")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "%-35s %10d %9d %9d %9d %9d %9d\n", name, l.Count, l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	for i, s := range r.Strategies {
		if i == 0 || r.Mode == ModeSequential {
			suffix := ""
			if r.Mode == ModeSequential && len(r.Strategies) > 1 {
				suffix = " " + s.Strategy
			}
			row("publish delay"+suffix, s.Producer.PublishDelay)
			row("publish (acks=all)"+suffix, s.Producer.Publish)
		}
	}
	for _, s := range r.Strategies {
		row("end-to-end "+s.Strategy, s.EndToEnd)
		if s.Table != nil {
			row("queryable "+s.Strategy, s.Queryable)
		}
		row("upload/object "+s.Strategy, s.Upload)
	}
}

func Millis(us int64) string { return fmt.Sprintf("%.1f", float64(us)/1000) }

func usd(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("$%s", Thousands(v))
	}
	return fmt.Sprintf("$%.2f", v)
}

// num formats with thousands separators and no decimals past 1000.
func Thousands(v float64) string {
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

func Size(b int64) string {
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

func (f S3Faults) Minus(g S3Faults) S3Faults {
	return S3Faults{f.Errors503 - g.Errors503, f.Errors500 - g.Errors500, f.Resets - g.Resets,
		f.Throttled - g.Throttled, f.Stalled - g.Stalled, f.Delayed - g.Delayed}
}
