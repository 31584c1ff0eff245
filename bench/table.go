package bench

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
)

// TableNamespace is the namespace of the table strategies' tables.
const TableNamespace = "tickbench"

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
func queryableOf(s Strategy, e2e, queryable *hist) (result.Latency, error) {
	if s.Table == "" {
		return e2e.summary()
	}
	return queryable.summary()
}

// tableReport is a table strategy's commit counters, with the metadata
// requests priced per day as they came over the run's length (commits
// follow the commit interval, not the rate).
func tableReport(g *sinkGroup, stats sink.Stats, prices lake.Prices, length time.Duration) *result.TableReport {
	tr := &result.TableReport{Format: "iceberg", CommitInterval: g.cfg.CommitInterval.String(), CommitFiles: g.cfg.CommitFiles,
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
func readTable(ctx context.Context, t *iceberg.Table, topic string, sr *result.StrategyResult, length time.Duration) (map[string]bool, error) {
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
	// Sort is "none" (default: the ticks keep their order, Iceberg's
	// bin-pack) or "symbol" (each new file sorted by symbol and ts).
	Sort string
	// Trino, if set, runs the standard queries on the table before (by
	// time travel to the replaced snapshot) and after the compaction.
	Trino *stack.Trino
}

// DefaultCompactTarget is Iceberg's write.target-file-size-bytes default.
const DefaultCompactTarget = 128 << 20

// CompactResult is what a compaction did and what it cost.
type CompactResult struct {
	iceberg.Compaction
	Table      string
	Sort       string
	CPUSeconds float64
	// CostUSD prices the compaction's requests (data and metadata).
	CostUSD float64
	// Hour and Symbol are the standard queries' hour and symbol: the
	// compacted files' first hour, the partition's symbol or the model's
	// first.
	Hour    time.Time
	Symbol  string
	Queries []CompactQuery
}

// CompactQuery is one standard query over the compacted partition, as the
// scan model prices it on the snapshot before and after, and what Trino
// read of each.
type CompactQuery struct {
	Name, SQL     string
	Before, After lake.Scan
	// TrinoBefore and TrinoAfter are Trino's physical input bytes (-1: not
	// run); TrinoProblem says why a query failed.
	TrinoBefore, TrinoAfter int64
	TrinoProblem            string
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
	if cfg.Sort != "" && cfg.Sort != "none" && cfg.Sort != "symbol" {
		return nil, fmt.Errorf("sort %q: allowed none (keep the order) or symbol", cfg.Sort)
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
	layout, err := t.Layout()
	if err != nil {
		return nil, err
	}
	before, err := t.Plan(ctx)
	if err != nil {
		return nil, err
	}
	cpu0 := processCPU()
	c, err := t.Compact(ctx, s3Objects{st}, format, iceberg.Rewrite{Partition: cfg.Partition, Target: target, SortBySymbol: cfg.Sort == "symbol"})
	if err != nil {
		return nil, err
	}
	res := &CompactResult{Compaction: c, Table: cfg.Table, Sort: cmp.Or(cfg.Sort, "none"), CPUSeconds: processCPU().minus(cpu0).total().Seconds()}
	p := lake.USEast1
	res.CostUSD = p.PutCost(float64(c.Puts+c.MetadataPuts)) + float64(c.Gets+c.MetadataGets)/1000*p.S3GetPer1000
	after, err := t.Plan(ctx)
	if err != nil {
		return nil, err
	}
	if err := res.scans(ctx, st, layout, before, after, cfg.Trino); err != nil {
		return nil, fmt.Errorf("compacted %s, but the scans before and after: %w", cfg.Table, err)
	}
	return res, nil
}

// scans models the standard queries over the compacted files' hour on the
// snapshots before and after, and runs them on Trino if it is given.
func (res *CompactResult) scans(ctx context.Context, st *stack.Stack, layout sink.Layout, before, after iceberg.Plan, tr *stack.Trino) error {
	kept := map[string]bool{}
	for _, f := range after.Files {
		kept[f.Key] = true
	}
	res.Symbol = gen.Symbol(0)
	first := int64(math.MaxInt64)
	for _, f := range before.Files {
		if kept[f.Key] {
			continue
		}
		if lo := f.Lower["ts"]; len(lo) == 8 {
			first = min(first, int64(binary.LittleEndian.Uint64(lo)))
		}
		if layout == sink.LayoutSymbol {
			res.Symbol = f.Partition.Symbol
		}
	}
	if first == math.MaxInt64 {
		return errors.New("the replaced files have no ts bounds")
	}
	res.Hour = time.UnixMicro(first).UTC().Truncate(time.Hour)
	read := func(key string) io.ReaderAt { return s3ReaderAt{ctx: ctx, cl: st.S3, bucket: st.Bucket, key: key} }
	tb, ta := icebergScanTable(before, layout, read), icebergScanTable(after, layout, read)
	engine := lake.TrinoDefaults
	engine.ColumnIndex = false // the Iceberg connector reads no page indexes
	var c *lake.Trino
	if tr != nil && tr.IcebergCatalog != "" {
		c = &lake.Trino{URL: tr.URL}
	}
	for _, q := range lake.StandardQueries(res.Hour, res.Symbol) {
		cq := CompactQuery{Name: q.Name, SQL: q.IcebergSQL(res.Table), TrinoBefore: -1, TrinoAfter: -1}
		var err error
		if cq.Before, err = lake.IcebergScanBytes(tb, q, engine, lake.USEast1); err != nil {
			return err
		}
		if cq.After, err = lake.IcebergScanBytes(ta, q, engine, lake.USEast1); err != nil {
			return err
		}
		if c != nil {
			name := tr.IcebergCatalog + "." + res.Table
			// Time travel reads the replaced snapshot as it was planned.
			for _, run := range []struct {
				table string
				bytes *int64
			}{{name + " FOR VERSION AS OF " + strconv.FormatInt(before.Snapshot, 10), &cq.TrinoBefore}, {name, &cq.TrinoAfter}} {
				r, err := c.Query(ctx, q.IcebergSQL(run.table))
				if err != nil {
					cq.TrinoProblem = err.Error()
					break
				}
				*run.bytes = r.PhysicalInputBytes
			}
		}
		res.Queries = append(res.Queries, cq)
	}
	return nil
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

// Print writes what the compaction did and cost, then the standard
// queries' modelled scans before and after, with Trino's where it ran.
func (res *CompactResult) Print(w io.Writer) {
	fmt.Fprintf(w, "compacted %s %s: %d files (%d bytes) -> %d (%d bytes), %d rows, sorted by %s, snapshot %d\n",
		res.Table, res.Partition, res.FilesBefore, res.BytesBefore, res.FilesAfter, res.BytesAfter, res.Records, res.Sort, res.Snapshot)
	fmt.Fprintf(w, "cost: data %d GETs + %d PUTs, metadata %d GETs + %d PUTs ($%.6f at us-east-1 prices), %.2f CPU s, %d commit conflicts\n",
		res.Gets, res.Puts, res.MetadataGets, res.MetadataPuts, res.CostUSD, res.CPUSeconds, res.Conflicts)
	if len(res.Queries) == 0 {
		return
	}
	fmt.Fprintf(w, "standard queries over %s (symbol %s), modelled as Trino's Iceberg connector reads (Athena's engine):\n",
		res.Hour.Format("2006-01-02T15"), res.Symbol)
	fmt.Fprintf(w, "  %-12s %10s %10s %7s %12s %12s", "query", "before", "after", "factor", "athena $", "athena $")
	trino := false
	for _, q := range res.Queries {
		trino = trino || q.TrinoBefore >= 0 || q.TrinoProblem != ""
	}
	if trino {
		fmt.Fprintf(w, "  %10s %10s", "trino", "trino")
	}
	fmt.Fprintf(w, "\n  %-12s %10s %10s %7s %12s %12s", "", "", "", "", "before", "after")
	if trino {
		fmt.Fprintf(w, "  %10s %10s", "before", "after")
	}
	fmt.Fprintln(w)
	for _, q := range res.Queries {
		factor := "-"
		if q.After.Bytes > 0 {
			factor = fmt.Sprintf("%.1fx", float64(q.Before.Bytes)/float64(q.After.Bytes))
		}
		fmt.Fprintf(w, "  %-12s %10s %10s %7s %12s %12s", q.Name, result.Size(q.Before.Bytes), result.Size(q.After.Bytes), factor,
			"$"+result.ScanUSD(q.Before.USD), "$"+result.ScanUSD(q.After.USD))
		switch {
		case q.TrinoProblem != "":
			fmt.Fprintf(w, "  trino failed: %s", q.TrinoProblem)
		case trino:
			fmt.Fprintf(w, "  %10s %10s", result.Size(q.TrinoBefore), result.Size(q.TrinoAfter))
		}
		fmt.Fprintln(w)
	}
}
