package compare

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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

func TestCompareRules(t *testing.T) {
	base, new := samples("objects", 20, 20, 20, 20, 20), samples("objects", 30, 30, 30, 30, 30)
	base.add(name, "bytes/tick", 1)
	new.add(name, "bytes/tick", 1)
	other := "Tickbench/strategy=jsonl/rate=10000000"
	for i := range 5 {
		base.add(other, "cpu-s/Mtick", 5+0.01*float64(i))
		new.add(other, "cpu-s/Mtick", 5.3+0.01*float64(i)) // +6%
		base.add(other, "objects", 20)
		new.add(other, "objects", 40)
	}
	for _, tc := range []struct {
		spec    string
		metrics int
		regs    []string // benchmark unit of each regression
	}{
		{"bytes/tick", 1, nil},
		{"cpu-s/Mtick", 1, nil}, // +6% is within the default 10%
		{"cpu-s/Mtick=5%", 1, []string{other + " cpu-s/Mtick"}},
		{"rate=2000:objects", 1, []string{name + " objects"}},
		{"rate=200:objects", 0, nil}, // whole elements: rate=200 is not rate=2000
		{"rate=:objects=50%", 2, []string{other + " objects"}},
		{"strategy=jsonl/rate=10000000:objects", 1, []string{other + " objects"}},
		{"rate=2000:objects=60%,objects=10%", 2, []string{other + " objects"}},
		{"objects=0.5,cpu-s/Mtick=0.05", 3, []string{other + " cpu-s/Mtick", other + " objects"}},
	} {
		rules, err := ParseRules(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		o := DefaultOptions()
		o.Rules = rules
		if err := o.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		rep := Compare(base, new, o)
		var regs []string
		for _, m := range rep.Regressions() {
			regs = append(regs, m.Benchmark+" "+m.Unit)
		}
		if len(rep.Metrics) != tc.metrics || strings.Join(regs, ";") != strings.Join(tc.regs, ";") {
			t.Errorf("%s: %d metrics, regressions %v; want %d metrics, regressions %v", tc.spec, len(rep.Metrics), regs, tc.metrics, tc.regs)
		}
	}
	for spec, want := range map[string]string{
		"furlongs":        `unit "furlongs": allowed`,
		"objects=lots":    `rule "objects=lots": threshold "lots": not a number`,
		"objects=2000%":   "threshold 20 of objects: allowed 0..10",
		"rate=1:frobs=1%": `unit "frobs": allowed`,
	} {
		rules, err := ParseRules(spec)
		if err == nil {
			o := DefaultOptions()
			o.Rules = rules
			err = o.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", spec, err, want)
		}
	}
}

// TestMarkdown: the compare table for a job summary shows medians, change,
// p-value, threshold and verdict, the regression in bold.
func TestMarkdown(t *testing.T) {
	rep := Compare(samples("objects", 20, 20, 20, 20, 20), samples("objects", 24, 24, 24, 24, 24), DefaultOptions())
	var b strings.Builder
	rep.Markdown(&b)
	for _, want := range []string{
		"| benchmark | unit | base median | new median | change | p | n | threshold | verdict |\n| --- | --- | ---: |",
		"| strategy=jsonl/rate=2000 | objects | 20 | 24 | +20.0% | 0.008 | 5+5 | 10% | **REGRESSED** |",
		"1 regression(s) at alpha 0.05: strategy=jsonl/rate=2000 objects +20.0% (p=0.008, threshold 10%);",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
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

// LoadMedians turns each file (one process's runs) into one sample per
// benchmark and unit; Load keeps every line.
func TestLoadMedians(t *testing.T) {
	dir := t.TempDir()
	write := func(file string, vs ...string) {
		var b strings.Builder
		for _, v := range vs {
			b.WriteString("Benchmark" + name + " 1 " + v + " cpu-s/Mtick\n")
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.bench.txt", "3", "1", "2")
	write("b.bench.txt", "10", "40")
	all, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := all[name]["cpu-s/Mtick"]; len(got) != 5 {
		t.Fatalf("Load kept %v, want all 5 lines", got)
	}
	med, err := LoadMedians(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := med[name]["cpu-s/Mtick"]
	slices.Sort(got)
	if !slices.Equal(got, []float64{2, 25}) {
		t.Fatalf("LoadMedians gave %v, want the medians [2 25]", got)
	}
}
