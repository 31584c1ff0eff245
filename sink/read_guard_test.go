package sink

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickbench/tickbench/internal/pqguard"
	"github.com/tickbench/tickbench/tick"
)

// hugeBoolList is a Thrift compact field: id 100 (long form), type list,
// of bool elements, count 0x7FFFFFFF, and no elements.
var hugeBoolList = []byte{0x09, 0xC8, 0x01, 0xF1, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}

// parquetParts is a small valid Parquet object and its decoded footer.
func parquetParts(t testing.TB) ([]byte, *format.FileMetaData) {
	t.Helper()
	body := encode(t, Formats["parquet"].NewEncoder(), variedTicks(3, 7))
	return body, decodeFooter(t, body)
}

func decodeFooter(t testing.TB, body []byte) *format.FileMetaData {
	t.Helper()
	footer, err := pqguard.Footer(body)
	if err != nil {
		t.Fatal(err)
	}
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, footer, &md); err != nil {
		t.Fatal(err)
	}
	return &md
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite FuzzReadTicks' corrupt-* seeds")

// withFooter replaces body's footer with footer.
func withFooter(body, footer []byte) []byte {
	return assemble(body[:len(body)-8-footerLen(body)], footer)
}

func footerLen(body []byte) int { return int(binary.LittleEndian.Uint32(body[len(body)-8:])) }

// assemble ends data, a Parquet object's magic and column chunks, with
// footer, its length and the magic.
func assemble(data, footer []byte) []byte {
	out := slices.Concat(data, footer)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "PAR1"...)
}

// spliceAt replaces del bytes at byte pos of a Parquet object, below its
// footer, with ins, and rewrites the footer to match: offsets after pos
// move, and the column chunk or page index holding pos changes size. edits
// change the footer first.
func spliceAt(t testing.TB, body []byte, pos, del int, ins []byte, edits ...func(*format.FileMetaData)) []byte {
	t.Helper()
	md := decodeFooter(t, body)
	for _, edit := range edits {
		edit(md)
	}
	k := int64(len(ins) - del)
	p := int64(pos)
	shift := func(off *int64) {
		if *off > p {
			*off += k
		}
	}
	for g := range md.RowGroups {
		for c := range md.RowGroups[g].Columns {
			cc := &md.RowGroups[g].Columns[c]
			m := &cc.MetaData
			if start := chunkStart(m); p >= start && p < start+m.TotalCompressedSize {
				m.TotalCompressedSize += k
			}
			for _, ix := range []struct {
				off *int64
				n   *int32
			}{{&cc.ColumnIndexOffset, &cc.ColumnIndexLength}, {&cc.OffsetIndexOffset, &cc.OffsetIndexLength}} {
				if p >= *ix.off && p < *ix.off+int64(*ix.n) {
					*ix.n += int32(k)
				}
			}
			shift(&m.DataPageOffset)
			if m.DictionaryPageOffset > 0 {
				shift(&m.DictionaryPageOffset)
			}
			shift(&cc.FileOffset)
			shift(&cc.ColumnIndexOffset)
			shift(&cc.OffsetIndexOffset)
		}
	}
	footer, err := thrift.Marshal(&thrift.CompactProtocol{}, md)
	if err != nil {
		t.Fatal(err)
	}
	return assemble(slices.Concat(body[:pos], ins, body[pos+del:len(body)-8-footerLen(body)]), footer)
}

func chunkStart(m *format.ColumnMetaData) int64 {
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < m.DataPageOffset {
		return m.DictionaryPageOffset
	}
	return m.DataPageOffset
}

// beforeStop is the offset of the STOP byte that ends the Thrift struct at
// body[off:], where a field can be appended.
func beforeStop(t testing.TB, body []byte, off int64) int {
	t.Helper()
	n, err := pqguard.Struct(body[off:])
	if err != nil {
		t.Fatal(err)
	}
	return int(off) + n - 1
}

// hugeValues rewrites the first data page header of body's first column
// to claim 2^31-1 values; edits change the footer too.
func hugeValues(t testing.TB, body []byte, md *format.FileMetaData, edits ...func(*format.FileMetaData)) []byte {
	t.Helper()
	start := md.RowGroups[0].Columns[0].MetaData.DataPageOffset
	n, err := pqguard.Struct(body[start:])
	if err != nil {
		t.Fatal(err)
	}
	var h format.PageHeader
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, body[start:start+int64(n)], &h); err != nil {
		t.Fatal(err)
	}
	if !h.DataPageHeader.Valid {
		t.Fatalf("page at byte %d is %v, want a data page", start, h.Type)
	}
	h.DataPageHeader.V.NumValues = math.MaxInt32
	hb, err := thrift.Marshal(&thrift.CompactProtocol{}, &h)
	if err != nil {
		t.Fatal(err)
	}
	return spliceAt(t, body, int(start), n, hb, edits...)
}

// corruptParquet are Parquet objects with one Thrift container count made
// huge, in each kind of Thrift structure parquet-go decodes, and with a
// data page claiming 2^31-1 values (parquet-go v0.32.0 then allocates and
// clears 16 GiB), alone or with the footer agreeing.
func corruptParquet(t testing.TB) []struct {
	name, wantErr string
	body          []byte
} {
	body, md := parquetParts(t)
	footer, err := pqguard.Footer(body)
	if err != nil {
		t.Fatal(err)
	}
	// FileMetaData starts with version (field 1, i32) and schema (field 2,
	// list<struct>): 0x15 <varint> 0x19 <list header>.
	schema := 2
	for footer[schema-1]&0x80 != 0 {
		schema++
	}
	if footer[schema] != 0x19 {
		t.Fatalf("footer byte %d is %#x, want the schema field 0x19", schema, footer[schema])
	}
	last := &md.RowGroups[0].Columns[len(md.RowGroups[0].Columns)-1]
	return []struct {
		name, wantErr string
		body          []byte
	}{
		{"footer unknown list<bool>",
			"parquet: parquet footer: list of 2147483647 elements in 1 bytes",
			withFooter(body, slices.Concat(footer[:len(footer)-1], hugeBoolList, []byte{0}))},
		// parquet-go v0.32.0 allocates a slice of 2^31 SchemaElements for
		// this: the Go runtime dies of "out of memory", which no recover
		// catches.
		{"footer schema list<struct>",
			"parquet: parquet footer: list of 2147483647 elements in",
			withFooter(body, slices.Concat(footer[:schema+1], []byte{0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}, footer[schema+2:]))},
		{"page header unknown list<bool>",
			"parquet: row group 0 column exchange: page header at byte ",
			spliceAt(t, body, beforeStop(t, body, chunkStart(&last.MetaData)), 0, hugeBoolList)},
		{"column index unknown list<bool>",
			"parquet: row group 0 column exchange: column index: list of 2147483647 elements in 1 bytes",
			spliceAt(t, body, beforeStop(t, body, last.ColumnIndexOffset), 0, hugeBoolList)},
		{"data page values",
			"parquet: row group 0 column symbol: data pages hold 2147483647 values, the column metadata says 3",
			hugeValues(t, body, md)},
		{"data page and column values",
			"parquet: row group 0 column symbol: 2147483647 values in 3 rows",
			hugeValues(t, body, md, func(md *format.FileMetaData) { md.RowGroups[0].Columns[0].MetaData.NumValues = math.MaxInt32 })},
		{"data page, column and row group values",
			"parquet: row group 0: 2147483647 rows, allowed 0..10000000",
			hugeValues(t, body, md, func(md *format.FileMetaData) {
				md.NumRows, md.RowGroups[0].NumRows = math.MaxInt32, math.MaxInt32
				for c := range md.RowGroups[0].Columns {
					md.RowGroups[0].Columns[c].MetaData.NumValues = math.MaxInt32
				}
			})},
	}
}

// TestReadTicksCorruptParquet: a huge container count anywhere parquet-go
// decodes Thrift, or a huge value count in a page, is an error, returned at
// once.
func TestReadTicksCorruptParquet(t *testing.T) {
	for _, tt := range corruptParquet(t) {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				done <- ReadTicks(Formats["parquet"], tt.body, func(*tick.Tick) error { return nil })
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				t.Log(err)
			case <-time.After(5 * time.Second):
				t.Fatal("ReadTicks still running after 5 s")
			}
		})
	}
}

// TestCorruptParquetSeeds keeps FuzzReadTicks' seed corpus in step with
// corruptParquet: with -update-seeds it rewrites the files, otherwise it
// checks they exist and match.
func TestCorruptParquetSeeds(t *testing.T) {
	which := byte(slices.Index(formatNames(), "parquet"))
	dir := filepath.Join("testdata", "fuzz", "FuzzReadTicks")
	for _, tt := range corruptParquet(t) {
		want := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", which, tt.body)
		path := filepath.Join(dir, "corrupt-"+strings.ReplaceAll(strings.NewReplacer("<", "-", ">", "", ",", "").Replace(tt.name), " ", "-"))
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestCorruptParquetSeeds ./sink -update-seeds)", err)
		}
		if string(got) != want {
			t.Errorf("%s is stale (run go test -run TestCorruptParquetSeeds ./sink -update-seeds)", path)
		}
	}
}

// BenchmarkCheckParquet is what checkParquet adds to BenchmarkReadTicks.
func BenchmarkCheckParquet(b *testing.B) {
	ts := modelTicks(b, 10_000)
	for _, name := range []string{"parquet", "parquet-zstd"} {
		b.Run("format="+name, func(b *testing.B) {
			body := encode(b, Formats[name].NewEncoder(), ts)
			b.ReportAllocs()
			for b.Loop() {
				if err := checkParquet(body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*float64(len(ts))/b.Elapsed().Seconds(), "ticks/s")
		})
	}
}
