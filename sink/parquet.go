package sink

import (
	"fmt"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/tickbench/tickbench/tick"
)

// Row-group bounds of Parquet objects. A row group is buffered uncompressed
// until it is full, about 72 bytes per row. The default, 128 Ki rows, makes
// row groups of about 2 MiB (snappy) of the generator's ticks and holds
// about 10 MiB per open batch: small enough for many partitions at once, and
// fine-grained enough for min/max statistics to skip time ranges.
const (
	DefaultRowGroupRows = 128 << 10
	MinRowGroupRows     = 1_000
	MaxRowGroupRows     = 10_000_000
)

// Parquet writes each object as one Parquet file whose columns are named like
// the JSON fields. ts is TIMESTAMP(MICROS, UTC), never NANOS, which Athena
// cannot read. symbol, exchange and the sizes are dictionary-encoded, seq and
// ts delta-encoded, prices plain: 16.3 bytes per generated tick with snappy
// where all-plain takes 27.4. Data pages are version 1, which every reader
// supports. Every column chunk carries min/max statistics and a page index.
//
// The zero value is snappy with DefaultRowGroupRows; NewParquet picks others.
type Parquet struct {
	codec        string
	rowGroupRows int
}

// parquetCodecs are the codecs Parquet accepts; the first is the default.
var parquetCodecs = []struct {
	name  string
	codec compress.Codec
	// bytesPerRow is what Len assumes until the object's first row group
	// is written: the generator's ticks measure 16.3 (snappy), 13.1 (zstd).
	bytesPerRow int
}{
	{"snappy", &parquet.Snappy, 17},
	{"zstd", &parquet.Zstd, 14},
}

// NewParquet returns the Parquet format with codec "snappy" or "zstd" and
// row groups of rowGroupRows rows (MinRowGroupRows..MaxRowGroupRows).
func NewParquet(codec string, rowGroupRows int) (Format, error) {
	if codecIndex(codec) < 0 {
		return nil, fmt.Errorf("parquet codec %q: allowed snappy, zstd", codec)
	}
	if rowGroupRows < MinRowGroupRows || rowGroupRows > MaxRowGroupRows {
		return nil, fmt.Errorf("parquet row group %d rows: allowed %d..%d", rowGroupRows, MinRowGroupRows, MaxRowGroupRows)
	}
	return Parquet{codec: codec, rowGroupRows: rowGroupRows}, nil
}

func codecIndex(name string) int {
	for i, c := range parquetCodecs {
		if c.name == name {
			return i
		}
	}
	return -1
}

// Codec is the compression codec's name.
func (p Parquet) Codec() string {
	if p.codec == "" {
		return parquetCodecs[0].name
	}
	return p.codec
}

// RowGroupRows is the number of rows per row group (the last may have fewer).
func (p Parquet) RowGroupRows() int {
	if p.rowGroupRows == 0 {
		return DefaultRowGroupRows
	}
	return p.rowGroupRows
}

// Name is "parquet" for the default codec, "parquet-<codec>" for others.
func (p Parquet) Name() string {
	if c := p.Codec(); c != parquetCodecs[0].name {
		return "parquet-" + c
	}
	return "parquet"
}

func (Parquet) Ext() string         { return "parquet" }
func (Parquet) ContentType() string { return "application/vnd.apache.parquet" }

func (p Parquet) NewEncoder() Encoder {
	c := parquetCodecs[codecIndex(p.Codec())]
	return &parquetEncoder{
		codec:       c.codec,
		groupRows:   p.RowGroupRows(),
		bytesPerRow: c.bytesPerRow,
		rows:        make([]parquetRow, 0, parquetWriteBatch),
	}
}

// parquetRow is the file schema. Integers are signed: Parquet's unsigned
// logical types are not understood by every engine.
type parquetRow struct {
	Symbol   string  `parquet:"symbol,dict"`
	Seq      int64   `parquet:"seq,delta"`
	TS       int64   `parquet:"ts,timestamp(microsecond:utc),delta"`
	Price    float64 `parquet:"price"`
	Size     int64   `parquet:"size,dict"`
	Bid      float64 `parquet:"bid"`
	Ask      float64 `parquet:"ask"`
	BidSize  int64   `parquet:"bid_size,dict"`
	AskSize  int64   `parquet:"ask_size,dict"`
	Exchange string  `parquet:"exchange,dict"`
}

func (r *parquetRow) set(t *tick.Tick) {
	*r = parquetRow{
		Symbol: t.Symbol, Seq: int64(t.Seq), TS: t.Intended / 1000, Price: t.Price, Size: int64(t.Size),
		Bid: t.Bid, Ask: t.Ask, BidSize: int64(t.BidSize), AskSize: int64(t.AskSize), Exchange: t.Exchange,
	}
}

// parquetWriteBatch rows are handed to the writer at once: per-row writes
// cost about twice as much.
const parquetWriteBatch = 1024

type parquetEncoder struct {
	out appendWriter
	// w is made anew for each object: parquet-go v0.32.0's Writer.Reset
	// blanks path_in_schema in the files after the first, which Athena and
	// Spark cannot read (github.com/parquet-go/parquet-go/issues/602).
	w           *parquet.GenericWriter[parquetRow]
	codec       compress.Codec
	groupRows   int
	bytesPerRow int
	rows        []parquetRow // not yet handed to w
	n           int          // rows in this object
	inGroup     int          // rows handed to w since the last row group
	doneRows    int          // rows in finished row groups
	doneBytes   int          // file bytes of finished row groups (and header)
	buffered    int          // the writer's open row group, as of the last write
	err         error        // sticky: a failed write spoils the object
}

func (e *parquetEncoder) Append(t *tick.Tick) error {
	if e.err != nil {
		return e.err
	}
	e.rows = append(e.rows, parquetRow{})
	e.rows[len(e.rows)-1].set(t)
	e.n++
	if len(e.rows) == cap(e.rows) || e.inGroup+len(e.rows) == e.groupRows {
		return e.write()
	}
	return nil
}

// write hands the pending rows to the writer and ends the row group when it
// is full. Row groups are cut here rather than by the writer so that Len can
// learn the compressed size at each boundary.
func (e *parquetEncoder) write() error {
	if e.w == nil {
		e.w = parquet.NewGenericWriter[parquetRow](&e.out, parquet.Compression(e.codec), parquet.DataPageVersion(1))
	}
	if _, err := e.w.Write(e.rows); err != nil {
		e.err = fmt.Errorf("parquet: %w", err)
		return e.err
	}
	e.inGroup += len(e.rows)
	e.rows = e.rows[:0]
	if e.inGroup == e.groupRows {
		if err := e.w.Flush(); err != nil {
			e.err = fmt.Errorf("parquet: %w", err)
			return e.err
		}
		e.inGroup = 0
		e.doneRows = e.n
		e.doneBytes = int(e.w.Size()) // right after a flush: the bytes written
	}
	// Size counts the open row group's values uncompressed, its pages and
	// dictionaries, on top of what was written out.
	e.buffered = max(0, int(e.w.Size())-len(e.out.b))
	return nil
}

// parquetWriterBytes is what a writer holds beyond its open row group's
// data (column buffers' spare capacity, page buffers, metadata), measured
// as heap growth per encoder (TestFootprintMatchesHeap).
const parquetWriterBytes = 1_950_000

// Footprint is the file's bytes so far, the rows waiting for the writer and
// the writer's open row group (uncompressed values, pages, dictionaries).
func (e *parquetEncoder) Footprint() int {
	n := cap(e.out.b) + cap(e.rows)*int(unsafe.Sizeof(parquetRow{}))
	if e.w != nil {
		n += e.buffered + parquetWriterBytes
	}
	return n
}

// Len is the finished row groups' bytes plus the open one's rows at the
// bytes per row measured so far (a per-codec figure before the first row
// group is done). Buffered rows are not compressed yet, so measuring them
// would overstate the size about fourfold. Like gzip's, it depends only on
// this object's ticks.
func (e *parquetEncoder) Len() int {
	if e.doneRows == 0 {
		return e.n * e.bytesPerRow
	}
	return e.doneBytes + (e.n-e.doneRows)*e.doneBytes/e.doneRows
}

func (e *parquetEncoder) Finish() ([]byte, error) {
	err := e.err
	if err == nil && (len(e.rows) > 0 || e.w == nil) {
		err = e.write() // also makes the writer of an empty object
	}
	if err == nil {
		if err = e.w.Close(); err != nil {
			err = fmt.Errorf("parquet: %w", err)
		}
	}
	return e.out.finish(err, e.Reset)
}

func (e *parquetEncoder) Reset() {
	e.out.b = e.out.b[:0]
	e.w = nil
	e.rows = e.rows[:0]
	e.n, e.inGroup, e.doneRows, e.doneBytes, e.buffered, e.err = 0, 0, 0, 0, 0, nil
}
