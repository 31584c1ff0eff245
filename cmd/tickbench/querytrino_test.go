package main

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/internal/testrepo"
)

// TestLocalQueryTrino: after a local run, `query --engine trino` counts
// every landed tick and says how many bytes Trino read from S3.
func TestLocalQueryTrino(t *testing.T) {
	if os.Getenv("TICKBENCH_LOCAL_STACK") == "" {
		t.Skip("needs the real local stack with Trino: run `make test`, or `make up` and set TICKBENCH_LOCAL_STACK=1")
	}
	t.Chdir(testrepo.Root(t)) // the local stack's state is under .tickbench/run
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, _, errb := testEnv()
	if err := run(ctx, []string{"bench", "--stack", "local", "--rate", "1000", "--duration", "2s", "--strategies", "jsonl,parquet-snappy",
		"--out", out, "--quiet"}, env); err != nil {
		t.Fatalf("bench: %v\n%s", err, errb)
	}
	path, err := latestResult(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := result.ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	bytesRead := regexp.MustCompile(`read (\d+) bytes from S3 \(physical input\), billed as 10485760 bytes`)
	for _, s := range res.Strategies {
		env, stdout, errb := testEnv()
		if err := run(ctx, []string{"query", "--engine", "trino", "--result", path, "--strategy", s.Strategy, "SELECT count(*) FROM ticks"}, env); err != nil {
			t.Fatalf("query %s: %v\n%s", s.Strategy, err, errb)
		}
		lines := strings.Split(stdout.String(), "\n")
		m := bytesRead.FindStringSubmatch(stdout.String())
		if len(lines) < 3 || lines[1] != strconv.FormatInt(s.Verify.Landed, 10) || m == nil {
			t.Fatalf("query %s printed:\n%s\nwant the count %d and the bytes read", s.Strategy, stdout, s.Verify.Landed)
		}
		// count(*) reads no column of Parquet: Trino takes only the
		// objects' footers (or them whole, being small); of JSON all.
		if n, _ := strconv.ParseInt(m[1], 10, 64); n <= 0 || (s.Format == "jsonl" && n != s.Bytes) {
			t.Errorf("query %s: read %d bytes of %d landed", s.Strategy, n, s.Bytes)
		}
	}
	// A run on the embedded stack landed where the local Trino does not
	// read.
	res.Stack.Name = "embedded"
	if _, err := res.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	env, _, _ = testEnv()
	var u usageError
	if err := run(ctx, []string{"query", "--engine", "trino", "--results", out, "SELECT 1"}, env); err == nil ||
		!strings.Contains(err.Error(), "landed on the embedded stack's S3") || !errors.As(err, &u) {
		t.Errorf("query --engine trino of an embedded run: %v, want a usage error", err)
	}
}
