package pqguard

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		default:
			panic(p)
		}
	}
	return b
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := thrift.Marshal(&thrift.CompactProtocol{}, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStruct(t *testing.T) {
	huge := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x07} // 2^31-1
	deepStructs := cat(bytes.Repeat([]byte{0x1C}, MaxDepth), bytes.Repeat([]byte{0}, MaxDepth+1))
	deepLists := cat(0x19, bytes.Repeat([]byte{0x19}, MaxDepth), 0)
	tests := []struct {
		name    string
		in      []byte
		want    int    // bytes in the struct, if wantErr is ""
		wantErr string // part of the error
	}{
		{"empty struct", cat(0), 1, ""},
		{"trailing bytes are not read", cat(0, 0xFF, 0xFF), 1, ""},
		{"bool fields have no payload", cat(0x11, 0x12, 0), 3, ""},
		{"byte i16 i32 i64", cat(0x13, 0x7F, 0x14, 0x02, 0x15, 0x80, 0x01, 0x16, 0x01, 0), 10, ""},
		{"double and uuid", cat(0x17, strings.Repeat("d", 8), 0x1D, strings.Repeat("u", 16), 0), 27, ""},
		{"binary", cat(0x18, 3, "abc", 0), 6, ""},
		{"long field id", cat(0x05, 0xC8, 0x01, 0x02, 0), 5, ""},
		{"nested struct", cat(0x1C, 0x15, 0x02, 0, 0), 5, ""},
		{"list of bools, a byte each", cat(0x19, 0x31, 1, 2, 1, 0), 6, ""},
		{"list with long size", cat(0x19, 0xF5, 15, strings.Repeat("\x00", 15), 0), 19, ""},
		{"set of i32", cat(0x1A, 0x25, 0x02, 0x04, 0), 5, ""},
		{"map binary to i32", cat(0x1B, 1, 0x85, 1, "x", 0x02, 0), 7, ""},
		{"empty map has no types byte", cat(0x1B, 0, 0), 3, ""},
		{"list of lists", cat(0x19, 0x19, 0x15, 0x02, 0), 5, ""},
		{"nesting at the limit", cat(bytes.Repeat([]byte{0x1C}, MaxDepth-1), bytes.Repeat([]byte{0}, MaxDepth)), 2*MaxDepth - 1, ""},

		{"nothing", nil, 0, "truncated (at byte 0 of 0)"},
		{"no stop", cat(0x15, 0x02), 0, "truncated (at byte 2 of 2)"},
		{"truncated i32", cat(0x15), 0, "truncated i32"},
		{"truncated double", cat(0x17, "1234"), 0, "double of 8 bytes in 4 bytes"},
		{"truncated binary", cat(0x18, 5, "ab", 0), 0, "binary of 5 bytes in 3 bytes"},
		{"truncated field id", cat(0x05, 0x80), 0, "truncated field id"},
		{"huge list of bools", cat(0x19, 0xF1, huge, 0), 0, "list of 2147483647 elements in 1 bytes (at byte 7 of 8)"},
		{"huge set", cat(0x1A, 0xFC, huge), 0, "set of 2147483647 elements in 0 bytes"},
		{"huge map", cat(0x1B, huge, 0x11, 0, 0), 0, "map of 2147483647 entries in 2 bytes"},
		{"map entries take two bytes", cat(0x1B, 3, 0x11, 1, 1, 1, 1, 0), 0, "map of 3 entries in 5 bytes"},
		{"list of doubles, 8 bytes each", cat(0x19, 0x27, "12345678", 0), 0, "list of 2 elements in 9 bytes"},
		{"list size over int32", cat(0x19, 0xF1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0), 0, "list size varint overflows 31 bits"},
		{"i32 over 32 bits", cat(0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0), 0, "i32 varint overflows 32 bits"},
		{"i64 over 64 bits", cat(0x16, bytes.Repeat([]byte{0xFF}, 10), 0x01, 0), 0, "i64 varint overflows 64 bits"},
		{"field id over 16 bits", cat(0x05, 0xFF, 0xFF, 0x07, 0x02, 0), 0, "field id varint overflows 16 bits"},
		{"structs nested too deep", deepStructs, 0, "nested deeper than 32"},
		{"lists nested too deep", deepLists, 0, "nested deeper than 32"},
		{"field of wire type 14", cat(0x1E, 0), 0, "unknown wire type 14"},
		{"field of wire type 15", cat(0x0F, 0x02, 0), 0, "unknown wire type 15"},
		{"list of wire type 0", cat(0x19, 0x10, 0), 0, "list of unknown wire type 0"},
		{"list of wire type 14", cat(0x19, 0x1E, 0, 0), 0, "list of unknown wire type 14"},
		{"map of wire type 15", cat(0x1B, 1, 0xF5, 0, 0, 0), 0, "map of unknown wire type 15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Struct(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Struct(% x) = %d, %v; want error containing %q", tt.in, n, err, tt.wantErr)
				}
				return
			}
			if err != nil || n != tt.want {
				t.Fatalf("Struct(% x) = %d, %v; want %d", tt.in, n, err, tt.want)
			}
		})
	}
}

// TestStructParquetGo walks what parquet-go's own encoder writes for the
// structures Parquet objects hold, including every wire type they use.
func TestStructParquetGo(t *testing.T) {
	values := []any{
		&format.FileMetaData{
			Version: 2,
			Schema: []format.SchemaElement{
				{Name: "schema", NumChildren: thrift.New[int32](1)},
				{Name: "ts", Type: thrift.New(format.Int64), LogicalType: format.LogicalType{
					Value: &format.TimestampType{IsAdjustedToUTC: true, Unit: format.TimeUnit{Value: &format.MicroSeconds{}}},
				}},
			},
			NumRows:          3,
			KeyValueMetadata: []format.KeyValue{{Key: "k", Value: "v"}},
			CreatedBy:        "test",
			RowGroups: []format.RowGroup{{
				Columns: []format.ColumnChunk{{MetaData: format.ColumnMetaData{
					Encoding:     []format.Encoding{format.Plain, format.RLE},
					PathInSchema: []string{"ts"},
					Statistics:   format.Statistics{MinValue: []byte{1}, MaxValue: []byte{2}, NullCount: 0},
				}}},
				NumRows: 3,
			}},
		},
		&format.ColumnIndex{NullPages: []bool{true, false, true}, MinValues: [][]byte{{1}, {}, {3}}, MaxValues: [][]byte{{4}, {}, {6}}, NullCounts: []int64{0, 1, 2}},
		&format.OffsetIndex{PageLocations: []format.PageLocation{{Offset: 4, CompressedPageSize: 100}, {Offset: 104, CompressedPageSize: 7, FirstRowIndex: 50}}},
		&format.PageHeader{Type: format.DataPage, UncompressedPageSize: 10, CompressedPageSize: 8, CRC: -5,
			DataPageHeader: thrift.New(format.DataPageHeader{NumValues: 3, Encoding: format.Plain})},
	}
	for _, v := range values {
		b := marshal(t, v)
		n, err := Struct(append(b, 0xAA, 0xBB))
		if err != nil || n != len(b) {
			t.Errorf("%T: Struct = %d, %v; want %d", v, n, err, len(b))
		}
		// Every proper prefix is truncated.
		for i := range b {
			if _, err := Struct(b[:i]); err == nil {
				t.Errorf("%T: Struct of the first %d of %d bytes = nil error", v, i, len(b))
			}
		}
	}
}

// FuzzStruct: Struct never panics, never claims more bytes than it got,
// and accepts exactly the bytes it measured.
func FuzzStruct(f *testing.F) {
	f.Add([]byte{0x19, 0xF1, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0})
	f.Add([]byte{0x1B, 1, 0x85, 1, 'x', 0x02, 0})
	f.Add([]byte{0x1C, 0x15, 0x02, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Struct(b)
		if err != nil {
			return
		}
		if n < 1 || n > len(b) {
			t.Fatalf("Struct = %d for %d bytes", n, len(b))
		}
		if m, err := Struct(b[:n]); m != n || err != nil {
			t.Fatalf("Struct of its own %d bytes = %d, %v", n, m, err)
		}
	})
}
