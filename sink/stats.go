package sink

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// FileStats are what a table format's manifest says of a Parquet object:
// rows, and per column its values, nulls, stored bytes and bounds, read from
// the footer of the object as written (no request).
type FileStats struct {
	Rows    int64
	Columns []ColumnStats
	// RowGroupOffsets are the file offsets where row groups start (a
	// manifest's split offsets).
	RowGroupOffsets []int64
}

// ColumnStats are one column's statistics over every row group. Min and Max
// are Parquet's plain encoding of the bounds, which is Iceberg's single-value
// binary form for the types of a tick (little-endian int64 and float64, the
// bytes of a string); nil when a row group had none.
type ColumnStats struct {
	Name                 string
	Values, Nulls, Bytes int64
	Min, Max             []byte
}

// ReadFileStats reads the statistics of a Parquet object from its footer.
func ReadFileStats(body []byte) (*FileStats, error) {
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("parquet footer: %w", err)
	}
	md := f.Metadata()
	fs := &FileStats{Rows: md.NumRows}
	index := map[string]int{}
	for g, rg := range md.RowGroups {
		if len(rg.Columns) > 0 {
			off := rg.Columns[0].MetaData.DataPageOffset
			if d := rg.Columns[0].MetaData.DictionaryPageOffset; d > 0 && d < off {
				off = d
			}
			fs.RowGroupOffsets = append(fs.RowGroupOffsets, off)
		}
		for _, cc := range rg.Columns {
			m := cc.MetaData
			name := strings.Join([]string(m.PathInSchema), ".")
			i, ok := index[name]
			if !ok {
				if g > 0 {
					return nil, fmt.Errorf("row group %d has column %q the first does not", g, name)
				}
				i = len(fs.Columns)
				index[name] = i
				fs.Columns = append(fs.Columns, ColumnStats{Name: name, Min: m.Statistics.MinValue, Max: m.Statistics.MaxValue})
			}
			c := &fs.Columns[i]
			c.Values += m.NumValues
			c.Nulls += m.Statistics.NullCount
			c.Bytes += m.TotalCompressedSize
			if g > 0 {
				c.Min = bound(c.Min, m.Statistics.MinValue, m.Type, -1)
				c.Max = bound(c.Max, m.Statistics.MaxValue, m.Type, +1)
			}
		}
	}
	return fs, nil
}

// bound returns the lower (dir -1) or upper (dir +1) of two plain-encoded
// bounds of a column of type t; nil (no statistics) wins, since an unknown
// bound bounds nothing.
func bound(a, b []byte, t format.Type, dir int) []byte {
	if a == nil || b == nil {
		return nil
	}
	var c int
	switch t {
	case format.Int64:
		c = cmp.Compare(int64(binary.LittleEndian.Uint64(a)), int64(binary.LittleEndian.Uint64(b)))
	case format.Double:
		c = cmp.Compare(math.Float64frombits(binary.LittleEndian.Uint64(a)), math.Float64frombits(binary.LittleEndian.Uint64(b)))
	default:
		c = bytes.Compare(a, b) // strings: unsigned byte order, as Parquet and Iceberg
	}
	if c*dir >= 0 {
		return a
	}
	return b
}
