package lake

import (
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tickbench/tickbench/lake/laketest"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

var scanStart = time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC)

// expectedScan computes, independently of ScanBytes, what the model must
// answer for objects under the engine's small-file threshold: objects are
// kept when the partition of their ticks overlaps the predicate; a Parquet
// row group when some tick in it lies in the time range (min/max and page
// indexes of ts ordered by time) and the symbol is among its ticks' (its
// dictionary); a Parquet object with a row group kept is read whole, one
// without none of it; JSON objects whole. Chunk bytes come from
// parquet-go's own reading of each file.
func expectedScan(t *testing.T, tb Table, q Query, ticks []tick.Tick, objs []laketest.Object, rowGroupRows int) (objects, groups int, bytes, chunks int64) {
	t.Helper()
	for _, o := range objs {
		first := ticks[o.Ticks[0]].Time()
		var pFrom, pTo time.Time
		switch tb.Layout {
		case sink.LayoutHourly:
			pFrom = first.Truncate(time.Hour)
			pTo = pFrom.Add(time.Hour)
		case sink.LayoutSymbol:
			pFrom = first.Truncate(24 * time.Hour)
			pTo = pFrom.Add(24 * time.Hour)
		default:
			pFrom, pTo = time.Unix(0, 0), time.Unix(1<<40, 0)
		}
		if !pFrom.Before(q.Pred.To) || !pTo.After(q.Pred.From) {
			continue
		}
		if tb.Layout == sink.LayoutSymbol && q.Pred.Symbol != "" && ticks[o.Ticks[0]].Symbol != q.Pred.Symbol {
			continue
		}
		objects++
		fi, err := os.Stat(o.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > TrinoDefaults.SmallFile {
			t.Fatalf("%s: %d bytes, over the small-file threshold this expectation assumes", o.Key, fi.Size())
		}
		if !tb.Parquet() {
			bytes += fi.Size()
			chunks += fi.Size()
			continue
		}
		f, err := os.Open(o.Path)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		rgs := pf.Metadata().RowGroups
		if want := (len(o.Ticks) + rowGroupRows - 1) / rowGroupRows; len(rgs) != want {
			t.Fatalf("%s: %d row groups, the test wrote %d", o.Key, len(rgs), want)
		}
		read := false
		for g, rg := range rgs {
			idx := o.Ticks[g*rowGroupRows : min((g+1)*rowGroupRows, len(o.Ticks))]
			inTime, hasSymbol := false, false
			for _, i := range idx {
				tt := time.UnixMicro(ticks[i].Intended / 1000)
				inTime = inTime || (!tt.Before(q.Pred.From) && tt.Before(q.Pred.To))
				hasSymbol = hasSymbol || ticks[i].Symbol == q.Pred.Symbol
			}
			if !inTime || (q.Pred.Symbol != "" && tb.Layout != sink.LayoutSymbol && !hasSymbol) {
				continue
			}
			groups++
			read = true
			for _, c := range rg.Columns {
				name := c.MetaData.PathInSchema[0]
				if slices.Contains(q.Columns, name) && !(name == "symbol" && tb.Layout == sink.LayoutSymbol) {
					chunks += c.MetaData.TotalCompressedSize
				}
			}
		}
		if read {
			bytes += fi.Size()
		}
		f.Close()
	}
	return objects, groups, bytes, chunks
}

func TestScanBytesModel(t *testing.T) {
	// 2000 ticks 5.4 s apart: 3 hours over two days, 7 symbols.
	ticks := laketest.Ticks(t, 2000, 7, scanStart.UnixNano(), 5400*int64(time.Millisecond))
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	sym := ticks[3].Symbol
	queries := append(StandardQueries(hour, sym),
		// A symbol no row group holds: nothing is read (where symbol is
		// a partition, no object is even kept).
		Query{Name: "absent-symbol", Columns: []string{"symbol", "price"}, Pred: Predicate{From: hour, To: hour.Add(time.Hour), Symbol: "ZZZZ"}},
		// A range before the data: row groups all excluded by ts.
		Query{Name: "before", Columns: []string{"ts", "price"}, Pred: Predicate{From: scanStart.Add(-2 * time.Hour), To: scanStart.Add(-time.Hour)}})
	const rowGroupRows = 1000
	pq, err := sink.NewParquet("snappy", rowGroupRows)
	if err != nil {
		t.Fatal(err)
	}
	formats := map[string]sink.Format{"parquet": pq, "jsonl.gz": laketest.Format(t, "jsonl.gz"), "json": laketest.Format(t, "json"), "jsonl": laketest.Format(t, "jsonl")}
	for name, f := range formats {
		for _, layout := range sink.Layouts {
			per := 1200
			if name == "json" {
				per = 1 // one object per tick, as json-per-tick lands
			}
			dir := t.TempDir()
			objs := laketest.Land(t, dir, f, layout, ticks, per)
			tb := Table{Database: "d", Name: "t", Format: name, Layout: layout, Bucket: "b", Prefix: "p/"}
			var objects []Object
			for _, o := range objs {
				fh, err := os.Open(o.Path)
				if err != nil {
					t.Fatal(err)
				}
				defer fh.Close()
				fi, _ := fh.Stat()
				objects = append(objects, Object{Key: o.Key, Size: fi.Size(), ReadAt: fh})
			}
			for _, q := range queries {
				got, err := ScanBytes(tb, q, objects, TrinoDefaults, USEast1)
				if err != nil {
					t.Fatalf("%s %s %s: %v", name, layout, q.Name, err)
				}
				wantObjs, wantGroups, wantBytes, wantChunks := expectedScan(t, tb, q, ticks, objs, rowGroupRows)
				if got.Objects != wantObjs || got.Bytes != wantBytes || got.ChunkBytes != wantChunks || (tb.Parquet() && got.RowGroups != wantGroups) {
					t.Errorf("%s %s %s: %d objects, %d row groups, %d bytes, %d chunk bytes; want %d, %d, %d, %d",
						name, layout, q.Name, got.Objects, got.RowGroups, got.Bytes, got.ChunkBytes, wantObjs, wantGroups, wantBytes, wantChunks)
				}
				if billed, usd := USEast1.AthenaBill(got.Bytes); got.BilledBytes != billed || got.USD != usd {
					t.Errorf("%s %s %s: billed %d $%v, want %d $%v", name, layout, q.Name, got.BilledBytes, got.USD, billed, usd)
				}
				if q.Name == "count-hour" && layout != sink.LayoutNone && got.Objects == len(objs) {
					t.Errorf("%s %s: count of one hour kept all %d objects: no partition pruning", name, layout, got.Objects)
				}
				if (q.Name == "before" || q.Name == "absent-symbol") && tb.Parquet() && (got.RowGroups != 0 || got.Bytes != 0) {
					t.Errorf("%s %s %s: kept %d row groups, %d bytes; want none", name, layout, q.Name, got.RowGroups, got.Bytes)
				}
			}
		}
	}
}

// TestScanParquetPrunesColumns checks the columnar saving on its own: in
// an object over the small-file threshold the same hour costs less when
// fewer columns are referenced, and a whole-day VWAP of Parquet costs less
// than the JSON lines of the same ticks; under the threshold the object is
// read whole whatever the columns.
func TestScanParquetPrunesColumns(t *testing.T) {
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	scan := func(ticks []tick.Tick, format string, q Query) Scan {
		t.Helper()
		var objects []Object
		laketest.LandFunc(t, laketest.Format(t, format), sink.LayoutHourly, ticks, laketest.Batching{}, func(o laketest.Object, body []byte) {
			objects = append(objects, Object{Key: o.Key, Size: int64(len(body)), ReadAt: bytesReaderAt(body)})
		})
		s, err := ScanBytes(Table{Database: "d", Name: "t", Format: format, Layout: sink.LayoutHourly, Bucket: "b"}, q, objects, TrinoDefaults, USEast1)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// 300,000 ticks in 50 minutes of one hour: one object of about 5 MB.
	big := laketest.Ticks(t, 300_000, 5, hour.Add(5*time.Minute).UnixNano(), 10*time.Millisecond.Nanoseconds())
	qs := StandardQueries(hour, big[0].Symbol)
	count, vwap := scan(big, "parquet", qs[0]), scan(big, "parquet", qs[1])
	if !(count.Bytes*10 < vwap.Bytes) {
		t.Errorf("parquet: count (ts only) scans %d bytes, VWAP (4 columns) %d: want under a tenth", count.Bytes, vwap.Bytes)
	}
	if j := scan(big, "jsonl", qs[1]); !(vwap.Bytes*3 < j.Bytes) {
		t.Errorf("VWAP scans %d bytes of parquet, %d of jsonl: want parquet under a third", vwap.Bytes, j.Bytes)
	}
	small := big[:3000]
	count, vwap = scan(small, "parquet", qs[0]), scan(small, "parquet", qs[1])
	if count.Bytes != vwap.Bytes || count.Bytes <= count.ChunkBytes {
		t.Errorf("a small object: count scans %d bytes (chunks %d), VWAP %d; want both the whole object", count.Bytes, count.ChunkBytes, vwap.Bytes)
	}
}

func TestEngineReadSize(t *testing.T) {
	e := TrinoDefaults
	const mib = 1 << 20
	for _, c := range []struct {
		name   string
		ranges []span
		want   int64
	}{
		{"none", nil, 0},
		{"one", []span{{100, 50}}, 50},
		{"gap under the merge distance is read", []span{{0, 10}, {10 + mib, 10}}, 20 + mib},
		{"gap over it is not", []span{{0, 10}, {11 + mib, 10}}, 20},
		{"unsorted and overlapping", []span{{500, 100}, {0, 10}, {550, 100}}, 650},
		{"merged read capped at the buffer size", []span{{0, 5 * mib}, {5 * mib, 4 * mib}}, 9 * mib},
		{"large ranges alone", []span{{0, 9 * mib}, {9 * mib, 10}}, 9*mib + 10},
	} {
		if got := e.readSize(c.ranges); got != c.want {
			t.Errorf("%s: readSize = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestEngineSplits(t *testing.T) {
	const mib = 1 << 20
	e := TrinoDefaults
	e.InitialSplits = 3
	s := e.newSplitter()
	for _, c := range []struct {
		size       int64
		splittable bool
		want       []span
	}{
		{10 * mib, true, []span{{0, 10 * mib}}},                        // initial 1
		{32 * mib, true, []span{{0, 32 * mib}}},                        // initial 2
		{64*mib + 100, false, []span{{0, 64*mib + 100}}},               // initial 3: not splittable
		{100 * mib, true, []span{{0, 50 * mib}, {50 * mib, 50 * mib}}}, // 64 MiB now: halves
		{200 * mib, true, []span{{0, 64 * mib}, {64 * mib, 64 * mib}, {128 * mib, 36 * mib}, {164 * mib, 36 * mib}}},
	} {
		if got := s.splits(c.size, c.splittable); !slices.Equal(got, c.want) {
			t.Errorf("splits(%d, %v) = %v, want %v", c.size, c.splittable, got, c.want)
		}
	}
	s = TrinoDefaults.newSplitter()
	if got := s.splits(64*mib+108, true); !slices.Equal(got, []span{{0, 32 * mib}, {32 * mib, 16*mib + 54}, {48*mib + 54, 16*mib + 54}}) {
		t.Errorf("an initial 64 MiB + 108 B object: %v", got)
	}
}

// TestTextBytes: a split reads whole line-reader buffers from its start to
// the end of the line that crosses its end; the last split to the end.
func TestTextBytes(t *testing.T) {
	e := TrinoDefaults
	e.InitialSplitSize, e.SplitSize, e.TextBuffer = 1000, 1000, 64
	line := strings.Repeat("x", 99) + "\n" // 100-byte lines
	body := []byte(strings.Repeat(line, 25))
	n, err := e.textBytes(Object{Size: int64(len(body)), ReadAt: bytesReaderAt(body)}, e.newSplitter(), true)
	// splits [0,1000) [1000,1750) [1750,2500) (the last 1500 bytes in
	// halves); their lines end at 1100 and 1800: ceil(1100/64)*64 = 1152,
	// ceil(800/64)*64 = 832, then the last 750.
	if err != nil || n != 1152+832+750 {
		t.Errorf("textBytes = %d, %v; want %d", n, err, 1152+832+750)
	}
	if n, err := e.textBytes(Object{Key: "x.gz", Size: int64(len(body)), ReadAt: bytesReaderAt(body)}, e.newSplitter(), false); err != nil || n != int64(len(body)) {
		t.Errorf("not splittable: %d, %v; want the object's %d bytes", n, err, len(body))
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, os.ErrInvalid
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, os.ErrInvalid
	}
	return n, nil
}

func TestReadFooterRejects(t *testing.T) {
	for _, b := range [][]byte{[]byte("short"), []byte("0123456789abcdefNOPE"), append([]byte("PAR1xxxxxxxx"), 0xff, 0xff, 0, 0, 'P', 'A', 'R', '1')} {
		if _, _, err := ReadFooter(bytesReaderAt(b), int64(len(b))); err == nil {
			t.Errorf("ReadFooter(%q) = nil error", b)
		}
	}
}

// TestReadFooterHugeList: a footer whose schema claims 2^31-1 elements is
// refused before parquet-go decodes it (which would allocate 192 GiB for
// them, and die of it).
func TestReadFooterHugeList(t *testing.T) {
	footer := []byte{0x15, 0x04, 0x19, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0} // version 2, schema
	b := binary.LittleEndian.AppendUint32(append([]byte("PAR1"), footer...), uint32(len(footer)))
	b = append(b, "PAR1"...)
	done := make(chan error, 1)
	go func() {
		_, _, err := ReadFooter(bytesReaderAt(b), int64(len(b)))
		done <- err
	}()
	select {
	case err := <-done:
		const want = "parquet footer: list of 2147483647 elements in 1 bytes"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("ReadFooter error = %v, want it to contain %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFooter still running after 5 s")
	}
}

func TestStandardQueriesSQL(t *testing.T) {
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	qs := StandardQueries(hour, "ABCD")
	want := map[string]string{
		"parquet/dt-hour":   "SELECT count(*) AS n FROM t WHERE dt = '2026-11-25' AND hour = 23 AND ts >= TIMESTAMP '2026-11-25 23:00:00.000000' AND ts < TIMESTAMP '2026-11-26 00:00:00.000000'",
		"jsonl/none":        "SELECT count(*) AS n FROM t WHERE ts >= 1795647600000000000 AND ts < 1795651200000000000",
		"jsonl/dt-symbol":   "SELECT count(*) AS n FROM t WHERE dt = '2026-11-25' AND ts >= 1795647600000000000 AND ts < 1795651200000000000",
		"parquet/dt-symbol": "SELECT count(*) AS n FROM t WHERE dt = '2026-11-25' AND ts >= TIMESTAMP '2026-11-25 23:00:00.000000' AND ts < TIMESTAMP '2026-11-26 00:00:00.000000'",
	}
	for k, w := range want {
		var tb Table
		tb.Format, tb.Layout = k[:len(k)-len(k[indexSlash(k):])], sink.Layout(k[indexSlash(k)+1:])
		if got := qs[0].SQL(tb, "t"); got != w {
			t.Errorf("%s: %s\nwant %s", k, got, w)
		}
	}
	if got := qs[2].SQL(Table{Format: "parquet", Layout: sink.LayoutSymbol}, "t"); got !=
		"SELECT seq, ts, price, size FROM t WHERE dt = '2026-11-25' AND ts >= TIMESTAMP '2026-11-25 23:00:00.000000' AND ts < TIMESTAMP '2026-11-26 00:00:00.000000' AND symbol = 'ABCD' ORDER BY ts DESC, seq DESC LIMIT 1" {
		t.Errorf("last-trade SQL: %s", got)
	}
}

func indexSlash(s string) int {
	for i := range s {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
