package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick/wire"
)

// WorkloadFile is a run described as data (JSON), like OpenMessaging
// Benchmark's workloads: every field is optional and overrides the default;
// flags given on the command line override the file. Durations are Go
// durations ("30s", "5m"); a rate profile is gen.ParseProfile's syntax
// ("ramp:1k-300k@5m"). One file can describe a run spread over processes:
// tickbench produce and sink each take the fields that concern them.
type WorkloadFile struct {
	Name          *string   `json:"name"`
	Rate          *float64  `json:"rate"`
	Duration      *string   `json:"duration"`
	RateProfile   *string   `json:"rate_profile"` // instead of rate and duration (gen.ProfileSyntax)
	GenWorkers    *int      `json:"gen_workers"`
	Symbols       *int      `json:"symbols"`
	Seed          *uint64   `json:"seed"`
	Source        *string   `json:"source"`
	Replay        *string   `json:"replay"`
	Topic         *string   `json:"topic"`
	Partitions    *int32    `json:"partitions"`
	Strategies    *[]string `json:"strategies"`
	Mode          *string   `json:"mode"`
	Layout        *string   `json:"layout"`
	FlushRecords  *int      `json:"flush_records"`
	FlushBytes    *int      `json:"flush_bytes"`
	FlushInterval *string   `json:"flush_interval"`
	MaxAge        *string   `json:"max_age"`
	Sinks         *int      `json:"sinks"`
	Acks          *string   `json:"acks"`
	Compression   *string   `json:"compression"`
	// Wire is the format of the ticks on Kafka (json, avro, protobuf), or
	// a list of them for bench; Registry the Schema Registry's URL.
	Wire     *names  `json:"wire"`
	Registry *string `json:"registry"`
	// Shard ("i/N") and StartAt (RFC 3339) split the generator over
	// processes (tickbench produce); DrainAt is when sink processes read
	// the topic's end offsets and land up to them (tickbench sink).
	Shard   *string `json:"shard"`
	StartAt *string `json:"start_at"`
	DrainAt *string `json:"drain_at"`
}

// names is one name ("avro") or a list of them (["json", "avro"]).
type names []string

func (n *names) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*n = names{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(n))
}

// maxWorkloadBytes bounds a workload file: it is configuration, not data.
const maxWorkloadBytes = 1 << 20

// ReadWorkload parses a workload file strictly: unknown fields, trailing
// data and bad durations are errors that name the field.
func ReadWorkload(r io.Reader) (*WorkloadFile, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxWorkloadBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxWorkloadBytes {
		return nil, fmt.Errorf("workload: larger than %d bytes", maxWorkloadBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w WorkloadFile
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("workload: data after the JSON object")
	}
	return &w, nil
}

// LoadWorkload reads and parses a workload file.
func LoadWorkload(path string) (*WorkloadFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err := ReadWorkload(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// Apply sets the fields the file gives; cfg.Validate checks the values.
func (w *WorkloadFile) Apply(cfg *Config) error {
	return w.apply(workloadTargets{
		name: &cfg.Name, rate: &cfg.Rate, duration: &cfg.Duration, profile: &cfg.Profile, genWorkers: &cfg.GenWorkers,
		model: &cfg.Model, source: &cfg.Source, replay: &cfg.Replay, topic: &cfg.Topic, partitions: []*int32{&cfg.Partitions, &cfg.Stack.Partitions},
		strategies: &cfg.Strategies, mode: &cfg.Mode, layout: &cfg.Layout, policy: &cfg.Policy, sinks: &cfg.Sinks, client: &cfg.Client,
		wires: &cfg.Wires, registry: &cfg.Registry,
	})
}

// ApplyProduce sets the fields a generator process takes (the sink's are
// left for the sinks that read the same file); bench.Produce checks them.
func (w *WorkloadFile) ApplyProduce(cfg *ProduceConfig) error {
	return w.apply(workloadTargets{
		rate: &cfg.Rate, duration: &cfg.Duration, profile: &cfg.Profile, genWorkers: &cfg.Workers, model: &cfg.Model,
		topic: &cfg.Topic, partitions: []*int32{&cfg.Partitions}, client: &cfg.Client, shard: &cfg.Shard, startAt: &cfg.StartAt,
		wire: &cfg.Wire,
	})
}

// ApplySink sets the fields a sink process takes: the topic, the one
// strategy, its layout and flush policy, and when to drain.
func (w *WorkloadFile) ApplySink(cfg *SinkConfig) error {
	var strategies []string
	if err := w.apply(workloadTargets{topic: &cfg.Topic, strategies: &strategies, layout: &cfg.Layout, policy: &cfg.Policy, drainAt: &cfg.DrainAt,
		wire: &cfg.Wire}); err != nil {
		return err
	}
	switch len(strategies) {
	case 0:
	case 1:
		cfg.Strategy = strategies[0]
	default:
		return fmt.Errorf("workload strategies %v: a sink process lands one; allowed a list of one", strategies)
	}
	return nil
}

// workloadTargets are where a command keeps the fields of a workload file;
// a nil target is a field the command does not take.
type workloadTargets struct {
	name, source, replay, topic, mode *string
	rate                              *float64
	duration                          *time.Duration
	profile                           *gen.Shape
	genWorkers, sinks                 *int
	model                             *gen.ModelConfig
	partitions                        []*int32
	strategies                        *[]string
	layout                            *sink.Layout
	policy                            *sink.Policy
	client                            *gen.ClientConfig
	shard                             *gen.Shard
	startAt, drainAt                  *time.Time
	wires                             *[]wire.Format // bench: a list
	registry                          *string
	wire                              *wire.Config // a process: one format, and the registry
}

func set[T any](dst *T, v *T) {
	if dst != nil && v != nil {
		*dst = *v
	}
}

func (w *WorkloadFile) apply(t workloadTargets) error {
	set(t.name, w.Name)
	set(t.rate, w.Rate)
	if w.RateProfile != nil && t.profile != nil {
		if w.Rate != nil || w.Duration != nil {
			return fmt.Errorf("workload rate_profile sets the rate and the duration: give it without rate and duration")
		}
		p, err := gen.ParseProfile(*w.RateProfile)
		if err != nil {
			return fmt.Errorf("workload rate_profile: %w", err)
		}
		*t.profile = p
	}
	set(t.genWorkers, w.GenWorkers)
	if t.model != nil {
		set(&t.model.Symbols, w.Symbols)
		set(&t.model.Seed, w.Seed)
	}
	set(t.source, w.Source)
	set(t.replay, w.Replay)
	set(t.topic, w.Topic)
	for _, p := range t.partitions {
		set(p, w.Partitions)
	}
	set(t.strategies, w.Strategies)
	set(t.mode, w.Mode)
	if w.Layout != nil && t.layout != nil {
		*t.layout = sink.Layout(*w.Layout)
	}
	if t.policy != nil {
		set(&t.policy.Records, w.FlushRecords)
		set(&t.policy.Bytes, w.FlushBytes)
	}
	set(t.sinks, w.Sinks)
	if t.client != nil {
		set(&t.client.Acks, w.Acks)
		set(&t.client.Compression, w.Compression)
	}
	if w.Shard != nil && t.shard != nil {
		sh, err := gen.ParseShard(*w.Shard)
		if err != nil {
			return fmt.Errorf("workload %w", err)
		}
		*t.shard = sh
	}
	if err := w.applyWire(t); err != nil {
		return err
	}
	return w.applyTimes(t)
}

// applyWire sets the wire formats (a list for bench, one for a process)
// and the registry.
func (w *WorkloadFile) applyWire(t workloadTargets) error {
	if t.registry != nil {
		set(t.registry, w.Registry)
	}
	if t.wire != nil {
		set(&t.wire.Registry, w.Registry)
	}
	if w.Wire == nil {
		return nil
	}
	var fs []wire.Format
	for _, name := range *w.Wire {
		f, err := wire.Parse(name)
		if err != nil {
			return fmt.Errorf("workload %w", err)
		}
		fs = append(fs, f)
	}
	switch {
	case t.wires != nil:
		*t.wires = fs
	case t.wire != nil && len(fs) == 1:
		t.wire.Format = fs[0]
	case t.wire != nil:
		return fmt.Errorf("workload wire %v: a process produces or lands one format; allowed a list of one", *w.Wire)
	}
	return nil
}

// applyTimes sets the durations and instants of t.
func (w *WorkloadFile) applyTimes(t workloadTargets) error {
	var interval, maxAge *time.Duration
	if t.policy != nil {
		interval, maxAge = &t.policy.Interval, &t.policy.MaxAge
	}
	for _, d := range []struct {
		field string
		s     *string
		d     *time.Duration
	}{{"duration", w.Duration, t.duration}, {"flush_interval", w.FlushInterval, interval}, {"max_age", w.MaxAge, maxAge}} {
		if d.s == nil || d.d == nil {
			continue
		}
		v, err := time.ParseDuration(*d.s)
		if err != nil {
			return fmt.Errorf("workload %s %q: not a duration (e.g. 30s, 5m)", d.field, *d.s)
		}
		*d.d = v
	}
	for _, at := range []struct {
		field string
		s     *string
		t     *time.Time
	}{{"start_at", w.StartAt, t.startAt}, {"drain_at", w.DrainAt, t.drainAt}} {
		if at.s == nil || at.t == nil {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, *at.s)
		if err != nil {
			return fmt.Errorf("workload %s %q: not an RFC 3339 instant (e.g. 2026-12-02T03:00:00Z)", at.field, *at.s)
		}
		*at.t = v
	}
	return nil
}
