package kubernetes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManifests: every document of this folder decodes strictly into its
// API type and every reference resolves; the run is 3 generator shards (an
// Indexed Job) and 2 sinks (a Job with parallelism) reading one ConfigMap's
// workload file.
func TestManifests(t *testing.T) {
	m, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.ConfigMaps["tickbench-workload"].Data["workload.json"]; !ok {
		t.Fatal("no ConfigMap tickbench-workload with workload.json")
	}
	cmds, err := m.Commands()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range cmds {
		count[c.Args[0]]++
		if c.Args[0] == "produce" || c.Args[0] == "sink" {
			if c.Files["/etc/tickbench/workload.json"] == "" {
				t.Errorf("%s/%s: the workload file is not mounted at /etc/tickbench/workload.json", c.Pod, c.Container)
			}
		}
	}
	// The sink Job's two pods run one command line: Commands lists it once.
	if count["produce"] != 3 || count["sink"] != 1 || count["merge"] != 1 || count["verify"] != 1 {
		t.Fatalf("commands %v: want 3 produce (one per completion index), sink, merge, verify", count)
	}
	for _, j := range m.Jobs {
		if j.Name == "tickbench-sink" && (j.Spec.Parallelism == nil || *j.Spec.Parallelism != 2) {
			t.Fatalf("tickbench-sink parallelism %v: want 2", j.Spec.Parallelism)
		}
	}
}

// TestBrokenManifests: a copy of the manifests with one mistake fails, and
// the error names it.
func TestBrokenManifests(t *testing.T) {
	for _, tt := range []struct {
		name, file, old, new, want string
	}{
		{"unknown field", "produce.yaml", "completionMode:", "completionMod:", `unknown field "completionMod"`},
		{"wrong type", "sink.yaml", "parallelism: 2", "parallelism: two", "cannot unmarshal string into Go struct field JobSpec.spec.parallelism of type int32"},
		{"field of another kind", "configmaps.yaml", "data:\n  workload.json", "spec:\n  workload.json", `unknown field "spec"`},
		{"duplicate field", "verify.yaml", "backoffLimit: 2", "backoffLimit: 2\n  backoffLimit: 3", `key "backoffLimit" already set in map`},
		{"unknown kind", "serviceaccount.yaml", "kind: ServiceAccount", "kind: ServiceAcount", `kind "ServiceAcount": allowed`},
		{"missing ConfigMap", "sink.yaml", "name: tickbench-run", "name: tickbench-runs", `envFrom: no ConfigMap "tickbench-runs"`},
		{"undefined variable", "produce.yaml", "--topic=ticks-$(RUN_ID)", "--topic=ticks-$(RUNID)", "$(RUNID) is not a variable of the container"},
		{"restarting pod", "produce.yaml", "restartPolicy: Never", "restartPolicy: Always", `restartPolicy "Always": allowed Never, OnFailure`},
		{"entrypoint replaced", "verify.yaml", "        - name: verify\n          image: tickbench:dev\n", "        - name: verify\n          image: tickbench:dev\n          command: [sh]\n", "replaces the image's entrypoint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := brokenCopy(t, tt.file, tt.old, tt.new)
			m, err := Load(dir)
			if err == nil {
				_, err = m.Commands()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// brokenCopy copies this folder's manifests to a temporary folder, with old
// replaced by new in file.
func brokenCopy(t *testing.T, file, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if f == file {
			if !strings.Contains(s, old) {
				t.Fatalf("%s has no %q to break", f, old)
			}
			s = strings.Replace(s, old, new, 1)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
