package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/stack"
)

// TestLocalLakeTrino runs the lake step with the local Trino: every
// standard query also runs there, its answer is the produced ticks', the
// bytes it read are kept and equal the model's, and the summary shows them
// under the model's row.
func TestLocalLakeTrino(t *testing.T) {
	cfg := localConfig(t)
	tr, err := stack.LocalTrino(filepath.Join(testrepo.Root(t), stack.LocalStateDir))
	if err != nil {
		t.Fatal(err)
	}
	cfg.LakeTrino = &tr
	cfg.Strategies = []string{"jsonl.gz", "parquet-zstd"}
	cfg.Mode = result.ModeParallel
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Strategies {
		l := s.Lake
		if l == nil || l.Problem != "" || l.Trino == "" || len(l.Queries) != 4 {
			t.Fatalf("%s: lake report %+v, want 4 queries run on Trino", s.Strategy, l)
		}
		for _, q := range l.Queries {
			if q.Trino == nil || q.Trino.Problem != "" || q.Trino.ID == "" || q.Trino.Bytes != q.Bytes {
				t.Errorf("%s %s: Trino %+v, model %d bytes: want the same bytes and the produced answer", s.Strategy, q.Query, q.Trino, q.Bytes)
			}
		}
	}
	var out bytes.Buffer
	res.PrintSummary(&out)
	if got := strings.Count(out.String(), "answers as produced"); got != 2 || !strings.Contains(out.String(), "  trino-476 ") {
		t.Errorf("summary shows Trino's row %d times, want 2:\n%s", got, &out)
	}
	path, err := res.WriteFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	back, err := result.ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	if q := back.Strategies[1].Lake.Queries[0]; q.Trino == nil || q.Trino.Bytes != res.Strategies[1].Lake.Queries[0].Trino.Bytes {
		t.Errorf("the result file keeps Trino's bytes as %+v", q.Trino)
	}
}
