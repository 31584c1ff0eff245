package pqguard

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Footer returns the footer of the Parquet object body, the Thrift
// FileMetaData between the column chunks and the 4-byte length and "PAR1"
// that end the object, after checking it with Struct; bytes after the
// struct (an encrypted footer's signature) are left out.
func Footer(body []byte) ([]byte, error) {
	n := len(body)
	if n < 12 {
		return nil, fmt.Errorf("parquet object of %d bytes: too small", n)
	}
	if string(body[n-4:]) != "PAR1" {
		return nil, fmt.Errorf("not a Parquet object: ends in %q, not PAR1", body[n-4:])
	}
	flen := int64(binary.LittleEndian.Uint32(body[n-8 : n-4]))
	if flen+12 > int64(n) {
		return nil, fmt.Errorf("parquet footer length %d exceeds the object's %d bytes", flen, n)
	}
	footer := body[n-8-int(flen) : n-8]
	used, err := Struct(footer)
	if err != nil {
		return nil, fmt.Errorf("parquet footer: %w", err)
	}
	return footer[:used], nil
}

// Chunks checks the Thrift structures that md, the object's decoded footer,
// points to in body: every page header of every column chunk (from the
// dictionary or first data page, each header followed by its
// compressed_page_size bytes, until the chunk's total_compressed_size is
// covered), the column and offset indexes, and bloom filter headers. The
// pages' value counts and uncompressed sizes must add up to the chunk's.
func Chunks(body []byte, md *format.FileMetaData) error {
	for g, rg := range md.RowGroups {
		for c := range rg.Columns {
			cc := &rg.Columns[c]
			if err := chunk(body, cc); err != nil {
				return fmt.Errorf("row group %d column %s: %w", g, strings.Join(cc.MetaData.PathInSchema, "."), err)
			}
		}
	}
	return nil
}

func chunk(body []byte, cc *format.ColumnChunk) error {
	m := &cc.MetaData
	start := m.DataPageOffset
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
		start = m.DictionaryPageOffset
	}
	pages, err := section(body, "column chunk", start, m.TotalCompressedSize)
	if err != nil {
		return err
	}
	// parquet-go sizes its buffers by the page header's counts: a data page
	// claiming 2^31-1 values makes it allocate and clear 16 GiB. The counts
	// must add up to the column metadata's.
	var values, uncompressed int64
	for off := 0; off < len(pages); {
		at := start + int64(off)
		n, err := Struct(pages[off:])
		if err != nil {
			return fmt.Errorf("page header at byte %d: %w", at, err)
		}
		var h format.PageHeader
		if err := thrift.Unmarshal(&thrift.CompactProtocol{}, pages[off:off+n], &h); err != nil {
			return fmt.Errorf("decode page header at byte %d: %w", at, err)
		}
		if h.CompressedPageSize < 0 || int(h.CompressedPageSize) > len(pages)-off-n {
			return fmt.Errorf("page at byte %d: compressed_page_size %d, but the chunk has %d bytes left",
				at, h.CompressedPageSize, len(pages)-off-n)
		}
		if h.UncompressedPageSize < 0 {
			return fmt.Errorf("page at byte %d: uncompressed_page_size %d", at, h.UncompressedPageSize)
		}
		uncompressed += int64(n) + int64(h.UncompressedPageSize)
		var nv int32
		switch {
		case h.DataPageHeader.Valid:
			nv = h.DataPageHeader.V.NumValues
		case h.DataPageHeaderV2.Valid:
			nv = h.DataPageHeaderV2.V.NumValues
		case h.DictionaryPageHeader.Valid:
			// A dictionary is PLAIN: at least a bit a value.
			if d := h.DictionaryPageHeader.V.NumValues; d < 0 || int64(d) > 8*int64(h.UncompressedPageSize) {
				return fmt.Errorf("dictionary page at byte %d: %d values in %d bytes", at, d, h.UncompressedPageSize)
			}
		}
		if nv < 0 {
			return fmt.Errorf("data page at byte %d: num_values %d", at, nv)
		}
		values += int64(nv)
		off += n + int(h.CompressedPageSize)
	}
	if values != m.NumValues {
		return fmt.Errorf("data pages hold %d values, the column metadata says %d", values, m.NumValues)
	}
	if uncompressed != m.TotalUncompressedSize {
		return fmt.Errorf("pages take %d bytes uncompressed, the column metadata says %d", uncompressed, m.TotalUncompressedSize)
	}
	for _, ix := range []struct {
		name   string
		offset int64
		length int32
	}{
		{"column index", cc.ColumnIndexOffset, cc.ColumnIndexLength},
		{"offset index", cc.OffsetIndexOffset, cc.OffsetIndexLength},
	} {
		if ix.offset == 0 && ix.length == 0 {
			continue
		}
		b, err := section(body, ix.name, ix.offset, int64(ix.length))
		if err != nil {
			return err
		}
		if _, err := Struct(b); err != nil {
			return fmt.Errorf("%s: %w", ix.name, err)
		}
	}
	if off := m.BloomFilterOffset; off > 0 {
		b, err := section(body, "bloom filter", off, int64(len(body))-off)
		if err != nil {
			return err
		}
		if _, err := Struct(b); err != nil {
			return fmt.Errorf("bloom filter header: %w", err)
		}
	}
	return nil
}

// section is body[off:off+n], or an error naming what was there if that is
// not inside body.
func section(body []byte, what string, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > int64(len(body)) || n > int64(len(body))-off {
		return nil, fmt.Errorf("%s at byte %d of %d bytes: outside the object's %d bytes", what, off, n, len(body))
	}
	return body[off : off+n], nil
}
