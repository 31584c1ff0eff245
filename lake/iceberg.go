package lake

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/tickbench/tickbench/sink"
)

// This file models what Trino's Iceberg connector (trino-iceberg 476:
// IcebergMetadata.applyFilter, IcebergSplitSource, IcebergPageSourceProvider,
// over Iceberg 1.9's scan planning) reads for a query on a table of ticks:
//
//  1. the predicate is split in what the partitioning enforces (a ts range
//     whose ends fall on the partition transform's boundaries; symbol
//     under identity(symbol)) and the rest; the query projects the columns
//     it selects and those of the rest;
//  2. planning reads metadata.json, the manifest list and the manifests
//     whose partition ranges may match, then keeps the data files whose
//     partition and column bounds may match (all on the coordinator, none
//     of it physical input);
//  3. a file whose projected columns are all identity partition columns
//     (count(*) of whole hours under hour(ts)) is answered from its record
//     count: nothing is read;
//  4. otherwise each split of the file (one per row group, from the
//     manifest's split offsets) is read as the Hive connector reads one,
//     for the projected columns less the identity partition ones (filled
//     in from the partition), under the rest of the predicate less what the
//     file's bounds already decide; with two differences: the connector
//     turns the page indexes off (withUseColumnIndex(false)), and ts, a
//     timestamptz, is compared with no row group's statistics (Trino 476's
//     Parquet predicate converts TIMESTAMP statistics for timestamp columns
//     only): within a file, ts prunes nothing; the symbol's statistics and
//     dictionaries still do.

// IcebergTable is an Iceberg table's current snapshot as a query's
// planning reads it.
type IcebergTable struct {
	// Layout names the partition spec: hour(ts) for dt-hour, day(ts) and
	// identity(symbol) for dt-symbol, none for none (sink/iceberg.Spec).
	Layout sink.Layout
	// Metadata is the current metadata.json, ManifestList the current
	// snapshot's manifest list.
	Metadata, ManifestList MetadataObject
	Manifests              []IcebergManifest
	Files                  []IcebergFile
}

// MetadataObject is one metadata object: its key in the bucket and size.
type MetadataObject struct {
	Key  string
	Size int64
}

// IcebergManifest is one manifest of the snapshot as the manifest list
// describes it: the object, and the range of its files' partition values
// (Bounded false: the list gives none, and no query prunes it).
type IcebergManifest struct {
	MetadataObject
	Lower, Upper IcebergPartition
	Bounded      bool
}

// IcebergPartition is a partition tuple of the spec: TS is hour(ts) (hours
// since the epoch) or day(ts) (days), Symbol identity(symbol); a field the
// spec lacks is zero.
type IcebergPartition struct {
	TS     int64
	Symbol string
}

// IcebergFile is one data file as its manifest entry describes it.
type IcebergFile struct {
	Object    // Key: the object's key in the bucket
	Partition IcebergPartition
	// Lower and Upper are the column bounds by column name, in Iceberg's
	// single-value binary form (ts: little-endian int64 microseconds,
	// symbol: its UTF-8 bytes); a column without bounds is unbounded.
	Lower, Upper map[string][]byte
	// SplitOffsets are the row groups' first bytes.
	SplitOffsets []int64
}

// icebergSpec is a layout's partition spec as the model needs it.
type icebergSpec struct {
	ts     int64 // microseconds per ts partition (hour or day); 0: ts is not partitioned
	symbol bool  // identity(symbol)
}

func specOf(l sink.Layout) (icebergSpec, error) {
	switch l {
	case sink.LayoutNone:
		return icebergSpec{}, nil
	case sink.LayoutHourly:
		return icebergSpec{ts: time.Hour.Microseconds()}, nil
	case sink.LayoutSymbol:
		return icebergSpec{ts: 24 * time.Hour.Microseconds(), symbol: true}, nil
	}
	return icebergSpec{}, fmt.Errorf("layout %q: allowed %v", l, sink.Layouts)
}

// icebergQuery is one query against one spec: what the partitioning
// enforces, what the query projects, and the partitions it may touch.
type icebergQuery struct {
	spec               icebergSpec
	from, to           int64 // ts range, microseconds
	sym                []byte
	tsEnforced, symEnf bool
	projected          []string // the columns the scan produces
	partFrom, partTo   int64    // ts partitions [partFrom, partTo] the range touches
}

func newIcebergQuery(spec icebergSpec, q Query) icebergQuery {
	iq := icebergQuery{spec: spec, from: q.Pred.From.UnixMicro(), to: q.Pred.To.UnixMicro()}
	if q.Pred.Symbol != "" {
		iq.sym = []byte(q.Pred.Symbol)
	}
	// Trino enforces a range with a temporal transform when both ends are
	// the first instant of a partition: the partitions then hold exactly
	// the range's rows.
	iq.tsEnforced = spec.ts > 0 && iq.from%spec.ts == 0 && iq.to%spec.ts == 0
	iq.symEnf = iq.sym != nil && spec.symbol
	iq.projected = slices.Clone(q.Selected)
	if !iq.tsEnforced && !slices.Contains(iq.projected, "ts") {
		iq.projected = append(iq.projected, "ts")
	}
	if iq.sym != nil && !iq.symEnf && !slices.Contains(iq.projected, "symbol") {
		iq.projected = append(iq.projected, "symbol")
	}
	if spec.ts > 0 {
		iq.partFrom, iq.partTo = floorDiv(iq.from, spec.ts), floorDiv(iq.to-1, spec.ts)
	}
	return iq
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// keepManifest is Iceberg's ManifestEvaluator: the predicate projected on
// the partition fields against the manifest's partition ranges.
func (iq icebergQuery) keepManifest(m IcebergManifest) bool {
	if !m.Bounded {
		return true
	}
	if iq.spec.ts > 0 && (m.Upper.TS < iq.partFrom || m.Lower.TS > iq.partTo) {
		return false
	}
	return !iq.spec.symbol || iq.sym == nil || (m.Lower.Symbol <= string(iq.sym) && string(iq.sym) <= m.Upper.Symbol)
}

// keepFile is the scan's partition filter (the inclusive projection of
// the predicate) and InclusiveMetricsEvaluator on the file's bounds.
func (iq icebergQuery) keepFile(f IcebergFile) bool {
	if iq.spec.ts > 0 && (f.Partition.TS < iq.partFrom || f.Partition.TS > iq.partTo) {
		return false
	}
	if iq.spec.symbol && iq.sym != nil && f.Partition.Symbol != string(iq.sym) {
		return false
	}
	if lo, hi, ok := tsBounds(f); ok && (hi < iq.from || lo >= iq.to) {
		return false
	}
	if iq.sym != nil {
		if lo, ok := f.Lower["symbol"]; ok && bytes.Compare(lo, iq.sym) > 0 {
			return false
		}
		if hi, ok := f.Upper["symbol"]; ok && bytes.Compare(hi, iq.sym) < 0 {
			return false
		}
	}
	return true
}

func tsBounds(f IcebergFile) (lo, hi int64, ok bool) {
	l, h := f.Lower["ts"], f.Upper["ts"]
	if len(l) != 8 || len(h) != 8 {
		return 0, 0, false
	}
	return i64(l), i64(h), true
}

// filePredicate is what the reader checks in file f: the unenforced part
// of the predicate, less the columns whose bounds in f it holds for
// whole (IcebergPageSourceProvider.prunePredicate).
func (iq icebergQuery) filePredicate(f IcebergFile) pqPredicate {
	var p pqPredicate
	if !iq.tsEnforced {
		if lo, hi, ok := tsBounds(f); !ok || lo < iq.from || hi >= iq.to {
			p.ts, p.tsOpaque, p.from, p.to = true, true, iq.from, iq.to
		}
	}
	if iq.sym != nil && !iq.symEnf && (!bytes.Equal(f.Lower["symbol"], iq.sym) || !bytes.Equal(f.Upper["symbol"], iq.sym)) {
		p.sym = iq.sym
	}
	return p
}

// fileColumns are the columns the reader takes from the files: the
// projected ones less the identity partition columns, whose values come
// from each file's partition.
func (iq icebergQuery) fileColumns() []string {
	var cols []string
	for _, c := range iq.projected {
		if c == "symbol" && iq.spec.symbol {
			continue
		}
		cols = append(cols, c)
	}
	return cols
}

// icebergSplits are the splits of a data file (Iceberg's
// BaseContentScanTask.split): one per split offset, up to the next one or
// the file's end, when the offsets are usable (ascending, inside the
// file); otherwise fixed splits of splitSize.
func icebergSplits(f IcebergFile, splitSize int64) []span {
	offs := f.SplitOffsets
	usable := len(offs) > 0 && offs[len(offs)-1] < f.Size
	for i := 1; usable && i < len(offs); i++ {
		usable = offs[i] > offs[i-1]
	}
	var out []span
	if usable {
		for i, off := range offs {
			end := f.Size
			if i+1 < len(offs) {
				end = offs[i+1]
			}
			out = append(out, span{off, end - off})
		}
		return out
	}
	for off := int64(0); off < f.Size; off += splitSize {
		out = append(out, span{off, min(splitSize, f.Size-off)})
	}
	return out
}

// IcebergScanBytes models what engine e reads for q over the Iceberg table
// t (see the top of this file), hence what Athena bills, and the metadata
// objects the query's planning reads (Scan.MetadataGets), which Athena does
// not bill as scanned bytes: they are requests on the bucket. Each metadata
// object is read once, as Trino's coordinator caches them while it plans
// (the split source and the statistics both plan the files).
func IcebergScanBytes(t IcebergTable, q Query, e Engine, prices Prices) (Scan, error) {
	s := Scan{Query: q.Name}
	if err := e.Validate(); err != nil {
		return s, err
	}
	spec, err := specOf(t.Layout)
	if err != nil {
		return s, err
	}
	iq := newIcebergQuery(spec, q)
	e.ColumnIndex = false
	// metadata.json (read by the catalog, or by the engine from a Glue
	// catalog's pointer), then the manifest list: a HEAD for its length,
	// which the snapshot does not record, and a GET; each manifest is one
	// GET, its length being in the list.
	s.MetadataGets, s.MetadataBytes = 3, t.Metadata.Size+t.ManifestList.Size
	for _, m := range t.Manifests {
		if iq.keepManifest(m) {
			s.MetadataGets++
			s.MetadataBytes += m.Size
		}
	}
	s.MetadataUSD = float64(s.MetadataGets) / 1000 * prices.S3GetPer1000
	cols := iq.fileColumns()
	for _, f := range t.Files {
		if !iq.keepFile(f) {
			continue
		}
		s.Objects++
		if len(cols) == 0 {
			continue // rows from the record count
		}
		if err := e.scanParquet(&s, f.Object, icebergSplits(f, e.IcebergSplitSize), cols, iq.filePredicate(f)); err != nil {
			return s, fmt.Errorf("scan %s: %w", q.Name, err)
		}
	}
	s.BilledBytes, s.USD = prices.AthenaBill(s.Bytes)
	return s, nil
}
