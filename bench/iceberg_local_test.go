package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/lake/localsql"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
)

// TestLocalIcebergTable runs an Iceberg strategy on the local stack (the
// Iceberg REST catalog, versitygw) and reads the table back with three
// readers the writer shares no code with: pyiceberg counts the rows and
// finds the offsets in the summary, Trino's Iceberg connector counts them
// and computes each symbol's VWAP, and DuckDB computes the same VWAPs from
// the table's Parquet files. The lake step runs the standard queries on
// Trino too, which reads what the scan model says.
func TestLocalIcebergTable(t *testing.T) {
	cfg := localConfig(t)
	if cfg.Stack.IcebergREST == "" {
		t.Fatal("the local stack has no Iceberg REST catalog (.tickbench/run/iceberg/state.env): `make up` starts it")
	}
	root := testrepo.Root(t)
	tr, err := stack.LocalTrino(filepath.Join(root, stack.LocalStateDir))
	if err != nil {
		t.Fatal(err)
	}
	cfg.LakeTrino = &tr
	cfg.Strategies = []string{"iceberg-parquet-zstd"}
	cfg.CommitInterval = time.Second
	cfg.Rate, cfg.Duration = 5000, 4*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Strategies[0]
	acked := int64(res.Strategies[0].Producer.Acked)
	if !s.Verify.OK || s.Table == nil || s.Table.Catalog != "rest" || s.Table.Commits < 2 || s.Queryable.Count != acked {
		t.Fatalf("verify %+v, table %+v, queryable count %d of %d acked: want verified, several REST commits, every tick queryable", s.Verify, s.Table, s.Queryable.Count, acked)
	}
	t.Logf("%d ticks, %d commits, %d files, queryable p99 %d µs (durable %d µs)", acked, s.Table.Commits, s.Table.Files, s.Queryable.P99, s.EndToEnd.P99)
	// The lake step ran the standard queries on Trino's Iceberg catalog:
	// the produced answers, and the bytes the model says.
	if s.Lake == nil || len(s.Lake.Queries) != 4 || s.Lake.Trino == "" {
		t.Fatalf("lake report %+v: want 4 queries run on Trino", s.Lake)
	}
	for _, q := range s.Lake.Queries {
		if q.Trino == nil || q.Trino.Problem != "" || q.Trino.Bytes != q.Bytes {
			t.Errorf("%s: Trino %+v, model %d bytes: want the produced answer and the model's bytes", q.Query, q.Trino, q.Bytes)
		}
	}

	// pyiceberg through the same REST catalog.
	pyBin, err := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "pyenv.sh"), "pyiceberg").Output()
	if err != nil {
		t.Fatalf("pyiceberg venv: %v", err)
	}
	out, err := exec.CommandContext(ctx, strings.TrimSpace(string(pyBin)), filepath.Join(root, "scripts", "check_iceberg.py"),
		"--uri", cfg.Stack.IcebergREST, "--table", s.Table.Name).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("check_iceberg.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var py struct {
		Rows      int64 `json:"rows"`
		Distinct  int64 `json:"distinct"`
		DataFiles int64 `json:"data_files"`
		Current   struct {
			Summary map[string]string `json:"summary"`
		} `json:"current"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("check_iceberg.py printed %s: %v", out, err)
	}
	if py.Rows != acked || py.Distinct != acked || py.DataFiles != int64(s.Table.Files) {
		t.Errorf("pyiceberg: %d rows, %d distinct (symbol, seq), %d files; want %d acked in %d files", py.Rows, py.Distinct, py.DataFiles, acked, s.Table.Files)
	}
	if v := py.Current.Summary[iceberg.OffsetsKey(cfg.Topic)]; !strings.HasPrefix(v, "{") {
		t.Errorf("pyiceberg: current snapshot's summary %v has no %s", py.Current.Summary, iceberg.OffsetsKey(cfg.Topic))
	}

	// Trino's Iceberg connector, and DuckDB on the table's files.
	trino := &lake.Trino{URL: tr.URL}
	name := "iceberg." + s.Table.Name
	q, err := trino.Query(ctx, "SELECT count(*), count(DISTINCT seq) FROM "+name)
	if err != nil {
		t.Fatal(err)
	}
	if q.Rows[0][0] != acked || q.Rows[0][1] != acked {
		t.Errorf("trino: %v rows, %v distinct seq; want %d", q.Rows[0][0], q.Rows[0][1], acked)
	}
	vwap := "SELECT symbol, sum(price * size) / sum(size) FROM %s GROUP BY symbol ORDER BY symbol"
	qt, err := trino.Query(ctx, strings.Replace(vwap, "%s", name, 1))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lt := lake.Table{Database: "tickbench", Name: "ticks", Format: "parquet-zstd", Layout: sink.LayoutHourly, Bucket: s.Bucket, Prefix: s.Prefix}
	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := localsql.Download(ctx, st.S3, lt, dir, nil); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, sink.ErrorsDir))
	eng, err := localsql.Open(ctx, lt, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	qd, err := eng.Query(ctx, strings.Replace(vwap, "%s", "ticks", 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(qt.Rows) != len(qd.Rows) || len(qt.Rows) == 0 {
		t.Fatalf("VWAP of %d symbols on Trino, %d on DuckDB", len(qt.Rows), len(qd.Rows))
	}
	for i := range qt.Rows {
		sym, v := qt.Rows[i][0], qt.Rows[i][1].(float64)
		dsym, dv := qd.Rows[i][0], qd.Rows[i][1].(float64)
		if sym != dsym || math.Abs(v-dv) > 1e-9*math.Abs(dv) {
			t.Errorf("VWAP of %v: Trino %v, DuckDB %v (%v)", sym, v, dv, dsym)
		}
	}

	// Compaction of the busiest hour: Trino reads before (time travel to
	// the replaced snapshot) and after what the model says, so the factor
	// compaction buys is the model's.
	c, err := Compact(ctx, CompactConfig{Stack: cfg.Stack, Table: s.Table.Name, Trino: &tr})
	if err != nil {
		t.Fatal(err)
	}
	if c.FilesAfter != 1 || len(c.Queries) != 4 {
		t.Fatalf("compaction %+v: want one file and the 4 queries", c)
	}
	var printed strings.Builder
	c.Print(&printed)
	t.Logf("%s", &printed)
	for _, q := range c.Queries {
		if q.TrinoProblem != "" || q.TrinoBefore != q.Before.Bytes || q.TrinoAfter != q.After.Bytes {
			t.Errorf("%s: Trino %d -> %d bytes (%s), model %d -> %d", q.Name, q.TrinoBefore, q.TrinoAfter, q.TrinoProblem, q.Before.Bytes, q.After.Bytes)
		}
	}
}
