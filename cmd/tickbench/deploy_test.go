package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/tickbench/tickbench/bench/result"
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
		r := &result.Result{Schema: result.SchemaVersion, Name: "k8s", Role: result.RoleMerged, Strategies: []result.StrategyResult{{
			Strategy: "parquet-zstd", Prefix: "runs/r1/lake/", Producer: result.Producer{Sent: 9_000_000, Acked: 9_000_000}}}}
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

// awsCommands returns the tickbench command lines of deploy/aws's worker
// user data, as bash would run them on a worker: the template's parameters
// at their defaults except those of params, CloudFormation's ${Name} and
// ${!Name} resolved as Fn::Sub does, then the script's variables (vars) and
// arrays expanded and the redirections dropped.
func awsCommands(t *testing.T, template string, params, vars map[string]string) [][]string {
	t.Helper()
	var tpl struct {
		Parameters map[string]struct{ Default any }
	}
	if err := yaml.Unmarshal([]byte(template), &tpl); err != nil {
		t.Fatal(err)
	}
	for name, p := range tpl.Parameters {
		if _, ok := params[name]; !ok && p.Default != nil {
			params[name] = fmt.Sprint(p.Default)
		}
	}
	script := cfnSub.ReplaceAllStringFunc(userData(t, template), func(ref string) string {
		name := ref[2 : len(ref)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		v, ok := params[name]
		if !ok {
			t.Fatalf("${%s}: no value for it in the test (a parameter without a default, a resource or a pseudo parameter)", name)
		}
		return v
	})
	arrays := map[string][]string{}
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if name, list, ok := strings.Cut(line, "=("); ok && shellName.MatchString(name) && strings.HasSuffix(list, ")") {
			arrays[name] = shellWords(t, strings.TrimSuffix(list, ")"), vars, arrays)
		}
		if words := shellWords(t, line, vars, arrays); len(words) > 0 && words[0] == "tickbench" {
			out = append(out, words[1:])
		}
	}
	return out
}

// userData is the block of the template's "Fn::Base64: !Sub |".
func userData(t *testing.T, template string) string {
	t.Helper()
	const head = "Fn::Base64: !Sub |\n"
	i := strings.Index(template, head)
	if i < 0 {
		t.Fatalf("no %q in the template", strings.TrimSpace(head))
	}
	indent := i - strings.LastIndex(template[:i], "\n") - 1
	var block []string
	for _, line := range strings.Split(template[i+len(head):], "\n") {
		if strings.TrimSpace(line) != "" && len(line)-len(strings.TrimLeft(line, " ")) <= indent {
			break
		}
		block = append(block, line)
	}
	return strings.Join(block, "\n")
}

var (
	cfnSub    = regexp.MustCompile(`\$\{![^}]*\}|\$\{[A-Za-z0-9:.]+\}`)
	shellName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	shellVar  = regexp.MustCompile(`^\$(\{[A-Z_][A-Z0-9_]*\}|[A-Z_][A-Z0-9_]*)`)
)

// shellWords splits one line of bash into words: double quotes group,
// "$NAME" and "${NAME}" expand from vars, "${NAME[@]}" splices an array,
// and redirections (>FILE, 2>&1) and a trailing & are dropped. Lines with
// other shell syntax give nil unless they start with tickbench.
func shellWords(t *testing.T, line string, vars map[string]string, arrays map[string][]string) []string {
	if !strings.HasPrefix(line, "tickbench ") && !strings.HasPrefix(line, "--") {
		return nil
	}
	var words []string
	for _, raw := range strings.Fields(line) {
		w := strings.Trim(raw, `"`)
		if strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>") || w == "&" {
			continue
		}
		if name, ok := strings.CutSuffix(strings.TrimPrefix(w, "${"), "[@]}"); ok && strings.HasPrefix(w, "${") {
			a, ok := arrays[name]
			if !ok {
				t.Fatalf("%s: no array %s", line, name)
			}
			words = append(words, a...)
			continue
		}
		var b strings.Builder
		for w != "" {
			if m := shellVar.FindString(w); m != "" {
				name := strings.Trim(m, "${}")
				v, ok := vars[name]
				if !ok {
					t.Fatalf("%s: $%s has no value in the test", line, name)
				}
				b.WriteString(v)
				w = w[len(m):]
				continue
			}
			b.WriteByte(w[0])
			w = w[1:]
		}
		words = append(words, b.String())
	}
	return words
}

// TestAWSCommands: the command lines every worker of deploy/aws runs (one
// generator shard and one sink) parse and validate with tickbench's own
// flags, for a run of 3 workers starting in an hour; a misspelt flag in a
// copy of the template fails.
func TestAWSCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testrepo.Root(t), "deploy", "aws", "tickbench.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The SDK reads these itself: S3 on a closed loopback port, static
	// keys, no instance metadata service.
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	now := time.Now().UTC()
	params := func() map[string]string {
		return map[string]string{
			"WorkerCount": "3", "StartAt": now.Add(time.Hour).Format(time.RFC3339), "DrainAt": now.Add(2 * time.Hour).Format(time.RFC3339),
			"Bucket": "tickbench-bed", "AWS::Region": "us-east-1", "AWS::StackName": "bed",
			"KafkaCluster": "arn:aws:kafka:us-east-1:111122223333:cluster/bed-kafka/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-2",
		}
	}
	vars := map[string]string{"BROKERS": "127.0.0.1:1", "SHARD": "2", "ID": "i-0123456789abcdef0"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parse := func(cmd []string) error {
		env, _, _ := testEnv()
		env.getenv = func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] }
		return run(ctx, cmd, env)
	}

	cmds := awsCommands(t, string(b), params(), vars)
	seen := map[string]bool{}
	for _, c := range cmds {
		t.Logf("tickbench %s", strings.Join(c, " "))
		seen[c[0]] = true
		if err := parse(c); !errors.Is(err, context.Canceled) {
			t.Errorf("tickbench %s: %v (want it to stop at its first I/O, on the cancelled context)", strings.Join(c, " "), err)
		}
		if c[0] == "produce" && flagValue(c, "shard") != "2/3" {
			t.Errorf("tickbench %s: want --shard SHARD/WorkerCount", strings.Join(c, " "))
		}
	}
	if len(cmds) != 2 || !seen["produce"] || !seen["sink"] {
		t.Fatalf("commands %q: want one produce and one sink", cmds)
	}

	broken := awsCommands(t, strings.Replace(string(b), "--drain-at", "--drain-after", 1), params(), vars)
	var u usageError
	if err := parse(broken[1]); !errors.As(err, &u) || !strings.Contains(err.Error(), "-drain-after") {
		t.Fatalf("tickbench %s: %v, want a usage error naming -drain-after", strings.Join(broken[1], " "), err)
	}
}
