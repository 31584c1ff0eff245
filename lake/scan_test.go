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
// answer: objects are kept when the partition of their ticks overlaps the
// predicate; Parquet row groups when some tick in them lies in the time
// range and the symbol lies between the group's smallest and largest
// symbol; sizes come from parquet-go's own reading of each file and the
// file's last 8 bytes.
func expectedScan(t *testing.T, tb Table, q Query, ticks []tick.Tick, objs []laketest.Object, rowGroupRows int) (objects, groups int, bytes int64) {
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
		if !tb.Parquet() {
			bytes += fi.Size()
			continue
		}
		raw, err := os.ReadFile(o.Path)
		if err != nil {
			t.Fatal(err)
		}
		bytes += int64(binary.LittleEndian.Uint32(raw[len(raw)-8:])) + 8
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
		for g, rg := range rgs {
			idx := o.Ticks[g*rowGroupRows : min((g+1)*rowGroupRows, len(o.Ticks))]
			inTime, lo, hi := false, "\xff", ""
			for _, i := range idx {
				tt := time.UnixMicro(ticks[i].Intended / 1000)
				inTime = inTime || (!tt.Before(q.Pred.From) && tt.Before(q.Pred.To))
				lo, hi = min(lo, ticks[i].Symbol), max(hi, ticks[i].Symbol)
			}
			if !inTime {
				continue
			}
			if q.Pred.Symbol != "" && tb.Layout != sink.LayoutSymbol && (q.Pred.Symbol < lo || q.Pred.Symbol > hi) {
				continue
			}
			groups++
			for _, c := range rg.Columns {
				name := c.MetaData.PathInSchema[0]
				if slices.Contains(q.Columns, name) && !(name == "symbol" && tb.Layout == sink.LayoutSymbol) {
					bytes += c.MetaData.TotalCompressedSize
				}
			}
		}
		f.Close()
	}
	return objects, groups, bytes
}

func TestScanBytesModel(t *testing.T) {
	// 2000 ticks 5.4 s apart: 3 hours over two days, 7 symbols.
	ticks := laketest.Ticks(t, 2000, 7, scanStart.UnixNano(), 5400*int64(time.Millisecond))
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	sym := ticks[3].Symbol
	queries := append(StandardQueries(hour, sym),
		// A symbol no row group holds: only footers are scanned (except
		// where symbol is a partition: there nothing is).
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
				got, err := ScanBytes(tb, q, objects, USEast1)
				if err != nil {
					t.Fatalf("%s %s %s: %v", name, layout, q.Name, err)
				}
				wantObjs, wantGroups, wantBytes := expectedScan(t, tb, q, ticks, objs, rowGroupRows)
				if got.Objects != wantObjs || got.Bytes != wantBytes || (tb.Parquet() && got.RowGroups != wantGroups) {
					t.Errorf("%s %s %s: %d objects, %d row groups, %d bytes; want %d, %d, %d",
						name, layout, q.Name, got.Objects, got.RowGroups, got.Bytes, wantObjs, wantGroups, wantBytes)
				}
				if billed, usd := USEast1.AthenaBill(got.Bytes); got.BilledBytes != billed || got.USD != usd {
					t.Errorf("%s %s %s: billed %d $%v, want %d $%v", name, layout, q.Name, got.BilledBytes, got.USD, billed, usd)
				}
				if q.Name == "count-hour" && layout != sink.LayoutNone && got.Objects == len(objs) {
					t.Errorf("%s %s: count of one hour kept all %d objects: no partition pruning", name, layout, got.Objects)
				}
				if q.Name == "before" && tb.Parquet() && got.RowGroups != 0 {
					t.Errorf("%s %s: a range before the data kept %d row groups", name, layout, got.RowGroups)
				}
			}
		}
	}
}

// TestScanParquetPrunesColumns checks the columnar saving on its own: the
// same hour costs less when fewer columns are referenced, and a whole-day
// VWAP of Parquet costs less than the JSON lines of the same ticks.
func TestScanParquetPrunesColumns(t *testing.T) {
	ticks := laketest.Ticks(t, 3000, 5, scanStart.UnixNano(), time.Second.Nanoseconds())
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	scan := func(format string, q Query) Scan {
		dir := t.TempDir()
		objs := laketest.Land(t, dir, laketest.Format(t, format), sink.LayoutHourly, ticks, 3000)
		var objects []Object
		for _, o := range objs {
			b, err := os.ReadFile(o.Path)
			if err != nil {
				t.Fatal(err)
			}
			objects = append(objects, Object{Key: o.Key, Size: int64(len(b)), ReadAt: bytesReaderAt(b)})
		}
		s, err := ScanBytes(Table{Database: "d", Name: "t", Format: format, Layout: sink.LayoutHourly, Bucket: "b"}, q, objects, USEast1)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	qs := StandardQueries(hour, ticks[0].Symbol)
	count, vwap := scan("parquet", qs[0]), scan("parquet", qs[1])
	if !(count.Bytes < vwap.Bytes) {
		t.Errorf("parquet: count (ts only) scans %d bytes, VWAP (4 columns) %d: want fewer", count.Bytes, vwap.Bytes)
	}
	if j := scan("jsonl", qs[1]); !(vwap.Bytes*3 < j.Bytes) {
		t.Errorf("VWAP scans %d bytes of parquet, %d of jsonl: want parquet under a third", vwap.Bytes, j.Bytes)
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
