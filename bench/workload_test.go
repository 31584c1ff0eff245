package bench

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/gen"
)

func TestWorkloadFile(t *testing.T) {
	w, err := LoadWorkload("testdata/matrix.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	if err := w.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Rate != 20000 || cfg.Duration != 30*time.Second || len(cfg.Strategies) != 5 || cfg.Policy.Records != 10000 ||
		cfg.Policy.Interval != time.Minute || cfg.Name != "matrix" {
		t.Fatalf("applied config: %+v", cfg)
	}
}

func TestWorkloadRateProfile(t *testing.T) {
	w, err := ReadWorkload(strings.NewReader(`{"rate_profile": "steps:1k@10s,5k@20s", "gen_workers": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	if err := w.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p := cfg.pacer()
	if p.String() != "steps:1000@10s,5000@20s" || p.Length() != 30*time.Second || gen.Total(p) != 110_000 || cfg.GenWorkers != 2 {
		t.Fatalf("pacer %v (length %v, %d ticks), %d workers: want steps:1000@10s,5000@20s, 30s, 110000 ticks, 2 workers",
			p, p.Length(), gen.Total(p), cfg.GenWorkers)
	}
}

func TestWorkloadFileErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"rate": 10, "rat": 5}`, `unknown field "rat"`},
		{`{"rate": "fast"}`, `cannot unmarshal string into Go struct field WorkloadFile.rate of type float64`},
		{`{"duration": "soon"}`, `workload duration "soon": not a duration`},
		{`{"rate": 1} {"rate": 2}`, `data after the JSON object`},
		{`[1,2]`, `cannot unmarshal array`},
		{`{"rate": 0}`, `rate 0: allowed 1..10000000 ticks/s`},
		{`{"flush_records": -1}`, `flush-records -1: allowed`},
		{`{"strategies": ["jsonl", "csv"]}`, `strategy "csv": allowed`},
		{`{"layout": "daily"}`, `layout "daily": allowed`},
		{`{"rate_profile": "ramp:1000-300000/5m"}`, `rate profile "ramp:1000-300000/5m": want ramp:FROM-TO@DURATION`},
		{`{"rate_profile": "steps:1000@1m", "duration": "1m"}`, `rate_profile sets the rate and the duration`},
		{`{"gen_workers": 2000}`, `gen-workers 2000: allowed 0 (automatic) or 1..1024`},
	}
	for _, tt := range tests {
		w, err := ReadWorkload(strings.NewReader(tt.in))
		if err == nil {
			cfg := Default()
			if err = w.Apply(&cfg); err == nil {
				err = cfg.Validate()
			}
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// FuzzReadWorkload: the parser never panics, and whatever it accepts
// either applies and validates or is rejected with an error.
func FuzzReadWorkload(f *testing.F) {
	if b, err := os.ReadFile("testdata/matrix.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"rate": 1e308, "duration": "-5s", "partitions": 2147483647}`))
	f.Add([]byte(`{"strategies": null, "max_age": "1h1h"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ReadWorkload(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		cfg := Default()
		if w.Apply(&cfg) == nil {
			_ = cfg.Validate()
		}
	})
}

// TestWorkloadForProcesses: one file describes a run spread over
// processes; produce takes the generator's fields, sink the sink's.
func TestWorkloadForProcesses(t *testing.T) {
	w, err := ReadWorkload(strings.NewReader(`{"rate": 300000, "duration": "5m", "seed": 7, "symbols": 500, "topic": "t", "partitions": 24,
		"gen_workers": 2, "acks": "leader", "shard": "1/3", "start_at": "2026-12-02T03:00:00Z", "drain_at": "2026-12-02T03:05:10Z",
		"strategies": ["parquet-zstd"], "layout": "dt-symbol", "flush_records": 100000, "flush_interval": "1m", "sinks": 4, "mode": "parallel"}`))
	if err != nil {
		t.Fatal(err)
	}
	var p ProduceConfig
	if err := w.ApplyProduce(&p); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	if p.Rate != 300000 || p.Duration != 5*time.Minute || p.Model.Seed != 7 || p.Model.Symbols != 500 || p.Topic != "t" || p.Partitions != 24 ||
		p.Workers != 2 || p.Client.Acks != "leader" || p.Shard != (gen.Shard{Index: 1, Count: 3}) || !p.StartAt.Equal(start) {
		t.Fatalf("produce config %+v", p)
	}
	var s SinkConfig
	if err := w.ApplySink(&s); err != nil {
		t.Fatal(err)
	}
	if s.Topic != "t" || s.Strategy != "parquet-zstd" || s.Layout != "dt-symbol" || s.Policy.Records != 100000 || s.Policy.Interval != time.Minute ||
		!s.DrainAt.Equal(start.Add(5*time.Minute+10*time.Second)) {
		t.Fatalf("sink config %+v", s)
	}
	// bench keeps taking what it took; the distributed fields are not its.
	cfg := Default()
	if err := w.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Sinks != 4 || cfg.Mode != "parallel" || cfg.GenWorkers != 2 {
		t.Fatalf("bench config %+v", cfg)
	}
}
