package bench

import (
	"os"
	"strings"
	"testing"
	"time"
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
