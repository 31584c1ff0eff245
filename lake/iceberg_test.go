package lake

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/tickbench/tickbench/lake/laketest"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

// icebergOf describes objects landed with layout l as an Iceberg table
// whose commits each added perCommit of them (a manifest each), as
// sink/iceberg writes it: partitions from the bounds, bounds and split
// offsets from the footer.
func icebergOf(t *testing.T, l sink.Layout, objects []Object, bodies [][]byte, perCommit int) IcebergTable {
	t.Helper()
	spec, err := specOf(l)
	if err != nil {
		t.Fatal(err)
	}
	tb := IcebergTable{Layout: l, Metadata: MetadataObject{Key: "m/v9.metadata.json", Size: 5000}, ManifestList: MetadataObject{Key: "m/snap.avro", Size: 3000}}
	for i, o := range objects {
		st, err := sink.ReadFileStats(bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		f := IcebergFile{Object: o, Lower: map[string][]byte{}, Upper: map[string][]byte{}, SplitOffsets: st.RowGroupOffsets}
		for _, c := range st.Columns {
			f.Lower[c.Name], f.Upper[c.Name] = c.Min, c.Max
		}
		if spec.ts > 0 {
			f.Partition.TS = floorDiv(i64(f.Lower["ts"]), spec.ts)
		}
		if spec.symbol {
			f.Partition.Symbol = string(f.Lower["symbol"])
		}
		if i%perCommit == 0 {
			tb.Manifests = append(tb.Manifests, IcebergManifest{MetadataObject: MetadataObject{Key: "m/" + o.Key + ".avro", Size: 7000},
				Lower: f.Partition, Upper: f.Partition, Bounded: spec.ts > 0})
		}
		m := &tb.Manifests[len(tb.Manifests)-1]
		m.Lower.TS, m.Upper.TS = min(m.Lower.TS, f.Partition.TS), max(m.Upper.TS, f.Partition.TS)
		m.Lower.Symbol, m.Upper.Symbol = min(m.Lower.Symbol, f.Partition.Symbol), max(m.Upper.Symbol, f.Partition.Symbol)
		tb.Files = append(tb.Files, f)
	}
	return tb
}

func landIceberg(t *testing.T, format sink.Format, l sink.Layout, ticks []tick.Tick, b laketest.Batching) ([]Object, [][]byte) {
	t.Helper()
	var objects []Object
	var bodies [][]byte
	laketest.LandFunc(t, format, l, ticks, b, func(o laketest.Object, body []byte) {
		objects = append(objects, Object{Key: o.Key, Size: int64(len(body)), ReadAt: bytesReaderAt(body)})
		bodies = append(bodies, body)
	})
	return objects, bodies
}

// An unpartitioned Iceberg table of single-row-group files enforces
// nothing, so its files are read as the Hive connector reads the same
// objects; hidden partitions then cut what the queries read: whole hours
// of hour(ts) are counted from the manifests, and a predicate the
// partitions decide is not read from the files.
func TestIcebergScanBytes(t *testing.T) {
	// 60,000 ticks over 3 hours across midnight, 12 symbols, 6 Kafka
	// partitions, 2,000-record flushes: small files, one row group each.
	ticks := laketest.Ticks(t, 60_000, 12, scanStart.UnixNano(), 3*int64(time.Hour)/60_000)
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	queries := StandardQueries(hour, ticks[0].Symbol)
	format := laketest.Format(t, "parquet-zstd")
	b := laketest.Batching{Partitions: 6, Records: 2000}
	byName := func(t *testing.T, tb IcebergTable) map[string]Scan {
		t.Helper()
		out := map[string]Scan{}
		for _, q := range queries {
			s, err := IcebergScanBytes(tb, q, TrinoDefaults, USEast1)
			if err != nil {
				t.Fatal(err)
			}
			out[q.Name] = s
		}
		return out
	}
	chunks := func(tb IcebergTable, keep func(IcebergFile) bool, cols ...string) (n int64, files int) {
		for _, f := range tb.Files {
			if !keep(f) {
				continue
			}
			files++
			st, _ := sink.ReadFileStats(f.ReadAt.(bytesReaderAt))
			for _, c := range st.Columns {
				if slices.Contains(cols, c.Name) {
					n += c.Bytes
				}
			}
		}
		return n, files
	}
	inHour := func(f IcebergFile) bool { return f.Partition.TS == hour.UnixMicro()/time.Hour.Microseconds() }

	t.Run("none", func(t *testing.T) {
		objects, bodies := landIceberg(t, format, sink.LayoutNone, ticks, b)
		got := byName(t, icebergOf(t, sink.LayoutNone, objects, bodies, 5))
		hive := Table{Database: "d", Name: "t", Format: "parquet-zstd", Layout: sink.LayoutNone, Bucket: "b"}
		for _, q := range queries {
			want, err := ScanBytes(hive, q, objects, TrinoDefaults, USEast1)
			if err != nil {
				t.Fatal(err)
			}
			if g := got[q.Name]; g.Bytes != want.Bytes || g.ObjectsRead != want.ObjectsRead || g.Objects > want.Objects {
				t.Errorf("%s: %d bytes, %d of %d objects read; Hive: %d bytes, %d of %d", q.Name, g.Bytes, g.ObjectsRead, g.Objects, want.Bytes, want.ObjectsRead, want.Objects)
			}
			// Unpartitioned: every manifest is read.
			if g := got[q.Name]; g.MetadataGets != 3+(len(objects)+4)/5 {
				t.Errorf("%s: %d metadata GETs, want 3 + every manifest", q.Name, g.MetadataGets)
			}
		}
	})
	t.Run("dt-hour", func(t *testing.T) {
		objects, bodies := landIceberg(t, format, sink.LayoutHourly, ticks, b)
		tb := icebergOf(t, sink.LayoutHourly, objects, bodies, 1)
		got := byName(t, tb)
		_, n := chunks(tb, inHour)
		if c := got["count-hour"]; c.Bytes != 0 || c.Objects != n || c.ObjectsRead != 0 || c.MetadataGets != 3+n {
			t.Errorf("count-hour: %d bytes, %d objects (%d read), %d metadata GETs; want 0 bytes of %d objects, 3 + %d manifests", c.Bytes, c.Objects, c.ObjectsRead, c.MetadataGets, n, n)
		}
		// The day is enforced: ts is not read, and the small files are
		// read whole.
		day := func(f IcebergFile) bool { return f.Partition.TS/24 == hour.Unix()/86400 }
		wantChunks, n := chunks(tb, day, "symbol", "price", "size")
		var wantBytes int64
		for _, f := range tb.Files {
			if day(f) {
				wantBytes += f.Size
			}
		}
		if v := got["vwap-day"]; v.ChunkBytes != wantChunks || v.Bytes != wantBytes || v.ObjectsRead != n {
			t.Errorf("vwap-day: %d chunk bytes, %d bytes, %d objects read; want %d, %d, %d", v.ChunkBytes, v.Bytes, v.ObjectsRead, wantChunks, wantBytes, n)
		}
	})
	t.Run("dt-symbol", func(t *testing.T) {
		objects, bodies := landIceberg(t, format, sink.LayoutSymbol, ticks, b)
		tb := icebergOf(t, sink.LayoutSymbol, objects, bodies, 3)
		got := byName(t, tb)
		sym := ticks[0].Symbol
		// The hour is not whole days: ts is read, and files of the day
		// and symbol outside the hour are pruned by their bounds.
		inSymHour := func(f IcebergFile) bool {
			lo, hi, _ := tsBounds(f)
			return f.Partition.Symbol == sym && hi >= hour.UnixMicro() && lo < hour.Add(time.Hour).UnixMicro()
		}
		wantChunks, n := chunks(tb, inSymHour, "seq", "ts", "price", "size")
		if l := got["last-trade"]; l.ChunkBytes != wantChunks || l.Objects != n || n == 0 {
			t.Errorf("last-trade: %d chunk bytes in %d objects; want %d in %d (seq, ts, price, size: symbol is the partition's)", l.ChunkBytes, l.Objects, wantChunks, n)
		}
		day, ofDay := hour.Unix()/86400, 0
		for _, m := range tb.Manifests {
			if m.Lower.TS <= day && day <= m.Upper.TS {
				ofDay++
			}
		}
		if c := got["count-hour"]; c.Bytes == 0 || c.MetadataGets != 3+ofDay || ofDay == len(tb.Manifests) {
			t.Errorf("count-hour: %d bytes, %d metadata GETs; want the ts chunks read, 3 + the manifests of the day (%d of %d)", c.Bytes, c.MetadataGets, ofDay, len(tb.Manifests))
		}
	})
}

// Within a large file of many row groups, the Iceberg connector reads a
// split per row group and cannot prune them by ts (a timestamptz), where
// the Hive connector reads one split and prunes by ts statistics.
func TestIcebergScanLargeFile(t *testing.T) {
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	ticks := laketest.Ticks(t, 400_000, 5, hour.Add(-30*time.Minute).UnixNano(), 2*int64(time.Hour)/400_000)
	pq, err := sink.NewParquet("zstd", 20_000)
	if err != nil {
		t.Fatal(err)
	}
	objects, bodies := landIceberg(t, pq, sink.LayoutNone, ticks, laketest.Batching{})
	if len(objects) != 1 || objects[0].Size <= TrinoDefaults.SmallFile {
		t.Fatalf("%d objects of %d bytes: want one over the small-file threshold", len(objects), objects[0].Size)
	}
	q := StandardQueries(hour, ticks[0].Symbol)[0] // count-hour: ts only
	ice, err := IcebergScanBytes(icebergOf(t, sink.LayoutNone, objects, bodies, 1), q, TrinoDefaults, USEast1)
	if err != nil {
		t.Fatal(err)
	}
	hive, err := ScanBytes(Table{Database: "d", Name: "t", Format: "parquet-zstd", Layout: sink.LayoutNone, Bucket: "b"}, q, objects, TrinoDefaults, USEast1)
	if err != nil {
		t.Fatal(err)
	}
	if ice.RowGroupsTotal != 20 || ice.RowGroups != 20 || ice.Bytes < 20*TrinoDefaults.FooterRead {
		t.Errorf("Iceberg: %d of %d row groups kept, %d bytes; want all 20, each split reading the footer", ice.RowGroups, ice.RowGroupsTotal, ice.Bytes)
	}
	// (The Hive connector's one split may still read more: it merges the
	// kept row groups' ts chunks with the gaps between them.)
	if hive.RowGroups >= 20 {
		t.Errorf("Hive: %d row groups kept; want the hour's only", hive.RowGroups)
	}
}

func TestIcebergSplits(t *testing.T) {
	f := IcebergFile{Object: Object{Size: 1000}, SplitOffsets: []int64{4, 300, 700}}
	if got := icebergSplits(f, 128); !slices.Equal(got, []span{{4, 296}, {300, 400}, {700, 300}}) {
		t.Errorf("with offsets: %v", got)
	}
	for _, offs := range [][]int64{nil, {4, 4}, {4, 1000}} {
		f.SplitOffsets = offs
		if got := icebergSplits(f, 400); !slices.Equal(got, []span{{0, 400}, {400, 400}, {800, 200}}) {
			t.Errorf("offsets %v (unusable): %v", offs, got)
		}
	}
}

func TestIcebergSQL(t *testing.T) {
	qs := StandardQueries(time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), "AB'C")
	if got, want := qs[0].IcebergSQL("iceberg.n.t"), "SELECT count(*) AS n FROM iceberg.n.t WHERE ts >= TIMESTAMP '2026-11-25 23:00:00.000000 UTC' AND ts < TIMESTAMP '2026-11-26 00:00:00.000000 UTC'"; got != want {
		t.Errorf("count-hour: %s\nwant %s", got, want)
	}
	if got, want := qs[3].IcebergSQL("t"), "SELECT date_trunc('minute', ts) AS minute, min_by(price, seq) AS open, max(price) AS high, min(price) AS low, "+
		"max_by(price, seq) AS close, sum(size) AS volume FROM t WHERE ts >= TIMESTAMP '2026-11-25 00:00:00.000000 UTC' AND ts < TIMESTAMP '2026-11-26 00:00:00.000000 UTC' AND symbol = 'AB''C' GROUP BY 1 ORDER BY 1"; got != want {
		t.Errorf("ohlc-minute: %s\nwant %s", got, want)
	}
}

// The enforcement rule: a ts range is the partitions' when both its ends
// are the first microsecond of one.
func TestIcebergEnforces(t *testing.T) {
	h := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		l          sink.Layout
		from, to   time.Time
		sym        string
		ts, symbol bool
		projected  []string
	}{
		{sink.LayoutHourly, h, h.Add(time.Hour), "", true, false, nil},
		{sink.LayoutHourly, h, h.Add(90 * time.Minute), "", false, false, []string{"ts"}},
		{sink.LayoutSymbol, h, h.Add(time.Hour), "X", false, true, []string{"ts"}},
		{sink.LayoutSymbol, h.Add(-23 * time.Hour), h.Add(time.Hour), "X", true, true, nil},
		{sink.LayoutNone, h, h.Add(time.Hour), "X", false, false, []string{"ts", "symbol"}},
	} {
		spec, _ := specOf(c.l)
		iq := newIcebergQuery(spec, Query{Pred: Predicate{From: c.from, To: c.to, Symbol: c.sym}})
		if iq.tsEnforced != c.ts || iq.symEnf != c.symbol || !slices.Equal(iq.projected, c.projected) {
			t.Errorf("%s %v..%v %q: ts enforced %v, symbol %v, projected %v; want %v, %v, %v", c.l, c.from, c.to, c.sym, iq.tsEnforced, iq.symEnf, iq.projected, c.ts, c.symbol, c.projected)
		}
	}
	// A file inside the range needs no ts check.
	spec, _ := specOf(sink.LayoutNone)
	iq := newIcebergQuery(spec, Query{Pred: Predicate{From: h, To: h.Add(time.Hour)}})
	le := func(us int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(us)) }
	in := IcebergFile{Lower: map[string][]byte{"ts": le(h.UnixMicro())}, Upper: map[string][]byte{"ts": le(h.Add(time.Hour).UnixMicro() - 1)}}
	if p := iq.filePredicate(in); !p.all() {
		t.Errorf("a file within the hour: predicate %+v, want none", p)
	}
	in.Upper["ts"] = le(h.Add(time.Hour).UnixMicro())
	if p := iq.filePredicate(in); !p.ts {
		t.Errorf("a file reaching past the hour: predicate %+v, want ts", p)
	}
}
