package sink

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tickbench/tickbench/tick"
)

// A Format turns a batch of ticks into one object's bytes.
type Format interface {
	// Name identifies the format in strategies and results ("jsonl").
	Name() string
	// Ext is the object key's extension, without the dot.
	Ext() string
	ContentType() string
	NewEncoder() Encoder
}

// An Encoder builds one object incrementally, so the bytes flush policy can
// look at the encoded size as ticks arrive.
type Encoder interface {
	// Append encodes t; t is reused after the call, so it must not be kept.
	Append(t *tick.Tick) error
	// Len is the encoded size so far (an estimate for columnar formats).
	Len() int
	// Footprint is the memory the encoder holds now: the capacity of its
	// buffers, not just what they hold, plus rows and pages not yet
	// encoded and compressor state. The sink's MaxBuffered counts it.
	Footprint() int
	// Finish returns the object's bytes; the encoder is then Reset.
	Finish() ([]byte, error)
	Reset()
}

// JSONL writes one canonical JSON tick per line: what Athena's OpenX JSON
// SerDe reads, and the seed's data shape.
type JSONL struct{}

func (JSONL) Name() string             { return "jsonl" }
func (JSONL) Ext() string              { return "jsonl" }
func (JSONL) ContentType() string      { return "application/x-ndjson" }
func (JSONL) NewEncoder() Encoder      { return &jsonlEncoder{} }
func (e *jsonlEncoder) Len() int       { return len(e.out.b) }
func (e *jsonlEncoder) Footprint() int { return cap(e.out.b) }
func (e *jsonlEncoder) Reset()         { e.out.b = e.out.b[:0] }
func (e *jsonlEncoder) String() string { return fmt.Sprintf("jsonl(%d bytes)", len(e.out.b)) }

type jsonlEncoder struct{ out appendWriter }

// maxTickJSON is room enough for any valid tick's line.
const maxTickJSON = 512

func (e *jsonlEncoder) Append(t *tick.Tick) error {
	e.out.reserve(maxTickJSON)
	e.out.b = append(tick.AppendJSON(e.out.b, t), '\n')
	return nil
}

// Finish hands over the buffer without copying (see appendWriter.take).
func (e *jsonlEncoder) Finish() ([]byte, error) {
	return e.out.take(), nil
}

// JSON is one JSON tick per object, as the seed writes them (data_N.json):
// used with one record per batch, it is the one-object-per-tick baseline.
// Its bytes are JSON lines, so any number of ticks still reads back.
type JSON struct{}

func (JSON) Name() string        { return "json" }
func (JSON) Ext() string         { return "json" }
func (JSON) ContentType() string { return "application/json" }
func (JSON) NewEncoder() Encoder { return &jsonlEncoder{} }

// Formats lists every format by name: one JSON tick per object, JSON lines
// plain or gzipped, and Parquet with snappy or zstd (NewParquet makes other
// row-group sizes).
var Formats = map[string]Format{
	"json":         JSON{},
	"jsonl":        JSONL{},
	"jsonl.gz":     JSONLGzip{},
	"parquet":      Parquet{},
	"parquet-zstd": Parquet{codec: "zstd"},
}

// FormatByName returns the named format or an error listing the allowed ones.
func FormatByName(name string) (Format, error) {
	if f, ok := Formats[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("format %q: allowed %s", name, strings.Join(slices.Sorted(maps.Keys(Formats)), ", "))
}
