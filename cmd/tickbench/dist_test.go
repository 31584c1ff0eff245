package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistRejectsBadInput: the distributed run's flags and workload fields
// are rejected before anything connects (the broker address is a closed
// port), with a usage error naming the value and what is allowed.
func TestDistRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badShard := write("shard.json", `{"shard": "3/3"}`)
	twoStrategies := write("two.json", `{"strategies": ["jsonl", "parquet-zstd"]}`)
	badStart := write("start.json", `{"start_at": "tomorrow"}`)
	benchResult := write("bench.json", `{"schema": "tickbench.result/v1.3", "name": "x"}`)
	produce := []string{"produce", "--brokers", "127.0.0.1:1", "--rate", "10", "--duration", "2s"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{append(produce, "--shard", "3/3"), `invalid value "3/3" for flag -shard: shard 3/3: allowed i/N with 1 <= N <= 1024 and 0 <= i < N`},
		{append(produce, "--shard", "1"), `shard "1": not i/N (e.g. 0/3: the first of 3 shards)`},
		{append(produce, "--start-at", "in 5 minutes"), `invalid value "in 5 minutes" for flag -start-at: not an RFC 3339 instant (e.g. 2026-12-02T03:00:00Z)`},
		{append(produce, "--start-at", "2020-01-02T03:04:05Z"), "start at 2020-01-02T03:04:05Z: "},
		{append(produce, "--workload", badShard), "shard.json: workload shard 3/3: allowed i/N"},
		{append(produce, "--workload", badStart), `start.json: workload start_at "tomorrow": not an RFC 3339 instant`},
		{[]string{"sink", "--brokers", "127.0.0.1:1", "--group", "g", "--prefix", "p/", "--drain-at", "later"}, `flag -drain-at: not an RFC 3339 instant`},
		{[]string{"sink", "--workload", twoStrategies}, "workload strategies [jsonl parquet-zstd]: a sink process lands one; allowed a list of one"},
		{[]string{"merge"}, "merge takes the result files of one run's processes"},
		{[]string{"merge", "--out", "m.txt", "p.json"}, `--out "m.txt": allowed a file name ending in .json`},
		{[]string{"verify", "--expect", "5"}, "--prefix: required"},
		{[]string{"verify", "--prefix", "p/"}, "--expect 0: allowed 1..10000000000 (or --result with a merged result)"},
		{[]string{"verify", "--prefix", "p/", "--stack", "aws", "--expect", "3"}, `--stack "aws": allowed local`},
	} {
		env, _, _ := testEnv()
		err := run(context.Background(), tt.args, env)
		var u usageError
		if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%v) = %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
	// A result that is not a process's is refused by merge, naming it.
	env, _, _ := testEnv()
	if err := run(context.Background(), []string{"merge", benchResult}, env); err == nil || !strings.Contains(err.Error(), `merge x: role "" is not a process's result`) {
		t.Errorf("merge of a bench result: %v", err)
	}
}
