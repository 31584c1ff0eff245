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
)

// WorkloadFile is a run described as data (JSON), like OpenMessaging
// Benchmark's workloads: every field is optional and overrides the default;
// flags given on the command line override the file. Durations are Go
// durations ("30s", "5m"); a rate profile is gen.ParseProfile's syntax
// ("ramp:1k-300k@5m").
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
	dur := func(field string, s *string, d *time.Duration) error {
		if s == nil {
			return nil
		}
		v, err := time.ParseDuration(*s)
		if err != nil {
			return fmt.Errorf("workload %s %q: not a duration (e.g. 30s, 5m)", field, *s)
		}
		*d = v
		return nil
	}
	if w.Name != nil {
		cfg.Name = *w.Name
	}
	if w.Rate != nil {
		cfg.Rate = *w.Rate
	}
	if w.RateProfile != nil {
		if w.Rate != nil || w.Duration != nil {
			return fmt.Errorf("workload rate_profile sets the rate and the duration: give it without rate and duration")
		}
		p, err := gen.ParseProfile(*w.RateProfile)
		if err != nil {
			return fmt.Errorf("workload rate_profile: %w", err)
		}
		cfg.Profile = p
	}
	if w.GenWorkers != nil {
		cfg.GenWorkers = *w.GenWorkers
	}
	if w.Symbols != nil {
		cfg.Model.Symbols = *w.Symbols
	}
	if w.Seed != nil {
		cfg.Model.Seed = *w.Seed
	}
	if w.Source != nil {
		cfg.Source = *w.Source
	}
	if w.Replay != nil {
		cfg.Replay = *w.Replay
	}
	if w.Topic != nil {
		cfg.Topic = *w.Topic
	}
	if w.Partitions != nil {
		cfg.Partitions = *w.Partitions
		cfg.Stack.Partitions = *w.Partitions
	}
	if w.Strategies != nil {
		cfg.Strategies = *w.Strategies
	}
	if w.Mode != nil {
		cfg.Mode = *w.Mode
	}
	if w.Layout != nil {
		cfg.Layout = sink.Layout(*w.Layout)
	}
	if w.FlushRecords != nil {
		cfg.Policy.Records = *w.FlushRecords
	}
	if w.FlushBytes != nil {
		cfg.Policy.Bytes = *w.FlushBytes
	}
	if w.Sinks != nil {
		cfg.Sinks = *w.Sinks
	}
	if w.Acks != nil {
		cfg.Client.Acks = *w.Acks
	}
	if w.Compression != nil {
		cfg.Client.Compression = *w.Compression
	}
	for _, d := range []struct {
		field string
		s     *string
		d     *time.Duration
	}{{"duration", w.Duration, &cfg.Duration}, {"flush_interval", w.FlushInterval, &cfg.Policy.Interval}, {"max_age", w.MaxAge, &cfg.Policy.MaxAge}} {
		if err := dur(d.field, d.s, d.d); err != nil {
			return err
		}
	}
	return nil
}
