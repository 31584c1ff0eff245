package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

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
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, name)
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
