package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchWritesReportAndReportCommand: a bench run writes its HTML report
// next to the JSON; `tickbench report` renders it again, with a Markdown
// summary, and rejects bad input naming it.
func TestBenchWritesReportAndReportCommand(t *testing.T) {
	dir := t.TempDir()
	env, out, _ := testEnv()
	err := run(context.Background(), []string{"bench", "--rate", "500", "--duration", "1s", "--quiet", "--strategies", "jsonl,jsonl.gz",
		"--data-dir", filepath.Join(dir, "s3"), "--out", dir, "--name", "rep"}, env)
	if err != nil {
		t.Fatal(err)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "*-rep.json"))
	hlogs, _ := filepath.Glob(filepath.Join(dir, "*-rep-*.hlog"))
	if len(jsons) != 1 || len(hlogs) != 6 {
		t.Fatalf("json %v, hlog %v: want 1 and 2 strategies x 3", jsons, hlogs)
	}
	html := strings.TrimSuffix(jsons[0], ".json") + ".html"
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), `id="latency-e2e"`) || !strings.Contains(out.String(), "report     "+html) {
		t.Fatalf("report next to the result: %v\n%s", err, out)
	}

	env, out, _ = testEnv()
	other, md := filepath.Join(dir, "again.html"), filepath.Join(dir, "summary.md")
	if err := run(context.Background(), []string{"report", jsons[0], jsons[0], "-o", other, "--markdown", md}, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "report     "+other+" (2 runs, 4 strategies)") {
		t.Fatalf("output:\n%s", out)
	}
	b, err := os.ReadFile(md)
	if err != nil || strings.Count(string(b), " jsonl.gz | ") != 2 {
		t.Fatalf("markdown %v:\n%s", err, b)
	}

	// The run's folder as base and as new: an A/A comparison.
	env, out, _ = testEnv()
	cmp := filepath.Join(dir, "compare.html")
	if err := run(context.Background(), []string{"report", "--base", dir, "--units", "objects=1%", dir, "-o", cmp, "--markdown", "-"}, env); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(cmp); err != nil || !strings.Contains(string(b), `id="latency-e2e-500"`) ||
		!strings.Contains(out.String(), "| strategy=jsonl.gz/rate=500 | objects |") {
		t.Fatalf("comparison page (%v) or markdown:\n%s", err, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "report takes one or more result files"},
		{[]string{"report", "--units", "objects", jsons[0]}, "--units and --threshold: only with --base"},
		{[]string{"report", "--base", dir, "--units", "frobs", jsons[0]}, `unit "frobs": allowed`},
		{[]string{"report", "--base", t.TempDir(), jsons[0]}, "has no result files"},
		{[]string{"report", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"report", md}, "summary.md"},
	} {
		env, _, _ := testEnv()
		if err := run(context.Background(), tc.args, env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
