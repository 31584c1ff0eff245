package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/deploy/kubernetes"
	"github.com/tickbench/tickbench/internal/testrepo"
)

// loadManifests reads deploy/kubernetes with the run's per-run settings
// filled in (START_AT and DRAIN_AT are empty in the repository, to be set
// for each run), and Kafka and S3 pointed at closed loopback ports.
func loadManifests(t *testing.T) *kubernetes.Manifests {
	t.Helper()
	m, err := kubernetes.Load(filepath.Join(testrepo.Root(t), "deploy", "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	run := m.ConfigMaps["tickbench-run"]
	if run == nil {
		t.Fatal("no ConfigMap tickbench-run")
	}
	now := time.Now().UTC()
	run.Data["START_AT"] = now.Add(time.Hour).Format(time.RFC3339)
	run.Data["DRAIN_AT"] = now.Add(2 * time.Hour).Format(time.RFC3339)
	run.Data["TICKBENCH_BROKERS"] = "127.0.0.1:1"
	run.Data["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:1"
	// The SDK reads these itself: static keys, so it never asks an
	// instance metadata service for credentials.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return m
}

// runManifestCommand runs one container's command line in-process, its
// mounted files and folders placed under a temporary folder, with a context
// that is already cancelled: a command line that parses and validates gets
// as far as its first call to Kafka or S3, and stops there.
func runManifestCommand(t *testing.T, c kubernetes.Command, root string) error {
	t.Helper()
	args := append([]string{}, c.Args...)
	for path, data := range c.Files {
		local := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range args {
		// Absolute paths in flags (--workload=/etc/..., --out=/merged/...)
		// move under root.
		if name, val, ok := strings.Cut(a, "=/"); ok {
			local := filepath.Join(root, val)
			if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
				t.Fatal(err)
			}
			args[i] = name + "=" + local
		}
	}
	env, _, errb := testEnv()
	env.getenv = func(k string) string { return c.Env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := run(ctx, args, env)
	if errb.Len() > 0 {
		t.Logf("%s/%s stderr: %s", c.Pod, c.Container, errb)
	}
	if c.Args[0] == "merge" {
		// The init container leaves the merged result for the next one.
		out := flagValue(args, "out")
		r := &bench.Result{Schema: bench.SchemaVersion, Name: "k8s", Role: bench.RoleMerged, Strategies: []bench.StrategyResult{{
			Strategy: "parquet-zstd", Prefix: "runs/r1/lake/", Producer: bench.Producer{Sent: 9_000_000, Acked: 9_000_000}}}}
		if err := r.Save(context.Background(), out, nil); err != nil {
			t.Fatal(err)
		}
	}
	return err
}

// TestKubernetesCommands: every command line of deploy/kubernetes parses
// and validates with tickbench's own flags, the workload file of its
// ConfigMap included; the Indexed Job's shards are 0/N..N-1/N with N its
// completions; producers and sinks agree on the topic.
func TestKubernetesCommands(t *testing.T) {
	m := loadManifests(t)
	cmds, err := m.Commands()
	if err != nil {
		t.Fatal(err)
	}
	shards := map[string]bool{}
	topics := map[string]bool{}
	root := t.TempDir()
	for _, c := range cmds {
		err := runManifestCommand(t, c, filepath.Join(root, c.Pod))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s/%s: tickbench %s: %v (want it to stop at its first I/O, on the cancelled context)", c.Pod, c.Container, strings.Join(c.Args, " "), err)
		}
		switch c.Args[0] {
		case "produce":
			shards[flagValue(c.Args, "shard")] = true
			topics[flagValue(c.Args, "topic")] = true
		case "sink":
			topics[flagValue(c.Args, "topic")] = true
		}
	}
	n := len(shards)
	for i := range n {
		if !shards[fmt.Sprintf("%d/%d", i, n)] {
			t.Errorf("shards %v: want 0/%d..%d/%d, one per completion index", shards, n, n-1, n)
		}
	}
	if n < 2 || len(topics) != 1 {
		t.Errorf("shards %v, topics %v: want several shards and one topic", shards, topics)
	}
}

// TestKubernetesBrokenCommands: a manifest whose command line tickbench
// would refuse fails the check, with tickbench's own usage error.
func TestKubernetesBrokenCommands(t *testing.T) {
	for _, tt := range []struct {
		name, job, old, new, want string
	}{
		{"shard count above completions", "tickbench-produce", "--shard=$(JOB_COMPLETION_INDEX)/3", "--shard=$(JOB_COMPLETION_INDEX)/2", "shard 2/2"},
		{"misspelt flag", "tickbench-sink", "--drain-at=$(DRAIN_AT)", "--drain-after=$(DRAIN_AT)", "flag provided but not defined: -drain-after"},
		{"bad value", "tickbench-sink", "--session-timeout=10s", "--session-timeout=10", "invalid value \"10\" for flag -session-timeout"},
		{"missing required flag", "tickbench-verify", "--prefix=runs/$(RUN_ID)/lake/", "--bucket=$(BUCKET)", "--prefix: required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := loadManifests(t)
			found := false
			for _, j := range m.Jobs {
				if j.Name != tt.job {
					continue
				}
				cs := append(j.Spec.Template.Spec.InitContainers, j.Spec.Template.Spec.Containers...)
				for _, c := range cs {
					for i, a := range c.Args {
						if a == tt.old {
							c.Args[i], found = tt.new, true
						}
					}
				}
			}
			if !found {
				t.Fatalf("job %s has no argument %q to break", tt.job, tt.old)
			}
			cmds, err := m.Commands()
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range cmds {
				err := runManifestCommand(t, c, filepath.Join(t.TempDir(), c.Pod))
				var u usageError
				if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
					failed = append(failed, err.Error())
				}
			}
			if len(failed) == 0 || !strings.Contains(strings.Join(failed, "\n"), tt.want) {
				t.Fatalf("usage errors %q: want one containing %q", failed, tt.want)
			}
		})
	}
}
