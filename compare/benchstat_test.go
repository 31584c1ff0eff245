package compare

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickbench/tickbench/bench/result"
)

// TestBenchstatReadsBenchmarkLines: benchstat itself (golang.org/x/perf,
// the version in go.mod, from the module cache: GOPROXY=off) compares two
// runs' .bench.txt and shows our custom units.
func TestBenchstatReadsBenchmarkLines(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, p99 := range []int64{100_000, 150_000} {
		r := &result.Result{Strategies: []result.StrategyResult{{Strategy: "jsonl", Objects: 20, BytesPerTick: 153}}}
		r.Machine.GOOS, r.Machine.GOARCH = "linux", "amd64"
		r.Workload.Rate = 1000
		r.Strategies[0].EndToEnd.P99 = p99
		path := filepath.Join(dir, []string{"old", "new"}[i]+".bench.txt")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		if err := r.WriteBenchmarkLines(w); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		f.Close()
		files = append(files, path)
	}
	cmd := exec.Command("go", append([]string{"run", "golang.org/x/perf/cmd/benchstat"}, files...)...)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat: %v\n%s", err, out)
	}
	for _, want := range []string{"e2e-p99-us", "bytes/tick", "objects", "Tickbench/strategy=jsonl/rate=1000", "100.0k", "150.0k"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("benchstat output lacks %q:\n%s", want, out)
		}
	}
}
