package lake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickbench/tickbench/internal/pqguard"
	"github.com/tickbench/tickbench/sink"
)

// Predicate is what a query's WHERE clause restricts: an event-time range
// [From, To) and optionally one symbol.
type Predicate struct {
	From, To time.Time
	Symbol   string
}

// Query is one query of the standard set, as data: what it computes, the
// data columns it references and its predicate. Its SQL is written per
// table (ts is TIMESTAMP in Parquet and integer nanoseconds in JSON, and
// the partition predicates depend on the layout), and runs unchanged on
// Athena and on the local engine.
type Query struct {
	Name    string
	Columns []string // data columns referenced anywhere in the query
	// Selected are the data columns referenced outside the WHERE clause:
	// an engine that enforces the predicate with the table's partitioning
	// (Iceberg's hidden partitions) reads only these.
	Selected []string
	Pred     Predicate
	// sql writes the query given the table, its WHERE clause and whether
	// ts is a timestamp (Parquet) rather than integer nanoseconds (JSON).
	sql func(table, where string, timestamps bool) string
}

// StandardQueries are the standard set for one day, one hour of it and one
// symbol: count of the hour; VWAP per symbol for the day; last trade of
// the symbol in the hour; OHLC per minute of the symbol for the day.
func StandardQueries(hour time.Time, symbol string) []Query {
	hour = hour.UTC().Truncate(time.Hour)
	day := time.Date(hour.Year(), hour.Month(), hour.Day(), 0, 0, 0, 0, time.UTC)
	inHour := Predicate{From: hour, To: hour.Add(time.Hour)}
	inDay := Predicate{From: day, To: day.Add(24 * time.Hour)}
	symHour, symDay := inHour, inDay
	symHour.Symbol, symDay.Symbol = symbol, symbol
	return []Query{
		{Name: "count-hour", Columns: []string{"ts"}, Pred: inHour,
			sql: func(table, where string, _ bool) string {
				return "SELECT count(*) AS n FROM " + table + " WHERE " + where
			}},
		{Name: "vwap-day", Columns: []string{"symbol", "ts", "price", "size"}, Selected: []string{"symbol", "price", "size"}, Pred: inDay,
			sql: func(table, where string, _ bool) string {
				return "SELECT symbol, sum(price * size) / sum(size) AS vwap, sum(size) AS volume FROM " + table +
					" WHERE " + where + " GROUP BY symbol ORDER BY symbol"
			}},
		{Name: "last-trade", Columns: []string{"symbol", "seq", "ts", "price", "size"}, Selected: []string{"seq", "ts", "price", "size"}, Pred: symHour,
			sql: func(table, where string, _ bool) string {
				return "SELECT seq, ts, price, size FROM " + table + " WHERE " + where + " ORDER BY ts DESC, seq DESC LIMIT 1"
			}},
		{Name: "ohlc-minute", Columns: []string{"symbol", "seq", "ts", "price", "size"}, Selected: []string{"seq", "ts", "price", "size"}, Pred: symDay,
			sql: func(table, where string, timestamps bool) string {
				minute := "ts - ts % 60000000000" // integer nanoseconds
				if timestamps {
					minute = "date_trunc('minute', ts)"
				}
				return "SELECT " + minute + " AS minute, min_by(price, seq) AS open, max(price) AS high, min(price) AS low, " +
					"max_by(price, seq) AS close, sum(size) AS volume FROM " + table + " WHERE " + where + " GROUP BY 1 ORDER BY 1"
			}},
	}
}

// SQL is q written for table t (named table in the FROM clause).
func (q Query) SQL(t Table, table string) string { return q.sql(table, q.Pred.where(t), t.Parquet()) }

// IcebergSQL is q written for an Iceberg table of ticks named table (e.g.
// iceberg.tickbench.t): its partitions are hidden (hour(ts), or day(ts)
// and symbol), so the predicate is on ts, a timestamptz, and the symbol
// only; the engine prunes partitions from it. It selects the same ticks
// as SQL does on a Hive-style table of them.
func (q Query) IcebergSQL(table string) string {
	const tsf = "2006-01-02 15:04:05.000000 UTC"
	conds := []string{"ts >= TIMESTAMP '" + q.Pred.From.UTC().Format(tsf) + "'", "ts < TIMESTAMP '" + q.Pred.To.UTC().Format(tsf) + "'"}
	if q.Pred.Symbol != "" {
		conds = append(conds, "symbol = "+quote(q.Pred.Symbol))
	}
	return q.sql(table, strings.Join(conds, " AND "), true)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// where is the predicate as SQL: partition keys first, so that Athena
// prunes partitions, then ts (which Parquet statistics can prune) and the
// symbol.
func (p Predicate) where(t Table) string {
	var conds []string
	days := p.days()
	switch t.Layout {
	case sink.LayoutHourly, sink.LayoutSymbol:
		if len(days) == 1 {
			conds = append(conds, "dt = '"+days[0]+"'")
		} else {
			conds = append(conds, "dt BETWEEN '"+days[0]+"' AND '"+days[len(days)-1]+"'")
		}
	}
	if t.Layout == sink.LayoutHourly && p.To.Sub(p.From) <= time.Hour && p.From.Truncate(time.Hour).Equal(p.From) {
		conds = append(conds, "hour = "+strconv.Itoa(p.From.UTC().Hour()))
	}
	if t.Parquet() {
		const tsf = "2006-01-02 15:04:05.000000"
		conds = append(conds, "ts >= TIMESTAMP '"+p.From.UTC().Format(tsf)+"'", "ts < TIMESTAMP '"+p.To.UTC().Format(tsf)+"'")
	} else {
		conds = append(conds, fmt.Sprintf("ts >= %d", p.From.UnixNano()), fmt.Sprintf("ts < %d", p.To.UnixNano()))
	}
	if p.Symbol != "" {
		conds = append(conds, "symbol = "+quote(p.Symbol))
	}
	return strings.Join(conds, " AND ")
}

// days are the dt values [From, To) touches.
func (p Predicate) days() []string {
	var out []string
	for d := p.From.UTC().Truncate(24 * time.Hour); d.Before(p.To); d = d.Add(24 * time.Hour) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// Object is one landed object: its key below the table's prefix, its size,
// and for Parquet a way to read its footer.
type Object struct {
	Key  string // relative to the table's prefix, e.g. dt=.../hour=07/x.parquet
	Size int64
	// ReadAt reads the object's bytes (ranged GETs for S3): the model
	// reads Parquet footers, page indexes and dictionaries (small objects
	// whole, once), and where uncompressed JSON is split, the line that
	// crosses each split's end.
	ReadAt io.ReaderAt
}

// Scan is the modelled Athena scan of one query over one table.
type Scan struct {
	Query string `json:"query"`
	// Objects is how many objects partition pruning left, ObjectsRead how
	// many of them the engine read (for Parquet: kept a row group of).
	Objects     int `json:"objects"`
	ObjectsRead int `json:"objects_read"`
	// RowGroups is how many row groups of those objects the engine kept
	// (statistics, page indexes and dictionaries did not exclude), of
	// RowGroupsTotal.
	RowGroups      int `json:"row_groups"`
	RowGroupsTotal int `json:"row_groups_total"`
	// Bytes is the modelled physical input: what the engine's readers
	// take from S3, hence DataScannedInBytes.
	Bytes int64 `json:"bytes"`
	// ChunkBytes is what a reader with no per-object cost would take: the
	// referenced columns' chunks of the row groups kept (Parquet), the
	// objects (JSON). Bytes - ChunkBytes is per-object overhead: footer
	// reads, small objects read whole, page indexes, dictionaries, gaps.
	ChunkBytes  int64   `json:"chunk_bytes"`
	BilledBytes int64   `json:"billed_bytes"` // at least the minimum, whole MB
	USD         float64 `json:"usd"`
	// MetadataGets and MetadataBytes are the metadata objects the query's
	// planning reads (an Iceberg table's metadata.json, manifest list and
	// the manifests its predicate may match; none for a Hive-style table,
	// whose partitions come from the catalog), each once. They are not
	// physical input: S3 bills them to the bucket's owner as GETs, priced
	// in MetadataUSD.
	MetadataGets  int     `json:"metadata_gets,omitempty"`
	MetadataBytes int64   `json:"metadata_bytes,omitempty"`
	MetadataUSD   float64 `json:"metadata_usd,omitempty"`
}

// ScanBytes models the bytes engine e reads from S3 for q over t's
// objects, hence what Athena bills: partition pruning from the keys' dirs
// (partition keys are never read from the objects); JSON objects whole
// (their stored, compressed size for .gz), uncompressed ones in splits
// that each read on to the end of the line crossing their end, in whole
// line-reader buffers; Parquet as the engine's reader does it (see
// parquet.go), reading footers, page indexes and dictionaries from the
// objects where the engine would.
func ScanBytes(t Table, q Query, objects []Object, e Engine, prices Prices) (Scan, error) {
	s := Scan{Query: q.Name}
	if err := e.Validate(); err != nil {
		return s, err
	}
	var cols []string
	partition := map[string]bool{}
	for _, k := range t.PartitionKeys() {
		partition[k.Name] = true
	}
	for _, c := range q.Columns {
		if !partition[c] {
			cols = append(cols, c)
		}
	}
	p := pqPredicate{ts: true, from: q.Pred.From.UnixMicro(), to: q.Pred.To.UnixMicro()}
	if q.Pred.Symbol != "" && !partition["symbol"] {
		p.sym = []byte(q.Pred.Symbol)
	}
	splits := e.newSplitter()
	for _, o := range objects {
		if !q.Pred.keepPartition(t.Layout, o.Key) {
			continue
		}
		s.Objects++
		if !t.Parquet() {
			n, err := e.textBytes(o, splits, !strings.HasSuffix(o.Key, ".gz"))
			if err != nil {
				return s, fmt.Errorf("scan %s: %s: %w", q.Name, o.Key, err)
			}
			s.ObjectsRead++
			s.Bytes += n
			s.ChunkBytes += o.Size
			continue
		}
		if err := e.scanParquet(&s, o, splits.splits(o.Size, true), cols, p); err != nil {
			return s, fmt.Errorf("scan %s: %w", q.Name, err)
		}
	}
	s.BilledBytes, s.USD = prices.AthenaBill(s.Bytes)
	return s, nil
}

// scanParquet adds to s what the engine reads of the Parquet object o in
// the splits given, for a query reading cols (file columns, the
// predicate's included) under p.
func (e Engine) scanParquet(s *Scan, o Object, splits []span, cols []string, p pqPredicate) error {
	r := o.ReadAt
	if o.Size <= e.SmallFile {
		// The model reads a small object once, as the engine does.
		b := make([]byte, o.Size)
		if _, err := o.ReadAt.ReadAt(b, 0); err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", o.Key, err)
		}
		r = bytes.NewReader(b)
	}
	md, footer, err := ReadFooter(r, o.Size)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Key, err)
	}
	obj := &pqObject{r: r, size: o.Size, footer: footer, md: md}
	read := false
	for _, sp := range splits {
		res, err := e.scanSplit(obj, sp, cols, p)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
		s.RowGroupsTotal += res.groups
		s.RowGroups += res.kept
		s.Bytes += res.bytes
		s.ChunkBytes += res.chunkBytes
		read = read || res.kept > 0
	}
	if read {
		s.ObjectsRead++
	}
	return nil
}

// textBytes is what the engine's line reader takes of a JSON object: all
// of it when it is one split; for each split of a splittable one, whole
// buffers from the split's start to the end of the last line starting at
// or before the split's end.
func (e Engine) textBytes(o Object, splits *splitter, splittable bool) (int64, error) {
	var n int64
	for _, sp := range splits.splits(o.Size, splittable) {
		if sp.end() >= o.Size {
			n += o.Size - sp.off
			continue
		}
		end, err := lineEnd(o.ReadAt, sp.end(), o.Size)
		if err != nil {
			return 0, err
		}
		read := (end - sp.off + e.TextBuffer - 1) / e.TextBuffer * e.TextBuffer
		n += min(read, o.Size-sp.off)
	}
	return n, nil
}

// lineEnd is the offset after the first line terminator at or after off.
func lineEnd(r io.ReaderAt, off, size int64) (int64, error) {
	buf := make([]byte, 4<<10)
	for pos := off; pos < size; pos += int64(len(buf)) {
		n := min(int64(len(buf)), size-pos)
		if _, err := r.ReadAt(buf[:n], pos); err != nil && err != io.EOF {
			return 0, fmt.Errorf("read at %d: %w", pos, err)
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return size, nil
}

// keepPartition reports whether the object at key (below the prefix) may
// hold rows of p, judging by its dt=, hour= and symbol= dirs.
func (p Predicate) keepPartition(l sink.Layout, key string) bool {
	if l == sink.LayoutNone {
		return true
	}
	var dt, sym string
	hour := -1
	for _, seg := range strings.Split(key, "/") {
		k, v, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		switch k {
		case "dt":
			dt = v
		case "hour":
			if h, err := strconv.Atoi(v); err == nil {
				hour = h
			}
		case "symbol":
			sym = v
		}
	}
	day, err := time.Parse("2006-01-02", dt)
	if err != nil {
		return true // not a partition dir: Athena would not prune it either
	}
	from, to := day, day.Add(24*time.Hour)
	if l == sink.LayoutHourly && hour >= 0 {
		from = day.Add(time.Duration(hour) * time.Hour)
		to = from.Add(time.Hour)
	}
	if !from.Before(p.To) || !to.After(p.From) {
		return false
	}
	return l != sink.LayoutSymbol || p.Symbol == "" || sym == p.Symbol
}

// statBytes prefers the new min_value/max_value fields to the deprecated
// min/max.
func statBytes(v, deprecated []byte) []byte {
	if v != nil {
		return v
	}
	return deprecated
}

func chunk(rg format.RowGroup, name string) (format.ColumnMetaData, bool) {
	for _, c := range rg.Columns {
		if p := c.MetaData.PathInSchema; len(p) == 1 && p[0] == name {
			return c.MetaData, true
		}
	}
	return format.ColumnMetaData{}, false
}

// footerTail is how much of an object's end is read at once: the footers
// of tickbench's objects are a few KB, so one read usually suffices.
const footerTail = 64 << 10

// ReadFooter reads a Parquet object's footer and returns its metadata and
// the footer's size with its 4-byte length and 4-byte magic.
func ReadFooter(r io.ReaderAt, size int64) (*format.FileMetaData, int64, error) {
	if size < 12 {
		return nil, 0, fmt.Errorf("parquet object of %d bytes: too small", size)
	}
	n := min(size, footerTail)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return nil, 0, fmt.Errorf("read parquet footer: %w", err)
	}
	if string(tail[n-4:]) != "PAR1" {
		return nil, 0, fmt.Errorf("not a Parquet object: ends in %q, not PAR1", tail[n-4:])
	}
	flen := int64(binary.LittleEndian.Uint32(tail[n-8 : n-4]))
	if flen+12 > size {
		return nil, 0, fmt.Errorf("parquet footer length %d exceeds the object's %d bytes", flen, size)
	}
	var footer []byte
	if flen+8 <= n {
		footer = tail[n-8-flen : n-8]
	} else {
		footer = make([]byte, flen)
		if _, err := r.ReadAt(footer, size-8-flen); err != nil && err != io.EOF {
			return nil, 0, fmt.Errorf("read parquet footer: %w", err)
		}
	}
	// parquet-go trusts Thrift container counts: a corrupt one would make
	// it allocate or loop for billions of elements.
	used, err := pqguard.Struct(footer)
	if err != nil {
		return nil, 0, fmt.Errorf("parquet footer: %w", err)
	}
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, footer[:used], &md); err != nil {
		return nil, 0, fmt.Errorf("decode parquet footer: %w", err)
	}
	return &md, flen + 8, nil
}
