package compare

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const name = "Tickbench/strategy=jsonl/rate=2000"

func samples(unit string, vs ...float64) Samples {
	s := Samples{}
	for _, v := range vs {
		s.add(name, unit, v)
	}
	return s
}

func TestCompareVerdicts(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		unit      string
		base, new []float64
		want      string
	}{
		{"A/A with noise", "e2e-p99-us", []float64{100, 103, 98, 101, 99}, []float64{102, 97, 100, 104, 99}, Same},
		{"identical deterministic values", "objects", []float64{20, 20, 20, 20, 20}, []float64{20, 20, 20, 20, 20}, Same},
		{"20% more objects", "objects", []float64{20, 20, 20, 20, 20}, []float64{24, 24, 24, 24, 24}, Regressed},
		{"20% slower p99", "e2e-p99-us", []float64{100, 103, 98, 101, 99}, []float64{120, 123, 118, 121, 119}, Regressed},
		{"20% lower rate (higher is better)", "ticks/s", []float64{1000, 1001, 999, 1000, 1002}, []float64{800, 801, 799, 800, 802}, Regressed},
		{"20% higher rate", "ticks/s", []float64{1000, 1001, 999, 1000, 1002}, []float64{1200, 1201, 1199, 1200, 1202}, Improved},
		{"5% worse: significant but within 10%", "bytes/tick", []float64{100, 100.1, 100.2, 100.3, 100.4}, []float64{105, 105.1, 105.2, 105.3, 105.4}, WithinThr},
		{"3 samples cannot be significant", "objects", []float64{20, 20.1, 20.2}, []float64{30, 30.1, 30.2}, TooFew},
		{"unknown unit", "frobs/s", []float64{1, 1.1, 1.2, 1.3, 1.4}, []float64{2, 2.1, 2.2, 2.3, 2.4}, NoDirection},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			rep := Compare(samples(tc.unit, tc.base...), samples(tc.unit, tc.new...), DefaultOptions())
			if len(rep.Metrics) != 1 {
				t.Fatalf("metrics %+v", rep.Metrics)
			}
			m := rep.Metrics[0]
			if m.Verdict != tc.want {
				t.Fatalf("verdict %q (change %+.3f, p %.4f, note %q), want %q", m.Verdict, m.Change, m.P, m.Note, tc.want)
			}
			if err := rep.Err(); (err != nil) != (tc.want == Regressed) || (err != nil && !errors.Is(err, ErrRegression)) {
				t.Fatalf("Err() = %v for verdict %s", err, m.Verdict)
			}
			var out strings.Builder
			rep.Print(&out)
			if !strings.Contains(out.String(), tc.want) {
				t.Fatalf("printed report lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}

func TestCompareUnitsFilter(t *testing.T) {
	base, new := samples("objects", 20, 20, 20, 20, 20), samples("objects", 30, 30, 30, 30, 30)
	base.add(name, "bytes/tick", 1)
	new.add(name, "bytes/tick", 1)
	o := DefaultOptions()
	o.Units = []string{"bytes/tick"}
	if rep := Compare(base, new, o); len(rep.Metrics) != 1 || rep.Err() != nil {
		t.Fatalf("with only bytes/tick compared: %+v", rep.Metrics)
	}
	o.Units = []string{"furlongs"}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), `unit "furlongs": allowed`) {
		t.Fatalf("Validate = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a.bench.txt", "goos: linux\nBenchmarkTickbench/strategy=jsonl/rate=2000 1 2000 ticks/s 20 objects\nBenchmarkTickbench/strategy=jsonl/rate=2000 1 1990 ticks/s 20 objects\n")
	write("b.bench.txt", "BenchmarkTickbench/strategy=jsonl/rate=2000 1 1995 ticks/s 21 objects\n")
	write("ignored.json", "{}")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s["Tickbench/strategy=jsonl/rate=2000"]["ticks/s"]; len(got) != 3 || got[2] != 1995 {
		t.Fatalf("ticks/s samples %v", got)
	}
	bad := write("bad.txt", "BenchmarkX 1 abc ticks/s\n")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.txt") {
		t.Fatalf("Load(bad) = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "none")); err == nil {
		t.Fatal("Load of a missing path succeeded")
	}
	empty := t.TempDir()
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "no .bench.txt or .json") {
		t.Fatalf("Load(empty dir) = %v", err)
	}
}
