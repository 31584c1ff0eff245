package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
)

// TableNamespace is the namespace of the table strategies' tables.
const TableNamespace = "tickbench"

// TableReport is what a table strategy's commits did (schema v1.4).
type TableReport struct {
	Format   string `json:"format"`  // "iceberg"
	Catalog  string `json:"catalog"` // "sql" (embedded), "rest" (local), "glue" (AWS)
	Name     string `json:"name"`    // namespace.table
	Location string `json:"location"`
	// CommitInterval and CommitFiles are the commit policy.
	CommitInterval string `json:"commit_interval"`
	CommitFiles    int    `json:"commit_files,omitempty"`
	// Commits succeeded; CommitConflicts lost to another member's commit
	// and were retried; CommitFailures failed and were tried again later.
	Commits         int64 `json:"commits"`
	CommitConflicts int64 `json:"commit_conflicts"`
	CommitFailures  int64 `json:"commit_failures"`
	// LeftBatches were committed by another member (or an earlier life)
	// first and left out of this member's commit.
	LeftBatches int64 `json:"left_batches"`
	// Snapshots and Files are the table's at the end; FilesPerHour is
	// the data files per hour of event time.
	Snapshots    int     `json:"snapshots"`
	Files        int     `json:"files"`
	FilesPerHour float64 `json:"files_per_hour"`
	// MetadataGets and MetadataPuts are the commits' requests for
	// metadata.json, manifest lists and manifests, and their price per
	// day at the workload's rate.
	MetadataGets          int64   `json:"metadata_gets"`
	MetadataPuts          int64   `json:"metadata_puts"`
	MetadataCostPerDayUSD float64 `json:"metadata_cost_per_day_usd"`
	// Orphans are objects under the data prefix that no snapshot holds
	// (landed, never committed), with their bytes.
	Orphans     int64 `json:"orphans"`
	OrphanBytes int64 `json:"orphan_bytes"`
}

// tableName is the run's table of strategy s (a catalog identifier).
func tableName(runID, strategy, step string) string {
	name := "r" + runID + "_" + strategy
	if step != "" {
		name += "_" + step
	}
	return identifier(name)
}

// identifier is s as a catalog identifier: lower-case letters, digits and
// _, starting with a letter.
func identifier(s string) string {
	id := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, s)
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "t" + id
	}
	return id
}

// tableLocation is the table's folder: the sink's data objects go under
// its data/, Iceberg's metadata under its metadata/.
func tableLocation(bucket, dataPrefix string) string {
	return "s3://" + bucket + "/" + strings.TrimSuffix(dataPrefix, "data/")
}

// openTables returns a function that opens strategy s's table for one sink
// member (each member commits through a Table of its own, as separate
// processes would), creating the table on first use.
func openTables(st *stack.Stack, s Strategy, name string, sc sink.Config) (func(context.Context) (*iceberg.Table, error), error) {
	if s.Table != "iceberg" {
		return nil, fmt.Errorf("strategy %s: table format %q: allowed iceberg", s.Name, s.Table)
	}
	codec := "snappy"
	if p, ok := sc.Format.(sink.Parquet); ok {
		codec = p.Codec()
	}
	loc := tableLocation(st.Bucket, sc.Prefix)
	return func(ctx context.Context) (*iceberg.Table, error) {
		cat, err := st.IcebergCatalog(ctx)
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", s.Name, err)
		}
		return iceberg.Open(ctx, cat, TableNamespace, name, loc, sc.Layout, codec)
	}, nil
}

// queryableOf is a strategy's queryable latency: its commits' for a table
// strategy, the durable one's for Hive-style prefixes (partition
// projection: queryable once landed).
func queryableOf(s Strategy, e2e, queryable *hist) (Latency, error) {
	if s.Table == "" {
		return e2e.summary()
	}
	return queryable.summary()
}

// tableReport is a table strategy's commit counters, with the metadata
// requests priced per day as they came over the run's length (commits
// follow the commit interval, not the rate).
func tableReport(g *sinkGroup, stats sink.Stats, prices lake.Prices, length time.Duration) *TableReport {
	tr := &TableReport{Format: "iceberg", CommitInterval: g.cfg.CommitInterval.String(), CommitFiles: g.cfg.CommitFiles,
		Commits: stats.Commits, CommitConflicts: stats.CommitConflicts, CommitFailures: stats.CommitFailures,
		LeftBatches: stats.LeftBatches, MetadataGets: stats.MetadataGets, MetadataPuts: stats.MetadataPuts}
	if g.table != nil {
		tr.Name, tr.Location, tr.Catalog = g.table.Name(), g.table.Location(), g.table.Catalog()
	}
	if days := length.Hours() / 24; days > 0 {
		tr.MetadataCostPerDayUSD = (prices.PutCost(float64(stats.MetadataPuts)) + float64(stats.MetadataGets)/1000*prices.S3GetPer1000) / days
	}
	return tr
}

// readTable reads the table's snapshots and files into sr.Table and
// returns the files' keys, the objects verify reads.
func readTable(ctx context.Context, t *iceberg.Table, topic string, sr *StrategyResult, length time.Duration) (map[string]bool, error) {
	in, err := t.Info(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("strategy %s: read table back: %w", sr.Strategy, err)
	}
	only := make(map[string]bool, len(in.Files))
	for _, f := range in.Files {
		only[f.Key] = true
	}
	if sr.Table != nil {
		sr.Table.Snapshots, sr.Table.Files = in.Snapshots, len(in.Files)
		if h := length.Hours(); h > 0 {
			sr.Table.FilesPerHour = float64(len(in.Files)) / h
		}
	}
	return only, nil
}

// CompactConfig is one compaction of a table strategy's table.
type CompactConfig struct {
	Stack stack.Config
	// Table is namespace.name, e.g. tickbench.r20261207t152242z_..._iceberg_parquet_zstd.
	Table string
	// Partition names the partition (ts_hour=2026-12-07T15); empty: the
	// one with the most files.
	Partition string
	// TargetBytes is the size the new files are cut at. Default 128 MiB.
	TargetBytes int
}

// DefaultCompactTarget is Iceberg's write.target-file-size-bytes default.
const DefaultCompactTarget = 128 << 20

// CompactResult is what a compaction did and what it cost.
type CompactResult struct {
	iceberg.Compaction
	Table      string
	CPUSeconds float64
	// CostUSD prices the compaction's requests (data and metadata).
	CostUSD float64
}

// Compact rewrites one partition of a table's small files into large ones
// in one snapshot (see iceberg.Table.Compact).
func Compact(ctx context.Context, cfg CompactConfig) (*CompactResult, error) {
	ns, name, ok := strings.Cut(cfg.Table, ".")
	if !ok || ns == "" || name == "" || strings.Contains(name, ".") {
		return nil, fmt.Errorf("table %q: want namespace.name, e.g. %s.r20261207t152242z_abc123_iceberg_parquet_zstd", cfg.Table, TableNamespace)
	}
	target := int64(cfg.TargetBytes)
	if target == 0 {
		target = DefaultCompactTarget
	}
	if target < 1<<20 || target > sink.MaxFlushBytes {
		return nil, fmt.Errorf("target-size %d: allowed 1 MiB..%d bytes", target, sink.MaxFlushBytes)
	}
	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cat, err := st.IcebergCatalog(ctx)
	if err != nil {
		return nil, err
	}
	t, err := iceberg.Load(ctx, cat, ns, name)
	if err != nil {
		return nil, err
	}
	format, err := sink.NewParquet(cmp.Or(t.Codec(), "snappy"), sink.DefaultRowGroupRows)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", cfg.Table, err)
	}
	cpu0 := processCPU()
	c, err := t.Compact(ctx, s3Objects{st}, format, cfg.Partition, target)
	if err != nil {
		return nil, err
	}
	res := &CompactResult{Compaction: c, Table: cfg.Table, CPUSeconds: processCPU().minus(cpu0).total().Seconds()}
	p := lake.USEast1
	res.CostUSD = p.PutCost(float64(c.Puts+c.MetadataPuts)) + float64(c.Gets+c.MetadataGets)/1000*p.S3GetPer1000
	return res, nil
}

// s3Objects reads and writes objects of the stack's bucket.
type s3Objects struct{ st *stack.Stack }

func (o s3Objects) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := o.st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.st.Bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (o s3Objects) Put(ctx context.Context, key string, body []byte) error {
	_, err := sink.S3Store{Client: o.st.S3, Bucket: o.st.Bucket, SSE: o.st.SSE, SSEKMSKeyID: o.st.SSEKMSKeyID}.Put(ctx, key, body, sink.Parquet{}.ContentType(), false)
	return err
}

// icebergScanTable is a table's plan as the scan model takes it; read
// gives a data file's bytes by its key.
func icebergScanTable(p iceberg.Plan, l sink.Layout, read func(key string) io.ReaderAt) lake.IcebergTable {
	meta := func(o iceberg.Object) lake.MetadataObject { return lake.MetadataObject{Key: o.Key, Size: o.Bytes} }
	t := lake.IcebergTable{Layout: l, Metadata: meta(p.Metadata), ManifestList: meta(p.ManifestList)}
	for _, m := range p.Manifests {
		t.Manifests = append(t.Manifests, lake.IcebergManifest{MetadataObject: meta(m.Object),
			Lower: lake.IcebergPartition(m.Lower), Upper: lake.IcebergPartition(m.Upper), Bounded: m.Bounded})
	}
	for _, f := range p.Files {
		t.Files = append(t.Files, lake.IcebergFile{Object: lake.Object{Key: f.Key, Size: f.Bytes, ReadAt: read(f.Key)},
			Partition: lake.IcebergPartition(f.Partition), Lower: f.Lower, Upper: f.Upper, SplitOffsets: f.SplitOffsets})
	}
	return t
}
