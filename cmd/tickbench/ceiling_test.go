package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCeilingRejectsBadInput: each bad value fails before anything starts,
// naming the value and what is allowed.
func TestCeilingRejectsBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--slo", "e2e-p99>2s"}, `slo "e2e-p99>2s": term "e2e-p99>2s": allowed METRIC-QUANTILE<DURATION, comma-separated, METRIC one of e2e, upload, publish`},
		{[]string{"--slo", "lag-p99<2s"}, `slo "lag-p99<2s": metric "lag": allowed`},
		{[]string{"--resolution", "80%"}, `resolution "80%": allowed 0.1%..50% of the answer`},
		{[]string{"--start", "0"}, "start 0: allowed 1..10000000 ticks/s"},
		{[]string{"--step", "1s"}, "step 1s: allowed 2s..10m"},
		{[]string{"--step", "soon"}, `invalid value "soon" for flag -step: not a duration`},
		{[]string{"--max-duration", "5s"}, "max-duration 5s: allowed step 15s..24h"},
		{[]string{"--strategies", "jsonl,xml"}, `strategy "xml": allowed`},
		{[]string{"--uploaders", "0", "--sinks", "0"}, "sinks 0: allowed 1..64"},
		{[]string{"--uploaders", "999"}, "uploaders 999: allowed 0 (each strategy's own) or 1..256"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			env, _, _ := testEnv()
			args := append([]string{"ceiling", "--data-dir", filepath.Join(dir, "s3"), "--out", filepath.Join(dir, "results")}, tt.args...)
			err := run(context.Background(), args, env)
			var u usageError
			if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%v) = %v, want a usage error containing %q", tt.args, err, tt.want)
			}
			for _, sub := range []string{"s3", "results"} {
				if _, err := os.Stat(filepath.Join(dir, sub)); !os.IsNotExist(err) {
					t.Fatalf("%s exists: the search started before rejecting its input", sub)
				}
			}
		})
	}
}
