package sink

import (
	"fmt"

	"github.com/klauspost/compress/gzip"
	"github.com/tickbench/tickbench/tick"
)

// JSONLGzip is JSONL compressed with gzip at the default level: the same
// lines as JSONL in about a sixth of the bytes, and Athena bills JSON by the
// bytes it reads as stored. klauspost/compress rather than compress/gzip
// because the standard library's deflate is the bottleneck of the sink at
// about 280k ticks/s; this one does over 1M.
type JSONLGzip struct{}

func (JSONLGzip) Name() string        { return "jsonl.gz" }
func (JSONLGzip) Ext() string         { return "jsonl.gz" }
func (JSONLGzip) ContentType() string { return "application/x-ndjson" }

func (JSONLGzip) NewEncoder() Encoder {
	e := &gzipEncoder{}
	e.zw = gzip.NewWriter(&e.out)
	return e
}

// gzipEncoder keeps one gzip writer for all its objects: Reset reuses its
// compressor state, which is most of what a new writer would allocate.
type gzipEncoder struct {
	out  appendWriter
	zw   *gzip.Writer
	line []byte
	in   int // uncompressed bytes of this object so far
	seen int // in when out last grew: about the input already compressed
	err  error
}

// gzipHeaderLen is what the first Write emits before any compressed data
// (a gzip header with no name, comment or extra field).
const gzipHeaderLen = 10

// gzipRatioGuess is compressed/uncompressed before the compressor has
// emitted its first block; canonical tick lines measure about 1/6.
const gzipRatioGuess = 0.2

func (e *gzipEncoder) Append(t *tick.Tick) error {
	if e.err != nil {
		return e.err
	}
	e.line = append(tick.AppendJSON(e.line[:0], t), '\n')
	before := len(e.out.b)
	if _, err := e.zw.Write(e.line); err != nil {
		e.err = fmt.Errorf("gzip: %w", err)
		return e.err
	}
	e.in += len(e.line)
	if len(e.out.b) > before && before > 0 {
		e.seen = e.in
	}
	return nil
}

// Len is the compressed bytes emitted so far plus the input the compressor
// still holds (at most one deflate block), counted at the ratio this object
// has achieved so far. It depends only on this object's ticks, so a batch
// cut by bytes is cut at the same tick on a replay.
func (e *gzipEncoder) Len() int {
	n := len(e.out.b)
	pending := e.in - e.seen
	if e.seen == 0 {
		return n + int(float64(pending)*gzipRatioGuess)
	}
	return n + pending*(n-gzipHeaderLen)/e.seen
}

// gzipStateBytes is what a klauspost gzip writer at the default level
// holds between objects (hash tables, window, block buffers), measured as
// heap growth per writer (TestFootprintMatchesHeap).
const gzipStateBytes = 1_080_000

// Footprint is the compressed bytes' buffer, the line buffer and the
// compressor's state.
func (e *gzipEncoder) Footprint() int { return cap(e.out.b) + cap(e.line) + gzipStateBytes }

// Finish closes the gzip stream and hands over its bytes; like JSONL's, the
// next object starts in a new buffer since the uploader still holds this
// one.
func (e *gzipEncoder) Finish() ([]byte, error) {
	err := e.err
	if err == nil {
		if err = e.zw.Close(); err != nil {
			err = fmt.Errorf("gzip: %w", err)
		}
	}
	return e.out.finish(err, e.Reset)
}

func (e *gzipEncoder) Reset() {
	e.out.b = e.out.b[:0]
	e.zw.Reset(&e.out)
	e.in, e.seen, e.err = 0, 0, nil
}

// appendWriter collects an object's bytes in a slice the encoder can hand
// over whole in Finish.
type appendWriter struct {
	b []byte
	// hint is the last object's size, up to maxHint: the next object's
	// first allocation, so a steady stream of like-sized objects grows no
	// buffer, while a spare encoder between objects holds none.
	hint int
}

const maxHint = 4 << 20

// reserve makes room for n more bytes: the object's first buffer is hint
// big; later ones double up to maxHint (appending's 1.25x steps would
// allocate and copy a typical object about five times over), then grow by
// a quarter, so that one step past the memory cap stays small.
func (w *appendWriter) reserve(n int) {
	if cap(w.b)-len(w.b) >= n {
		return
	}
	grown := 2 * cap(w.b)
	if cap(w.b) >= maxHint {
		grown = cap(w.b) + cap(w.b)/4
	}
	nb := make([]byte, len(w.b), max(grown, len(w.b)+n, w.hint, 4096))
	copy(nb, w.b)
	w.b = nb
}

// take hands over the bytes written so far; the uploader holds them, so
// the next object starts a buffer of its own (at its first write).
func (w *appendWriter) take() []byte {
	b := w.b
	w.hint = min(len(b)+len(b)/8, maxHint) // headroom: the next may be a little bigger
	w.b = nil
	return b
}

// finish ends an encoder's object: its bytes unless err spoiled them,
// and the encoder reset either way.
func (w *appendWriter) finish(err error, reset func()) ([]byte, error) {
	var body []byte
	if err == nil {
		body = w.take()
	}
	reset()
	return body, err
}

func (w *appendWriter) Write(p []byte) (int, error) {
	w.reserve(len(p))
	w.b = append(w.b, p...)
	return len(p), nil
}
