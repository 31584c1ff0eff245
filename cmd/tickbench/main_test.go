package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testEnv() (environment, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return environment{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, &out, &errb
}

// TestBenchRejectsBadInput: each bad value fails before anything starts
// (no data folder, no results folder) with a message naming the flag, the
// value and what is allowed.
func TestBenchRejectsBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0"}, "rate 0: allowed 1..10000000 ticks/s"},
		{[]string{"--rate", "-5"}, "rate -5: allowed 1..10000000 ticks/s"},
		{[]string{"--rate", "fast"}, `invalid value "fast" for flag -rate: not a number`},
		{[]string{"--duration", "abc"}, `invalid value "abc" for flag -duration: not a duration: use a number with a unit, e.g. 30s, 5m, 1h30m; allowed 1s..168h`},
		{[]string{"--duration", "0s"}, "duration 0s: allowed 1s..168h"},
		{[]string{"--rate", "max"}, "--rate max: needs --ticks N"},
		{[]string{"--ticks", "5", "--duration", "2s"}, "--ticks 5 and --duration 2s: give one of them"},
		{[]string{"--rate", "max", "--ticks", "2000000000"}, "ticks 2000000000: allowed 1..1000000000"},
		{[]string{"--flush-records=0"}, "flush-records 0: allowed 1..10000000"},
		{[]string{"--flush-interval", "2h"}, "flush-interval 2h0m0s: allowed 1ms..1h"},
		{[]string{"--symbols", "0"}, "symbols 0: allowed 1..456976"},
		{[]string{"--strategies", "jsonl,xml"}, `strategy "xml": allowed iceberg-parquet-snappy, iceberg-parquet-zstd, json-per-tick, jsonl, jsonl.gz, parquet-snappy, parquet-zstd`},
		{[]string{"--strategies", "jsonl,jsonl"}, `strategy "jsonl": given twice`},
		{[]string{"--strategies", "iceberg-parquet-zstd", "--commit-interval", "5s,x"}, `invalid value "5s,x" for flag -commit-interval: "x": not a duration`},
		{[]string{"--strategies", "iceberg-parquet-zstd", "--commit-interval", "5s,2h"}, "commit-interval 2h0m0s: allowed 100ms..1h0m0s"},
		{[]string{"--strategies", "iceberg-parquet-zstd", "--max-age", "1s"}, "max-age 1s: a table strategy cuts batches by their records only (use 0)"},
		{[]string{"--mode", "both"}, `mode "both": allowed sequential, parallel`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"--workload", "../../bench/testdata/matrix.json", "--rate", "0"}, "rate 0: allowed"},
		{[]string{"--workload=/nonexistent.json"}, "open /nonexistent.json: no such file or directory"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--s3-sse", "aes"}, `s3-sse "aes": allowed AES256, aws:kms`},
		{[]string{"--s3-sse", "AES256", "--s3-sse-kms-key-id", "k"}, `s3-sse-kms-key-id "k": needs --s3-sse aws:kms`},
		{[]string{"--sasl-mechanism", "gssapi"}, `sasl-mechanism "gssapi": allowed plain, scram-sha-256, scram-sha-512, aws-msk-iam`},
		{[]string{"--sasl-mechanism", "scram-sha-512", "--sasl-user", "u"}, "needs --sasl-user and a password"},
		{[]string{"--sasl-password", "pw-9f3a"}, "sasl-user and sasl-password need --sasl-mechanism"},
		{[]string{"--tls-ca", "ca.pem"}, "need --tls"},
		{[]string{"--tls", "--tls-cert", "c.pem"}, `tls-cert "c.pem" and tls-key "": give both or neither`},
		{[]string{"--tls"}, "only for external brokers"},
		{[]string{"--rate-profile", "ramp:1k-2k@1m", "--rate", "5"}, "--rate-profile sets the rate and the duration: give it without --rate and --duration"},
		{[]string{"--duration", "5m", "--rate-profile", "ramp:1k-2k@1m"}, "--rate-profile sets the rate and the duration"},
		{[]string{"--rate-profile", "ramp:1000-300000/5m"}, `invalid value "ramp:1000-300000/5m" for flag -rate-profile: rate profile "ramp:1000-300000/5m": want ramp:FROM-TO@DURATION, e.g. ramp:1000-300000@5m`},
		{[]string{"--rate-profile", "sine:100+-200/1s@1m"}, "sine amplitude 200: allowed 0..100"},
		{[]string{"--rate-profile", "steps:1k@1s", "--join-at", "2s"}, "join-at 2s: allowed 0 (none)..duration 1s"},
		{[]string{"--gen-workers", "-1"}, "--gen-workers -1: allowed 0 (automatic) or 1..1024"},
		{[]string{"--stack", "aws"}, "--stack aws: needs --brokers (or TICKBENCH_BROKERS)"},
		{[]string{"--stack", "cloud"}, `--stack "cloud": allowed embedded, local, external, aws`},
		{[]string{"--net-fault", "latency"}, "--net-fault latency: needs --stack local (started with make up FAULTS=1)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			env, _, _ := testEnv()
			args := append([]string{"bench", "--data-dir", filepath.Join(dir, "s3"), "--out", filepath.Join(dir, "results")}, tt.args...)
			err := run(context.Background(), args, env)
			var u usageError
			if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%v) = %v, want a usage error containing %q", tt.args, err, tt.want)
			}
			if strings.Contains(err.Error(), "pw-9f3a") {
				t.Fatalf("the error shows the password: %v", err)
			}
			for _, sub := range []string{"s3", "results"} {
				if _, err := os.Stat(filepath.Join(dir, sub)); !os.IsNotExist(err) {
					t.Fatalf("%s exists: the run started before rejecting its input", sub)
				}
			}
		})
	}
}

// TestRateProfileAndWorkload: --rate replaces a workload file's rate
// profile, --duration alone cannot, and produce takes the same flags.
func TestRateProfileAndWorkload(t *testing.T) {
	workload := filepath.Join(t.TempDir(), "w.json")
	if err := os.WriteFile(workload, []byte(`{"rate_profile": "steps:1k@1s,2k@1s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--workload", workload, "--duration", "5s"}, "--duration: the workload's rate_profile sets the duration; give --rate-profile instead, or --rate to replace the profile"},
		{[]string{"bench", "--workload", workload, "--rate", "0"}, "rate 0: allowed 1..10000000 ticks/s"}, // the constant rate, not the profile
		{[]string{"produce", "--rate-profile", "burst:1,2@1s/1s@1m", "--brokers", "127.0.0.1:1"}, "burst for 1s: allowed 1ms..999.999999ms (below every)"},
		{[]string{"produce", "--rate-profile", "steps:1k@1m", "--rate", "5", "--brokers", "127.0.0.1:1"}, "--rate-profile sets the rate and the duration"},
		{[]string{"produce", "--gen-workers", "2000", "--brokers", "127.0.0.1:1"}, "--gen-workers 2000: allowed 0 (automatic) or 1..1024"},
	} {
		env, _, _ := testEnv()
		err := run(context.Background(), tt.args, env)
		var u usageError
		if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%v) = %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	env, _, errb := testEnv()
	err := run(context.Background(), []string{"benhc"}, env)
	if err == nil || !strings.Contains(err.Error(), `unknown command "benhc"`) || !strings.Contains(errb.String(), "bench") {
		t.Fatalf("err %v, stderr %q", err, errb.String())
	}
}

// TestBenchEndToEnd runs the CLI in-process on the embedded stack.
func TestBenchEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env, out, _ := testEnv()
	// Set machine-wide on many hosts; the embedded S3 is http://.
	env.getenv = func(k string) string {
		if k == "AWS_CA_BUNDLE" {
			return "/etc/ssl/certs/ca-certificates.crt"
		}
		return ""
	}
	err := run(context.Background(), []string{"bench", "--rate", "500", "--duration", "1s", "--quiet",
		"--data-dir", filepath.Join(dir, "s3"), "--out", filepath.Join(dir, "results"), "--name", "cli"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"achieved", "  yes\n", "end-to-end jsonl", "-cli.json"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "results", "*-cli.json"))
	if len(files) != 1 {
		t.Fatalf("result files %v, want one", files)
	}
}

// TestBenchFixedCount: --rate max --ticks N sends exactly N ticks, and the
// benchmark lines carry the landed rate the regression gate compares.
func TestBenchFixedCount(t *testing.T) {
	dir := t.TempDir()
	env, out, _ := testEnv()
	err := run(context.Background(), []string{"bench", "--rate", "max", "--ticks", "3000", "--quiet",
		"--data-dir", filepath.Join(dir, "s3"), "--out", filepath.Join(dir, "results"), "--name", "max"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sent 3,000  acked 3,000") {
		t.Fatalf("output lacks the count:\n%s", out)
	}
	lines, _ := filepath.Glob(filepath.Join(dir, "results", "*-max.bench.txt"))
	if len(lines) != 1 {
		t.Fatalf("benchmark files %v, want one", lines)
	}
	b, err := os.ReadFile(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "/rate=10000000 1 ") || !strings.Contains(string(b), " landed-ticks/s ") {
		t.Fatalf("benchmark lines lack rate=10000000 or landed-ticks/s:\n%s", b)
	}
}

// TestBenchBrokerUnreachable: a broker that does not answer fails the run
// within the connect timeout, with the address in the message.
func TestBenchBrokerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dir := t.TempDir()
	env, _, _ := testEnv()
	began := time.Now()
	err = run(context.Background(), []string{"bench", "--brokers", addr, "--connect-timeout", "2s", "--quiet",
		"--data-dir", filepath.Join(dir, "s3"), "--out", filepath.Join(dir, "results")}, env)
	if err == nil || !strings.Contains(err.Error(), "kafka brokers "+addr+" unreachable (connect timeout 2s)") {
		t.Fatalf("err = %v, want the unreachable broker named", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Fatalf("took %v to give up", took)
	}
}

// TestBadFlagPrintsNoUsage: a bad value gets one clear line, not the whole
// flag list; -h gets the list.
func TestBadFlagPrintsNoUsage(t *testing.T) {
	env, _, errb := testEnv()
	if err := run(context.Background(), []string{"bench", "--layout", "hourly"}, env); err == nil ||
		!strings.Contains(err.Error(), `invalid value "hourly" for flag -layout: allowed none, dt-hour, dt-symbol`) {
		t.Fatalf("err = %v", err)
	}
	if errb.Len() != 0 {
		t.Fatalf("stderr got %q, want nothing (main prints the error)", errb.String())
	}
	env, _, errb = testEnv()
	if err := run(context.Background(), []string{"bench", "-h"}, env); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "-flush-records") {
		t.Fatalf("-h: err %v, stderr %q", err, errb.String())
	}
}
