package result

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenOutputs renders two real result files (a bench run of a
// Hive-style and an Iceberg strategy with the lake step, and a ceiling
// search) as the commands print them: the summary, the ceiling's step lines
// and table, and the benchmark lines. A change to any of them shows here;
// `go test ./bench -run Golden -update` accepts it.
func TestGoldenOutputs(t *testing.T) {
	for _, name := range []string{"bench", "ceiling"} {
		t.Run(name, func(t *testing.T) {
			r, err := ReadResult(filepath.Join("testdata", "golden", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if r.Ceiling == nil {
				r.PrintSummary(&out)
			} else {
				for _, cs := range r.Ceiling.Searches {
					for i, st := range cs.Steps {
						PrintStep(&out, i+1, st)
					}
					PrintAnswer(&out, cs)
				}
				r.PrintCeiling(&out)
			}
			out.WriteString("-- benchmark lines\n")
			w := bufio.NewWriter(&out)
			if err := r.WriteBenchmarkLines(w); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s output differs from %s (-update to accept):\n--- got\n%s\n--- want\n%s", name, golden, &out, want)
			}
		})
	}
}
