package bench

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunIcebergEmbedded runs a table strategy beside its Hive-style twin
// on the embedded stack: both verified, every tick queryable no sooner
// than durable (each tick's commit comes after its PUT, so every quantile
// is at least the durable one), the table's scans modelled, and the
// summary shows the commits and the planning's metadata requests.
func TestRunIcebergEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Strategies = []string{"parquet-zstd", "iceberg-parquet-zstd"}
	cfg.CommitInterval = 300 * time.Millisecond
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hive, ice := res.Strategies[0], res.Strategies[1]
	acked := int64(ice.Producer.Acked)
	if !hive.Verify.OK || !ice.Verify.OK {
		t.Fatalf("verify: %+v, %+v", hive.Verify, ice.Verify)
	}
	if hive.Table != nil || hive.Queryable != hive.EndToEnd {
		t.Errorf("%s: table %+v, queryable %+v: want no table, queryable = e2e %+v", hive.Strategy, hive.Table, hive.Queryable, hive.EndToEnd)
	}
	q, d := ice.Queryable, ice.EndToEnd
	if q.Count != acked || q.P50 < d.P50 || q.P99 < d.P99 || q.Max < d.Max {
		t.Errorf("%s: queryable %+v, durable %+v: want every acked tick, no quantile below the durable one", ice.Strategy, q, d)
	}
	tr := ice.Table
	if tr == nil || tr.Catalog != "sql" || tr.Commits == 0 || tr.Snapshots != int(tr.Commits) || int64(tr.Files) != ice.Objects ||
		tr.Orphans != 0 || tr.MetadataPuts < 3*tr.Commits {
		t.Fatalf("table %+v (objects %d): want SQL-catalog commits of every object, a snapshot each, >= 3 metadata PUTs each, no orphans", tr, ice.Objects)
	}
	// The lake step models the table's scans: a count of whole hours of
	// hour(ts) reads nothing (the manifests' record counts answer it), the
	// Hive twin's the ts chunks; each planning reads metadata.json, the
	// manifest list (HEAD and GET) and at least one manifest.
	l := ice.Lake
	if l == nil || l.Problem != "" || len(l.Queries) != 4 || !l.Local.OK || l.Table != tr.Name || l.Engine.ColumnIndex {
		t.Fatalf("%s: lake %+v: want 4 queries modelled on table %s, the local check passed, no page indexes", ice.Strategy, l, tr.Name)
	}
	if c, h := l.Queries[0], hive.Lake.Queries[0]; c.Query != "count-hour" || c.Bytes != 0 || c.Objects == 0 || h.Bytes == 0 {
		t.Errorf("count-hour: %d bytes of %d files (Hive twin: %d bytes); want none read of some", c.Bytes, c.Objects, h.Bytes)
	}
	for _, q := range l.Queries {
		if q.MetadataGets < 4 || q.MetadataUSD <= 0 || !strings.Contains(q.SQL, " UTC'") || strings.Contains(q.SQL, "dt =") {
			t.Errorf("%s: %d metadata GETs ($%v), SQL %s: want >= 4, priced, on ts only", q.Query, q.MetadataGets, q.MetadataUSD, q.SQL)
		}
	}
	var out bytes.Buffer
	res.PrintSummary(&out)
	for _, want := range []string{"queryable ", "commits conflicts snapshots", "table iceberg-parquet-zstd: tickbench.", "queryable iceberg-parquet-zstd", "  metadata "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, &out)
		}
	}
	var lines bytes.Buffer
	w := bufio.NewWriter(&lines)
	if err := res.WriteBenchmarkLines(w); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if got := strings.Count(lines.String(), " queryable-p99-us"); got != 1 {
		t.Errorf("benchmark lines carry queryable-p99-us %d times, want once (the table strategy's):\n%s", got, &lines)
	}
}

// A list of commit intervals runs each table strategy once per interval,
// next to the Hive-style strategies, which run once.
func TestCommitIntervalSweep(t *testing.T) {
	cfg := testConfig(t)
	cfg.Strategies = []string{"parquet-zstd", "iceberg-parquet-zstd"}
	cfg.CommitIntervals = []time.Duration{300 * time.Millisecond, time.Second}
	ss, err := cfg.strategies()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	want := "parquet-zstd iceberg-parquet-zstd-every-300ms iceberg-parquet-zstd-every-1s"
	if strings.Join(names, " ") != want {
		t.Fatalf("strategies %v, want %s", names, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg.Strategies = cfg.Strategies[1:]
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range []string{"300ms", "1s"} {
		s := res.Strategies[i]
		if !s.Verify.OK || s.Table == nil || s.Table.CommitInterval != d || s.Table.Commits == 0 {
			t.Errorf("%s: verify %+v, table %+v: want verified, committed every %s", s.Strategy, s.Verify, s.Table, d)
		}
	}
	bad := cfg
	bad.CommitIntervals = []time.Duration{time.Second, 2 * time.Hour}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "commit-interval 2h0m0s: allowed 100ms..1h0m0s") {
		t.Errorf("Validate = %v, want the 2h interval refused", err)
	}
}

// Compact folds the hour of a finished run's table into one file: on the
// embedded stack the catalog and the objects outlive the run.
func TestCompactAfterRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Strategies = []string{"iceberg-parquet-snappy"}
	cfg.CommitInterval = 300 * time.Millisecond
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Strategies[0]
	c, err := Compact(ctx, CompactConfig{Stack: cfg.Stack, Table: s.Table.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", c)
	if c.FilesBefore < 2 || c.FilesAfter != 1 || c.Records == 0 || c.Gets != c.FilesBefore || c.CostUSD <= 0 || c.CPUSeconds <= 0 {
		t.Fatalf("compaction %+v: want the partition's files folded into one, its requests priced and its CPU measured", c)
	}
	// The standard queries before and after: count-hour reads nothing
	// either way (record counts answer it); vwap-day reads less of one
	// file than of many (one footer); the symbol's queries read some.
	if len(c.Queries) != 4 || c.Hour.IsZero() || c.Symbol == "" {
		t.Fatalf("queries %+v over %v, symbol %q: want the 4 standard ones", c.Queries, c.Hour, c.Symbol)
	}
	for _, q := range c.Queries {
		switch {
		case q.Name == "count-hour" && (q.Before.Bytes != 0 || q.After.Bytes != 0):
			t.Errorf("count-hour: %d -> %d bytes, want 0 both", q.Before.Bytes, q.After.Bytes)
		case q.Name == "vwap-day" && (q.After.Bytes == 0 || q.After.Bytes >= q.Before.Bytes):
			t.Errorf("%s: %d -> %d bytes, want less but some", q.Name, q.Before.Bytes, q.After.Bytes)
		case q.Name != "count-hour" && (q.Before.Bytes == 0 || q.After.Bytes == 0):
			t.Errorf("%s: %d -> %d bytes, want some both", q.Name, q.Before.Bytes, q.After.Bytes)
		case q.TrinoBefore != -1 || q.TrinoAfter != -1:
			t.Errorf("%s: Trino %d, %d without a Trino", q.Name, q.TrinoBefore, q.TrinoAfter)
		}
	}
	var out strings.Builder
	c.Print(&out)
	for _, want := range []string{"compacted " + s.Table.Name, "standard queries over ", "vwap-day", "x "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed compaction lacks %q:\n%s", want, &out)
		}
	}
	if _, err := Compact(ctx, CompactConfig{Stack: cfg.Stack, Table: "nodot"}); err == nil || !strings.Contains(err.Error(), `table "nodot": want namespace.name`) {
		t.Errorf("Compact(nodot) = %v", err)
	}
	if _, err := Compact(ctx, CompactConfig{Stack: cfg.Stack, Table: s.Table.Name, TargetBytes: 10}); err == nil || !strings.Contains(err.Error(), "target-size 10: allowed 1 MiB") {
		t.Errorf("Compact(target 10) = %v", err)
	}
	if _, err := Compact(ctx, CompactConfig{Stack: cfg.Stack, Table: s.Table.Name, Sort: "price"}); err == nil || !strings.Contains(err.Error(), `sort "price": allowed none`) {
		t.Errorf("Compact(sort price) = %v", err)
	}
}
