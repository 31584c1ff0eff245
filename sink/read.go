package sink

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickbench/tickbench/internal/pqguard"
	"github.com/tickbench/tickbench/tick"
)

// maxLine bounds one JSON line; a canonical tick is under 300 bytes.
const maxLine = 1 << 20

// ReadTicks decodes an object written in format f and calls fn with each
// tick in order. It streams: t is reused and valid only during the call.
// A record that is not a valid tick ends the read with an error naming its
// line (JSON) or row (Parquet), counted from 1; an error from fn is returned
// as is. Parquet timestamps come back as whole microseconds.
func ReadTicks(f Format, body []byte, fn func(t *tick.Tick) error) error {
	switch f := f.(type) {
	case JSONL, JSON:
		return readLines(bytes.NewReader(body), fn)
	case JSONLGzip:
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		return readLines(zr, fn)
	case Parquet:
		return readParquet(body, fn)
	default:
		return fmt.Errorf("read %s objects: not supported", f.Name())
	}
}

func readLines(r io.Reader, fn func(*tick.Tick) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var t tick.Tick
	line := 0
	for sc.Scan() {
		line++
		if err := tick.DecodeJSON(sc.Bytes(), &t); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(&t); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}

func readParquet(body []byte, fn func(*tick.Tick) error) error {
	var file *parquet.File
	var r *parquet.GenericReader[parquetRow]
	err := noPanic(func() (err error) {
		if err := checkParquet(body); err != nil {
			return err
		}
		if file, err = parquet.OpenFile(bytes.NewReader(body), int64(len(body))); err != nil {
			return err
		}
		r = parquet.NewGenericReader[parquetRow](file)
		return nil
	})
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	defer r.Close()
	rows := make([]parquetRow, parquetWriteBatch)
	var t tick.Tick
	row := 0
	for {
		var n int
		err := noPanic(func() (err error) {
			n, err = r.Read(rows)
			return err
		})
		for i := range rows[:n] {
			row++
			rows[i].tick(&t)
			if err := t.Validate(); err != nil {
				return fmt.Errorf("row %d: %w", row, err)
			}
			if err := fn(&t); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			if int64(row) != file.NumRows() {
				return fmt.Errorf("parquet: read %d rows, footer says %d", row, file.NumRows())
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("parquet row %d: %w", row+1, err)
		}
	}
}

// checkParquet checks what parquet-go v0.32.0 trusts before it decodes an
// object: the counts in every Thrift structure (see pqguard), the codecs,
// and the value counts its page buffers are sized by.
func checkParquet(body []byte) error {
	footer, err := pqguard.Footer(body)
	if err != nil {
		return err
	}
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, footer, &md); err != nil {
		return fmt.Errorf("decode footer: %w", err)
	}
	// Every column is required and flat: as many values as rows, and no
	// more rows than Parquet writes, which bounds the values a page can
	// claim (parquet-go allocates for them before decoding). Only codecs
	// Parquet writes: parquet-go v0.32.0's LZ4 decoder grows its buffer
	// without bound on corrupt input.
	for g, rg := range md.RowGroups {
		if rg.NumRows < 0 || rg.NumRows > MaxRowGroupRows {
			return fmt.Errorf("row group %d: %d rows, allowed 0..%d", g, rg.NumRows, MaxRowGroupRows)
		}
		for _, cc := range rg.Columns {
			if c := cc.MetaData.Codec; c != format.Snappy && c != format.Zstd && c != format.Uncompressed {
				return fmt.Errorf("column %v: codec %v, want SNAPPY or ZSTD", cc.MetaData.PathInSchema, c)
			}
			if cc.MetaData.NumValues != rg.NumRows {
				return fmt.Errorf("row group %d column %s: %d values in %d rows", g, strings.Join(cc.MetaData.PathInSchema, "."), cc.MetaData.NumValues, rg.NumRows)
			}
		}
	}
	return pqguard.Chunks(body, &md)
}

// noPanic runs a parquet-go call, turning a panic into an error: it panics
// on some corrupt files (slice bounds, nil pointers), and a bad object must
// fail its verification, not crash the run.
func noPanic(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt file: %v", p)
		}
	}()
	return f()
}
