package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickbench/tickbench/compare"
)

// benchSet runs `tickbench bench --count 5` of a short seeded workload on
// the embedded stack into its own folder and returns the folder.
func benchSet(t *testing.T, name string, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	env, _, errb := testEnv()
	args := append([]string{"bench", "--count", "5", "--rate", "1000", "--duration", "1s", "--partitions", "1", "--topic", "t-" + name,
		"--flush-records", "50", "--quiet", "--data-dir", filepath.Join(dir, "s3"), "--out", dir, "--name", name}, extra...)
	if err := run(context.Background(), args, env); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errb)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.bench.txt"))
	if len(files) != 1 {
		t.Fatalf("set files %v: want one .bench.txt holding the 5 runs", files)
	}
	b, _ := os.ReadFile(files[0])
	if n := strings.Count(string(b), "\nBenchmarkTickbench/"); n != 5 {
		t.Fatalf("%s holds %d benchmark lines, want 5:\n%s", files[0], n, b)
	}
	return dir
}

// TestCompareAAAndRegression is the CI gate's own check, through the real
// tool: two sets of 5 identical seeded runs compared on the gate's units
// report no regression; a set whose sink flushes 50 -> 42 records per
// object writes 24 objects instead of 20 for the same 1,000 ticks (+20%
// objects and PUTs per million ticks, a real cost regression of the
// sink), and compare reports it and fails. Absolute latencies are not used:
// on a shared 2-core machine they are noise (see `make regress`).
func TestCompareAAAndRegression(t *testing.T) {
	if testing.Short() {
		t.Skip("15 embedded runs")
	}
	base, again, worse := benchSet(t, "base"), benchSet(t, "again"), benchSet(t, "worse", "--flush-records", "42")
	// The units that do not depend on how fast or busy the machine is.
	units := "--units=bytes/tick,objects,puts/Mtick,achieved/target,scan-B/query"

	env, out, _ := testEnv()
	if err := run(context.Background(), []string{"compare", base, again, units}, env); err != nil {
		t.Fatalf("A/A reported %v:\n%s", err, out)
	}
	if !strings.Contains(out.String(), "no regression: ") {
		t.Fatalf("A/A output:\n%s", out)
	}

	env, out, _ = testEnv()
	md := filepath.Join(t.TempDir(), "compare.md")
	err := run(context.Background(), []string{"compare", "--threshold", "10%", base, worse, units, "--markdown", md}, env)
	if !errors.Is(err, compare.ErrRegression) {
		t.Fatalf("20%% more objects: compare returned %v:\n%s", err, out)
	}
	for _, want := range []string{"objects", "+20.0%", "puts/Mtick", compare.Regressed} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "| objects | 20 | 24 | +20.0% |") {
		t.Fatalf("markdown (%v):\n%s", err, b)
	}
}

func TestCompareRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", dir}, "compare takes BASE and NEW"},
		{[]string{"compare", "--threshold", "lots", dir, dir}, `invalid value "lots" for flag -threshold: not a number`},
		{[]string{"compare", "--threshold", "-5%", dir, dir}, "threshold -0.05: allowed 0..10"},
		{[]string{"compare", "--units", "furlongs", dir, dir}, `unit "furlongs": allowed`},
		{[]string{"compare", "--units", "objects=many", dir, dir}, `rule "objects=many": threshold "many": not a number`},
		{[]string{"compare", dir, dir}, "has no .bench.txt or .json files"},
		{[]string{"compare", "--per-file", "mean", dir, dir}, `--per-file "mean": allowed all, median`},
	} {
		env, _, _ := testEnv()
		err := run(context.Background(), tc.args, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestCompareS3Slowdown: the embedded S3 server answers every request 20%
// later (latency 50 ms -> 60 ms); over 5 runs each, compare finds upload
// latency regressed beyond 10% and fails.
func TestCompareS3Slowdown(t *testing.T) {
	if testing.Short() {
		t.Skip("10 embedded runs")
	}
	base, slower := benchSet(t, "s3-50ms", "--s3-faults", "latency=50ms"), benchSet(t, "s3-60ms", "--s3-faults", "latency=60ms")
	env, out, _ := testEnv()
	err := run(context.Background(), []string{"compare", "--units", "upload-p50-us", base, slower}, env)
	if !errors.Is(err, compare.ErrRegression) || !strings.Contains(out.String(), "upload-p50-us") {
		t.Fatalf("S3 20%% slower: compare returned %v:\n%s", err, out)
	}
	t.Logf("\n%s", out)
}

// TestBenchCountShortRuns: runs shorter than a second (a fixed count at
// --rate max) each keep their own result files, and the set gathers one
// benchmark line per run.
func TestBenchCountShortRuns(t *testing.T) {
	dir := t.TempDir()
	env, _, errb := testEnv()
	args := []string{"bench", "--count", "3", "--rate", "max", "--ticks", "2000", "--partitions", "1", "--topic", "t-short",
		"--quiet", "--lake-local-max", "0", "--data-dir", filepath.Join(dir, "s3"), "--out", dir, "--name", "short"}
	if err := run(context.Background(), args, env); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errb)
	}
	results, _ := filepath.Glob(filepath.Join(dir, "*-short-run[123].json"))
	sets, _ := filepath.Glob(filepath.Join(dir, "*.bench.txt"))
	if len(results) != 3 || len(sets) != 1 {
		t.Fatalf("results %v, sets %v: want 3 results named -short-runN and one .bench.txt", results, sets)
	}
	b, _ := os.ReadFile(sets[0])
	if n := strings.Count(string(b), "\nBenchmarkTickbench/"); n != 3 {
		t.Fatalf("%s holds %d benchmark lines, want 3:\n%s", sets[0], n, b)
	}
}
