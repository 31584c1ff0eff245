package lake

import (
	"fmt"
	"slices"
)

// Engine holds the settings of the query engine whose reads from S3 the
// scan model follows: Trino's Hive connector, on which Athena engine v3
// is built (Athena bills what its readers take from S3). The fields are
// data so that another engine's settings can be modelled; TrinoDefaults
// has Trino 476's. Sizes are bytes.
//
// Which settings Athena runs with is not published. Its engine v3 tracks
// Trino releases and documents none of these reader properties as changed,
// so the model assumes Trino's defaults; docs/athena-scan.md says why and
// what would tell otherwise.
type Engine struct {
	// Name labels results, e.g. "trino-476".
	Name string `json:"name"`
	// FooterRead is how much of a Parquet object's end each split reads
	// first to find the footer (MetadataReader's EXPECTED_FOOTER_SIZE); a
	// longer footer is read again whole.
	FooterRead int64 `json:"footer_read"`
	// SmallFile: Parquet objects up to this size are read whole when a
	// split opens them (parquet.small-file-threshold).
	SmallFile int64 `json:"small_file"`
	// MaxMergeDistance: ranges of one split closer than this are read as
	// one, the gap included (parquet.max-merge-distance).
	MaxMergeDistance int64 `json:"max_merge_distance"`
	// MaxBufferSize: a merged read stays at most this long; longer ranges
	// are read on their own (parquet.max-buffer-size).
	MaxBufferSize int64 `json:"max_buffer_size"`
	// ColumnIndex: page indexes prune row groups and pages
	// (parquet.use-column-index).
	ColumnIndex bool `json:"column_index"`
	// InitialSplitSize, InitialSplits and SplitSize: splittable objects
	// (Parquet, uncompressed text) larger than InitialSplitSize are read in
	// splits of up to InitialSplitSize for the query's first InitialSplits
	// splits, SplitSize after (hive.max-initial-split-size,
	// hive.max-initial-splits, hive.max-split-size).
	InitialSplitSize int64 `json:"initial_split_size"`
	InitialSplits    int   `json:"initial_splits"`
	SplitSize        int64 `json:"split_size"`
	// TextBuffer is the line reader's buffer: a text split reads whole
	// buffers up to the end of the line that crosses its end.
	TextBuffer int64 `json:"text_buffer"`
	// IcebergSplitSize: the Iceberg connector cuts a data file whose
	// manifest entry has no usable split offsets in splits of this size
	// (the table's read.split.target-size); with them, a split per row
	// group.
	IcebergSplitSize int64 `json:"iceberg_split_size"`
}

// TrinoDefaults are Trino 476's settings (ParquetReaderOptions, HiveConfig,
// TextLineReaderFactory as the Hive connector builds it; Iceberg 1.9's
// TableProperties for the Iceberg connector, which shares the Parquet
// reader and its parquet.* settings).
var TrinoDefaults = Engine{
	Name:             "trino-476",
	FooterRead:       48 << 10,
	SmallFile:        3 << 20,
	MaxMergeDistance: 1 << 20,
	MaxBufferSize:    8 << 20,
	ColumnIndex:      true,
	InitialSplitSize: 32 << 20,
	InitialSplits:    200,
	SplitSize:        64 << 20,
	TextBuffer:       1 << 10,
	IcebergSplitSize: 128 << 20,
}

// Validate checks that every size is in its range.
func (e Engine) Validate() error {
	for _, f := range []struct {
		name   string
		v, min int64
	}{
		{"footer read", e.FooterRead, 8}, {"small file", e.SmallFile, 0}, {"max merge distance", e.MaxMergeDistance, 0},
		{"max buffer size", e.MaxBufferSize, 1}, {"initial split size", e.InitialSplitSize, 1}, {"initial splits", int64(e.InitialSplits), 0},
		{"split size", e.SplitSize, 1}, {"text buffer", e.TextBuffer, 16}, {"iceberg split size", e.IcebergSplitSize, 1},
	} {
		if f.v < f.min || f.v > 1<<40 {
			return fmt.Errorf("engine %s: %s %d: allowed %d..%d", e.Name, f.name, f.v, f.min, int64(1)<<40)
		}
	}
	return nil
}

// span is a byte range [off, off+n) of an object.
type span struct{ off, n int64 }

func (s span) end() int64 { return s.off + s.n }

// readSize is how many bytes one planned read of ranges takes from storage
// (AbstractParquetDataSource.planRead): ranges up to MaxBufferSize are
// merged, in offset order, with the next one while the gap is at most
// MaxMergeDistance and the merged read at most MaxBufferSize; longer
// ranges are read whole on their own.
func (e Engine) readSize(ranges []span) int64 {
	var small []span
	var n int64
	for _, r := range ranges {
		if r.n <= e.MaxBufferSize {
			small = append(small, r)
		} else {
			n += r.n
		}
	}
	if len(small) == 0 {
		return n
	}
	slices.SortStableFunc(small, func(a, b span) int { return compare64(a.off, b.off) })
	last := small[0]
	for _, cur := range small[1:] {
		merged := span{last.off, max(last.end(), cur.end()) - last.off}
		if merged.n <= e.MaxBufferSize && last.end()+e.MaxMergeDistance >= cur.off {
			last = merged
			continue
		}
		n += last.n
		last = cur
	}
	return n + last.n
}

func compare64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// splitter cuts objects into splits as the Hive connector's split source
// does; one splitter serves one query, since the initial split size holds
// for the query's first splits.
type splitter struct {
	e       Engine
	initial int // initial-size splits left
}

func (e Engine) newSplitter() *splitter { return &splitter{e: e, initial: e.InitialSplits} }

// splits of an object of size bytes; splittable says whether its format
// may be split (Parquet, uncompressed text). Objects up to the initial
// split size are never split. A remainder up to twice the split size is
// cut in two halves rather than leaving a small last split.
func (s *splitter) splits(size int64, splittable bool) []span {
	if !splittable || size <= s.e.InitialSplitSize {
		s.take()
		return []span{{0, size}}
	}
	var out []span
	for start := int64(0); start < size; {
		max := s.e.SplitSize
		if s.take() {
			max = s.e.InitialSplitSize
		}
		n := size - start
		switch {
		case n <= max:
		case 2*max >= n:
			n /= 2
		default:
			n = max
		}
		out = append(out, span{start, n})
		start += n
	}
	return out
}

// take counts one split and reports whether it was an initial one.
func (s *splitter) take() bool {
	if s.initial > 0 {
		s.initial--
		return true
	}
	return false
}
