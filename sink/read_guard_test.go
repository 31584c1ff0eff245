package sink

import (
	"encoding/binary"
	"flag"
	"fmt"
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

var updateSeeds = flag.Bool("update-seeds", false, "rewrite FuzzReadTicks' thrift-* seeds")

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

// insertAt inserts ins at byte pos of a Parquet object below its footer,
// and rewrites the footer to match: offsets at or after pos move, and the
// column chunk or page index holding pos grows.
func insertAt(t testing.TB, body []byte, pos int, ins []byte) []byte {
	t.Helper()
	md := decodeFooter(t, body)
	k := int64(len(ins))
	shift := func(p *int64) {
		if *p >= int64(pos) {
			*p += k
		}
	}
	for g := range md.RowGroups {
		for c := range md.RowGroups[g].Columns {
			cc := &md.RowGroups[g].Columns[c]
			m := &cc.MetaData
			if start := chunkStart(m); int64(pos) > start && int64(pos) < start+m.TotalCompressedSize {
				m.TotalCompressedSize += k
			}
			for _, ix := range []struct {
				off *int64
				n   *int32
			}{{&cc.ColumnIndexOffset, &cc.ColumnIndexLength}, {&cc.OffsetIndexOffset, &cc.OffsetIndexLength}} {
				if int64(pos) > *ix.off && int64(pos) < *ix.off+int64(*ix.n) {
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
	return assemble(slices.Concat(body[:pos], ins, body[pos:len(body)-8-footerLen(body)]), footer)
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

// corruptThrift are Parquet objects with one Thrift container count made
// huge, in each kind of Thrift structure parquet-go decodes.
func corruptThrift(t testing.TB) []struct {
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
			insertAt(t, body, beforeStop(t, body, chunkStart(&last.MetaData)), hugeBoolList)},
		{"column index unknown list<bool>",
			"parquet: row group 0 column exchange: column index: list of 2147483647 elements in 1 bytes",
			insertAt(t, body, beforeStop(t, body, last.ColumnIndexOffset), hugeBoolList)},
	}
}

// TestReadTicksCorruptThrift: a huge container count anywhere parquet-go
// decodes Thrift is an error, returned at once.
func TestReadTicksCorruptThrift(t *testing.T) {
	for _, tt := range corruptThrift(t) {
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

// TestWriteCorruptThriftSeeds keeps FuzzReadTicks' seed corpus in step with
// corruptThrift: with -update-seeds it rewrites the files, otherwise it
// checks they exist and match.
func TestWriteCorruptThriftSeeds(t *testing.T) {
	which := byte(slices.Index(formatNames(), "parquet"))
	dir := filepath.Join("testdata", "fuzz", "FuzzReadTicks")
	for _, tt := range corruptThrift(t) {
		want := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", which, tt.body)
		path := filepath.Join(dir, "thrift-"+strings.ReplaceAll(strings.NewReplacer("<", "-", ">", "").Replace(tt.name), " ", "-"))
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
			t.Fatalf("%v (run go test -run TestWriteCorruptThriftSeeds ./sink -update-seeds)", err)
		}
		if string(got) != want {
			t.Errorf("%s is stale (run go test -run TestWriteCorruptThriftSeeds ./sink -update-seeds)", path)
		}
	}
}
