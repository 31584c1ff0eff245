package lake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickbench/tickbench/internal/pqguard"
)

// This file models how Trino's Parquet reader (trino-parquet 476:
// ParquetPageSourceFactory, PredicateUtils, TrinoColumnIndexStore,
// ParquetReader, AbstractParquetDataSource) reads one split of an object:
//
//  1. the last FooterRead bytes (the footer again if longer);
//  2. per row group starting in the split: min/max statistics of the
//     predicate's columns exclude it or not; a column whose statistics the
//     predicate does not cover whole is a candidate, and for candidates the
//     page indexes (column indexes of the predicate's columns, one merged
//     read) and then the dictionary page of a dictionary-only column (the
//     symbol) may exclude it;
//  3. the reader then reads, for every row group kept, the page indexes it
//     has not read yet (offset indexes of the columns read, column indexes
//     of the predicate's), and the referenced columns' chunks — only the
//     pages whose rows the page indexes keep, when they do not keep all —
//     in one planned read that merges nearby ranges.
//
// An object up to SmallFile is read whole into memory instead, and the
// steps above cost nothing more. A split that keeps no row group reports
// no bytes at all (its page source produces no page, and Trino counts
// physical input only with pages), whatever it read.

// pqPredicate is a query's predicate on the Parquet columns: ts in
// [from, to) microseconds (when ts) and symbol = sym (when not nil). The
// zero value is no predicate at all (an Iceberg file whose partition and
// bounds enforce the query's).
type pqPredicate struct {
	ts       bool
	from, to int64
	// tsOpaque: the engine cannot compare ts's statistics with the range
	// (Trino reading a timestamptz column), so they exclude nothing and ts
	// stays a candidate of every row group.
	tsOpaque bool
	sym      []byte // nil: no symbol predicate
}

// overlaps and covers compare the predicate on column col with a [lo, hi]
// range of its values (statistics of a row group or a page): whether some
// value may match, and whether every value matches.
func (p pqPredicate) overlaps(col string, lo, hi []byte) bool {
	switch col {
	case "ts":
		return i64(hi) >= p.from && i64(lo) < p.to
	case "symbol":
		return bytes.Compare(lo, p.sym) <= 0 && bytes.Compare(p.sym, hi) <= 0
	}
	return true
}

func (p pqPredicate) covers(col string, lo, hi []byte) bool {
	switch col {
	case "ts":
		return i64(lo) >= p.from && i64(hi) < p.to
	case "symbol":
		return bytes.Equal(lo, p.sym) && bytes.Equal(hi, p.sym)
	}
	return true
}

func i64(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }

// on reports whether the predicate restricts column col.
func (p pqPredicate) on(col string) bool {
	return (col == "ts" && p.ts) || (col == "symbol" && p.sym != nil)
}

// comparable reports whether the engine compares col's statistics with
// the predicate.
func (p pqPredicate) comparable(col string) bool { return col != "ts" || !p.tsOpaque }

// all reports whether the predicate restricts nothing.
func (p pqPredicate) all() bool { return !p.ts && p.sym == nil }

// pqObject is one Parquet object as the model reads it: the footer, and
// the page indexes and dictionaries, read from the object when the engine
// would use them.
type pqObject struct {
	r      io.ReaderAt
	size   int64
	footer int64 // footer bytes with length and magic
	md     *format.FileMetaData
}

// pqSplit is what the model found for one split.
type pqSplit struct {
	groups, kept int   // row groups starting in the split, and kept
	bytes        int64 // physical input (0 when none kept)
	chunkBytes   int64 // the referenced column chunks of the kept row groups
}

// scanSplit models the reads of the split sp of o for a query reading
// cols (file columns, the predicate's included) under predicate p.
func (e Engine) scanSplit(o *pqObject, sp span, cols []string, p pqPredicate) (pqSplit, error) {
	var res pqSplit
	reads := min(o.size, e.FooterRead)
	if o.footer > e.FooterRead {
		reads += o.footer
	}
	var kept []*pqGroup
	for i := range o.md.RowGroups {
		g := &pqGroup{o: o, rg: &o.md.RowGroups[i], cols: cols, p: p, e: e}
		start, err := g.start()
		if err != nil {
			return res, err
		}
		if start < sp.off || start >= sp.end() {
			continue
		}
		res.groups++
		ok, err := g.matches()
		reads += g.reads
		if err != nil {
			return res, err
		}
		if ok {
			kept = append(kept, g)
		}
	}
	res.kept = len(kept)
	if len(kept) == 0 {
		return res, nil
	}
	var ranges []span
	for _, g := range kept {
		before := g.reads
		rs, err := g.chunkRanges()
		if err != nil {
			return res, err
		}
		reads += g.reads - before
		ranges = append(ranges, rs...)
		for _, c := range cols {
			cc, _ := chunk(*g.rg, c)
			res.chunkBytes += cc.TotalCompressedSize
		}
	}
	reads += e.readSize(ranges)
	res.bytes = reads
	if o.size <= e.SmallFile {
		res.bytes = o.size
	}
	return res, nil
}

// pqGroup is one row group under one query, with the page indexes and
// dictionary the engine has read for it so far.
type pqGroup struct {
	o     *pqObject
	rg    *format.RowGroup
	cols  []string
	p     pqPredicate
	e     Engine
	reads int64 // bytes the engine read for it (indexes, dictionaries)

	colIndex map[string]*format.ColumnIndex // nil until read
	offIndex map[string]*format.OffsetIndex
}

// start is the row group's first byte: its first column's dictionary page,
// or its first data page (parquet-mr's getStartingPos).
func (g *pqGroup) start() (int64, error) {
	if len(g.rg.Columns) == 0 {
		return 0, fmt.Errorf("row group without columns")
	}
	return startingPos(&g.rg.Columns[0].MetaData), nil
}

func startingPos(m *format.ColumnMetaData) int64 {
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < m.DataPageOffset {
		return m.DictionaryPageOffset
	}
	return m.DataPageOffset
}

// hasIndexes: the engine makes a page-index store for the row group when
// the predicate is not trivial and some column has both indexes.
func (g *pqGroup) hasIndexes() bool {
	if !g.e.ColumnIndex || g.p.all() {
		return false
	}
	for _, c := range g.rg.Columns {
		if c.ColumnIndexOffset > 0 && c.OffsetIndexOffset > 0 {
			return true
		}
	}
	return false
}

// matches is PredicateUtils.predicateMatches for the row group.
func (g *pqGroup) matches() (bool, error) {
	if g.rg.NumRows == 0 {
		return false, nil
	}
	var candidates []string
	for _, c := range g.rg.Columns {
		name := c.MetaData.PathInSchema[0]
		if !g.p.on(name) || !slices.Contains(g.cols, name) {
			continue
		}
		st := c.MetaData.Statistics
		lo, hi := statBytes(st.MinValue, st.Min), statBytes(st.MaxValue, st.Max)
		if !validStat(name, lo, hi) || !g.p.comparable(name) {
			candidates = append(candidates, name)
			continue
		}
		if !g.p.overlaps(name, lo, hi) {
			return false, nil
		}
		if !g.p.covers(name, lo, hi) {
			candidates = append(candidates, name)
		}
	}
	if len(candidates) == 0 {
		return true, nil
	}
	if g.hasIndexes() {
		if err := g.loadColumnIndexes(); err != nil {
			return false, err
		}
		for _, c := range candidates {
			ci := g.colIndex[c]
			if ci == nil {
				continue
			}
			if !slices.ContainsFunc(pageRanges(ci), func(r [2][]byte) bool { return g.p.overlaps(c, r[0], r[1]) }) {
				return false, nil
			}
		}
	}
	for _, c := range candidates {
		cc, _ := chunk(*g.rg, c)
		if c != "symbol" || !dictionaryOnly(&cc) {
			continue
		}
		dict, n, err := readDictionary(g.o.r, &cc)
		g.reads += n
		if err != nil {
			return false, fmt.Errorf("row group at %d, column %s: %w", startingPos(&cc), c, err)
		}
		if !slices.ContainsFunc(dict, func(v []byte) bool { return bytes.Equal(v, g.p.sym) }) {
			return false, nil
		}
	}
	return true, nil
}

func validStat(col string, lo, hi []byte) bool {
	if col == "ts" {
		return len(lo) == 8 && len(hi) == 8
	}
	return lo != nil && hi != nil
}

// pageRanges are the [min, max] of a column index's pages with values.
func pageRanges(ci *format.ColumnIndex) [][2][]byte {
	var out [][2][]byte
	for i := range ci.MinValues {
		if i < len(ci.NullPages) && ci.NullPages[i] {
			continue
		}
		out = append(out, [2][]byte{ci.MinValues[i], ci.MaxValues[i]})
	}
	return out
}

// dictionaryOnly is Trino's isOnlyDictionaryEncodingPages: encoding stats
// with a dictionary page and only dictionary-encoded data pages, or (old
// writers) PLAIN_DICTIONARY with no other value encoding.
func dictionaryOnly(m *format.ColumnMetaData) bool {
	if m.EncodingStats != nil {
		var dict, other bool
		for _, s := range m.EncodingStats {
			switch {
			case s.PageType == format.DictionaryPage:
				dict = true
			case s.PageType == format.DataPage || s.PageType == format.DataPageV2:
				if s.Encoding != format.PlainDictionary && s.Encoding != format.RLEDictionary && s.Count > 0 {
					other = true
				}
			}
		}
		return dict && !other
	}
	if !slices.Contains(m.Encoding, format.PlainDictionary) {
		return false
	}
	for _, enc := range m.Encoding {
		if enc != format.PlainDictionary && enc != format.RLE && enc != format.BitPacked {
			return false
		}
	}
	return true
}

// loadColumnIndexes reads the column indexes of the predicate's columns,
// as one planned read, once.
func (g *pqGroup) loadColumnIndexes() error {
	if g.colIndex != nil {
		return nil
	}
	g.colIndex = map[string]*format.ColumnIndex{}
	return g.loadIndexes(func(name string) bool { return g.p.on(name) }, true)
}

// loadOffsetIndexes reads the offset indexes of the columns read, once.
func (g *pqGroup) loadOffsetIndexes() error {
	if g.offIndex != nil {
		return nil
	}
	g.offIndex = map[string]*format.OffsetIndex{}
	return g.loadIndexes(func(name string) bool { return slices.Contains(g.cols, name) }, false)
}

func (g *pqGroup) loadIndexes(want func(string) bool, column bool) error {
	var ranges []span
	for _, c := range g.rg.Columns {
		name := c.MetaData.PathInSchema[0]
		off, n := c.OffsetIndexOffset, int64(c.OffsetIndexLength)
		if column {
			off, n = c.ColumnIndexOffset, int64(c.ColumnIndexLength)
		}
		if off <= 0 || n <= 0 || !want(name) {
			continue
		}
		if off+n > g.o.size || n > 64<<20 {
			return fmt.Errorf("column %s: page index [%d, +%d) outside the object's %d bytes", name, off, n, g.o.size)
		}
		buf := make([]byte, n)
		if _, err := g.o.r.ReadAt(buf, off); err != nil && err != io.EOF {
			return fmt.Errorf("read page index of column %s: %w", name, err)
		}
		if _, err := pqguard.Struct(buf); err != nil {
			return fmt.Errorf("page index of column %s: %w", name, err)
		}
		var err error
		if column {
			ci := &format.ColumnIndex{}
			err = thrift.Unmarshal(&thrift.CompactProtocol{}, buf, ci)
			g.colIndex[name] = ci
		} else {
			oi := &format.OffsetIndex{}
			err = thrift.Unmarshal(&thrift.CompactProtocol{}, buf, oi)
			g.offIndex[name] = oi
		}
		if err != nil {
			return fmt.Errorf("decode page index of column %s: %w", name, err)
		}
		ranges = append(ranges, span{off, n})
	}
	g.reads += g.e.readSize(ranges)
	return nil
}

// chunkRanges are the ranges the reader plans for the row group: whole
// column chunks, or, when the page indexes keep only some rows, the
// dictionary page and the pages holding those rows.
func (g *pqGroup) chunkRanges() ([]span, error) {
	rows, err := g.rowRanges()
	if err != nil {
		return nil, err
	}
	var out []span
	for _, c := range g.cols {
		cc, ok := chunk(*g.rg, c)
		if !ok {
			return nil, fmt.Errorf("no column %q", c)
		}
		start := startingPos(&cc)
		oi := g.offIndex[c]
		if rows == nil || oi == nil || len(oi.PageLocations) == 0 {
			out = append(out, span{start, cc.TotalCompressedSize})
			continue
		}
		// FilteredOffsetIndex.calculateOffsetRanges
		locs := oi.PageLocations
		if first := locs[0].Offset; start < first {
			out = append(out, span{start, first - start})
		}
		var cur *span
		for i, l := range locs {
			last := g.rg.NumRows - 1
			if i+1 < len(locs) {
				last = locs[i+1].FirstRowIndex - 1
			}
			if !overlapsRows(rows, l.FirstRowIndex, last) {
				continue
			}
			if cur != nil && cur.end() == l.Offset {
				cur.n += int64(l.CompressedPageSize)
				continue
			}
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &span{l.Offset, int64(l.CompressedPageSize)}
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	return out, nil
}

// rowRanges are the rows (inclusive pairs) the page indexes keep, or nil
// for all (ColumnIndexFilter.calculateRowRanges over the predicate's
// columns that are read, intersected).
func (g *pqGroup) rowRanges() ([][2]int64, error) {
	if !g.hasIndexes() {
		return nil, nil
	}
	all := [][2]int64{{0, g.rg.NumRows - 1}}
	rows := all
	for _, c := range g.rg.Columns {
		name := c.MetaData.PathInSchema[0]
		if !g.p.on(name) || !slices.Contains(g.cols, name) {
			continue
		}
		if err := g.loadOffsetIndexes(); err != nil {
			return nil, err
		}
		if err := g.loadColumnIndexes(); err != nil {
			return nil, err
		}
		ci, oi := g.colIndex[name], g.offIndex[name]
		if ci == nil || oi == nil {
			continue
		}
		var col [][2]int64
		for i, l := range oi.PageLocations {
			if i >= len(ci.MinValues) || (i < len(ci.NullPages) && ci.NullPages[i]) || !g.p.overlaps(name, ci.MinValues[i], ci.MaxValues[i]) {
				continue
			}
			last := g.rg.NumRows - 1
			if i+1 < len(oi.PageLocations) {
				last = oi.PageLocations[i+1].FirstRowIndex - 1
			}
			col = append(col, [2]int64{l.FirstRowIndex, last})
		}
		rows = intersectRows(rows, col)
	}
	var n int64
	for _, r := range rows {
		n += r[1] - r[0] + 1
	}
	if n >= g.rg.NumRows {
		return nil, nil
	}
	return rows, nil
}

// intersectRows intersects two sorted lists of inclusive row ranges.
func intersectRows(a, b [][2]int64) [][2]int64 {
	var out [][2]int64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
		if lo <= hi {
			out = append(out, [2]int64{lo, hi})
		}
		if a[i][1] < b[j][1] {
			i++
		} else {
			j++
		}
	}
	return out
}

func overlapsRows(rows [][2]int64, from, to int64) bool {
	return slices.ContainsFunc(rows, func(r [2]int64) bool { return r[0] <= to && from <= r[1] })
}

// readDictionary reads a column chunk's dictionary page as the engine does
// (from the chunk's start up to its first data page, one read) and decodes
// its PLAIN byte-array values. It returns the values and the bytes read.
func readDictionary(r io.ReaderAt, m *format.ColumnMetaData) ([][]byte, int64, error) {
	if m.DictionaryPageOffset <= 0 || m.DataPageOffset <= m.DictionaryPageOffset {
		return nil, 0, fmt.Errorf("no dictionary page before the data pages")
	}
	n := m.DataPageOffset - m.DictionaryPageOffset
	if n > 64<<20 {
		return nil, 0, fmt.Errorf("dictionary page of %d bytes: over 64 MiB", n)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, startingPos(m)); err != nil && err != io.EOF {
		return nil, n, fmt.Errorf("read dictionary page: %w", err)
	}
	used, err := pqguard.Struct(buf)
	if err != nil {
		return nil, n, fmt.Errorf("dictionary page header: %w", err)
	}
	var h format.PageHeader
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, buf[:used], &h); err != nil {
		return nil, n, fmt.Errorf("decode dictionary page header: %w", err)
	}
	dh, ok := h.DictionaryPageHeader.Get()
	if h.Type != format.DictionaryPage || !ok {
		return nil, n, fmt.Errorf("page at %d is a %v page, not a dictionary", startingPos(m), h.Type)
	}
	body := buf[used:]
	if int(h.CompressedPageSize) > len(body) || h.CompressedPageSize < 0 || h.UncompressedPageSize < 0 || h.UncompressedPageSize > 64<<20 {
		return nil, n, fmt.Errorf("dictionary page of %d bytes (%d uncompressed) in %d", h.CompressedPageSize, h.UncompressedPageSize, len(body))
	}
	body = body[:h.CompressedPageSize]
	if m.Codec != format.Uncompressed {
		codec := parquet.LookupCompressionCodec(m.Codec)
		if codec == nil {
			return nil, n, fmt.Errorf("dictionary page: codec %v not supported", m.Codec)
		}
		if body, err = codec.Decode(make([]byte, 0, h.UncompressedPageSize), body); err != nil {
			return nil, n, fmt.Errorf("decompress dictionary page: %w", err)
		}
	}
	values := make([][]byte, 0, max(0, min(int(dh.NumValues), len(body)/4)))
	for i := int32(0); i < dh.NumValues; i++ {
		if len(body) < 4 || int(binary.LittleEndian.Uint32(body)) > len(body)-4 {
			return nil, n, fmt.Errorf("dictionary page: value %d of %d runs past the page", i, dh.NumValues)
		}
		l := binary.LittleEndian.Uint32(body)
		values = append(values, body[4:4+l])
		body = body[4+l:]
	}
	return values, n, nil
}
