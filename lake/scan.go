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
	Pred    Predicate
	// sql writes the query given the table and its WHERE clause.
	sql func(table, where string, t Table) string
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
			sql: func(table, where string, _ Table) string {
				return "SELECT count(*) AS n FROM " + table + " WHERE " + where
			}},
		{Name: "vwap-day", Columns: []string{"symbol", "ts", "price", "size"}, Pred: inDay,
			sql: func(table, where string, _ Table) string {
				return "SELECT symbol, sum(price * size) / sum(size) AS vwap, sum(size) AS volume FROM " + table +
					" WHERE " + where + " GROUP BY symbol ORDER BY symbol"
			}},
		{Name: "last-trade", Columns: []string{"symbol", "seq", "ts", "price", "size"}, Pred: symHour,
			sql: func(table, where string, _ Table) string {
				return "SELECT seq, ts, price, size FROM " + table + " WHERE " + where + " ORDER BY ts DESC, seq DESC LIMIT 1"
			}},
		{Name: "ohlc-minute", Columns: []string{"symbol", "seq", "ts", "price", "size"}, Pred: symDay,
			sql: func(table, where string, t Table) string {
				minute := "ts - ts % 60000000000" // integer nanoseconds
				if t.Parquet() {
					minute = "date_trunc('minute', ts)"
				}
				return "SELECT " + minute + " AS minute, min_by(price, seq) AS open, max(price) AS high, min(price) AS low, " +
					"max_by(price, seq) AS close, sum(size) AS volume FROM " + table + " WHERE " + where + " GROUP BY 1 ORDER BY 1"
			}},
	}
}

// SQL is q written for table t (named table in the FROM clause).
func (q Query) SQL(t Table, table string) string { return q.sql(table, q.Pred.where(t), t) }

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
		conds = append(conds, "symbol = '"+strings.ReplaceAll(p.Symbol, "'", "''")+"'")
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
	// ReadAt reads the object's bytes (ranged GETs for S3); only the
	// footer of Parquet objects is read.
	ReadAt io.ReaderAt
}

// Scan is the modelled Athena scan of one query over one table.
type Scan struct {
	Query string `json:"query"`
	// Objects is how many objects partition pruning left; RowGroups how
	// many of their row groups min/max statistics did not exclude (of
	// RowGroupsTotal in those objects).
	Objects        int     `json:"objects"`
	RowGroups      int     `json:"row_groups"`
	RowGroupsTotal int     `json:"row_groups_total"`
	Bytes          int64   `json:"bytes"`        // modelled DataScannedInBytes
	BilledBytes    int64   `json:"billed_bytes"` // at least the minimum, whole MB
	USD            float64 `json:"usd"`
}

// ScanBytes models the bytes Athena scans for q over t's objects:
// partition pruning from the layout's dirs; JSON objects whole (their
// stored, compressed size for .gz); Parquet the footer (with its length and
// magic) plus, in every row group whose min/max statistics do not exclude
// the predicate, the column chunks of the referenced data columns.
// Partition keys are read from keys, never from the objects.
func ScanBytes(t Table, q Query, objects []Object, prices Prices) (Scan, error) {
	s := Scan{Query: q.Name}
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
	for _, o := range objects {
		if !q.Pred.keepPartition(t.Layout, o.Key) {
			continue
		}
		s.Objects++
		if !t.Parquet() {
			s.Bytes += o.Size
			continue
		}
		md, footer, err := ReadFooter(o.ReadAt, o.Size)
		if err != nil {
			return s, fmt.Errorf("scan %s: %s: %w", q.Name, o.Key, err)
		}
		s.Bytes += footer
		s.RowGroupsTotal += len(md.RowGroups)
		for _, rg := range md.RowGroups {
			if q.Pred.excludes(rg, partition["symbol"]) {
				continue
			}
			s.RowGroups++
			for _, c := range cols {
				cc, ok := chunk(rg, c)
				if !ok {
					return s, fmt.Errorf("scan %s: %s: no column %q", q.Name, o.Key, c)
				}
				s.Bytes += cc.TotalCompressedSize
			}
		}
	}
	s.BilledBytes, s.USD = prices.AthenaBill(s.Bytes)
	return s, nil
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

// excludes reports whether a row group's min/max statistics rule out
// every row of p: ts outside [From, To), or the symbol outside min..max
// (unless symbol is a partition key, not a file column).
func (p Predicate) excludes(rg format.RowGroup, symbolIsPartition bool) bool {
	if cc, ok := chunk(rg, "ts"); ok {
		st := cc.Statistics
		lo, hi := statBytes(st.MinValue, st.Min), statBytes(st.MaxValue, st.Max)
		if len(lo) == 8 && len(hi) == 8 {
			min, max := int64(binary.LittleEndian.Uint64(lo)), int64(binary.LittleEndian.Uint64(hi)) // micros
			if max < p.From.UnixMicro() || min >= p.To.UnixMicro() {
				return true
			}
		}
	}
	if p.Symbol != "" && !symbolIsPartition {
		if cc, ok := chunk(rg, "symbol"); ok {
			st := cc.Statistics
			lo, hi := statBytes(st.MinValue, st.Min), statBytes(st.MaxValue, st.Max)
			if lo != nil && hi != nil && (bytes.Compare([]byte(p.Symbol), lo) < 0 || bytes.Compare([]byte(p.Symbol), hi) > 0) {
				return true
			}
		}
	}
	return false
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
