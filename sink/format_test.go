package sink

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/tick"
)

// formatNames is every registered format, in a stable order.
func formatNames() []string {
	names := make([]string, 0, len(Formats))
	for name := range Formats {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// variedTicks covers what a model's ticks never show: long and non-ASCII
// symbols, sequence numbers out of order and near 2^63, sizes up to
// MaxUint32, prices with full float64 precision, ns in every timestamp, and
// times from 2001 to 2100.
func variedTicks(n int, seed uint64) []tick.Tick {
	rng := rand.New(rand.NewPCG(seed, 1))
	symbols := []string{"A", "BRK.B", "ABCDEFGHIJKLMNOP", "ÄPFEL", "msft", "X-1"}
	exchanges := []string{"XNAS", "XNYS", "a much longer exchange name", "Ω"}
	lo := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	hi := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	ts := make([]tick.Tick, n)
	for i := range ts {
		bid := math.Ldexp(rng.Float64()+0.001, rng.IntN(40)-10)
		ts[i] = tick.Tick{
			Symbol:   symbols[rng.IntN(len(symbols))],
			Seq:      rng.Uint64N(1 << 63),
			Intended: lo + rng.Int64N(hi-lo),
			Price:    bid * (1 + rng.Float64()/100),
			Size:     rng.Uint32(),
			Bid:      bid,
			Ask:      bid * (1 + rng.Float64()/50),
			BidSize:  []uint32{0, 1, math.MaxUint32}[rng.IntN(3)],
			AskSize:  uint32(i),
			Exchange: exchanges[rng.IntN(len(exchanges))],
		}
		switch i {
		case 0:
			ts[i].Seq, ts[i].Size = 0, math.MaxUint32
		case 1:
			ts[i].Seq, ts[i].Intended = math.MaxInt64, 1_000 // 1 µs after the epoch
		}
	}
	return ts
}

// modelTicks are what a run produces: n ticks from the default model, 20 µs
// apart (50,000/s).
func modelTicks(tb testing.TB, n int) []tick.Tick {
	tb.Helper()
	m, err := gen.NewModel(gen.DefaultModelConfig())
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 19, 0, 0, 123_456_789, time.UTC).UnixNano()
	ts := make([]tick.Tick, n)
	for i := range ts {
		m.Next(uint64(i), start+int64(i)*20_000, &ts[i])
	}
	return ts
}

func encode(tb testing.TB, enc Encoder, ts []tick.Tick) []byte {
	tb.Helper()
	for i := range ts {
		if err := enc.Append(&ts[i]); err != nil {
			tb.Fatalf("append tick %d: %v", i, err)
		}
	}
	body, err := enc.Finish()
	if err != nil {
		tb.Fatalf("finish: %v", err)
	}
	return body
}

func readAll(tb testing.TB, f Format, body []byte) []tick.Tick {
	tb.Helper()
	var got []tick.Tick
	if err := ReadTicks(f, body, func(t *tick.Tick) error {
		got = append(got, *t)
		return nil
	}); err != nil {
		tb.Fatalf("read %s: %v", f.Name(), err)
	}
	return got
}

// stored is what f keeps of ts: Parquet keeps whole microseconds.
func stored(f Format, ts []tick.Tick) []tick.Tick {
	out := slices.Clone(ts)
	if _, ok := f.(Parquet); ok {
		for i := range out {
			out[i].Intended -= out[i].Intended % 1000
		}
	}
	return out
}

func sameTicks(t *testing.T, got, want []tick.Tick) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d ticks, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tick %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

func mustParquet(t testing.TB, codec string, rows int) Format {
	t.Helper()
	f, err := NewParquet(codec, rows)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testFormats is every registered format plus Parquet with row groups small
// enough that the test objects span several.
func testFormats(t testing.TB) map[string]Format {
	fs := map[string]Format{}
	for _, name := range formatNames() {
		fs[name] = Formats[name]
	}
	fs["parquet-zstd-rowgroup=1000"] = mustParquet(t, "zstd", 1000)
	return fs
}

func TestRoundTrip(t *testing.T) {
	for name, f := range testFormats(t) {
		t.Run("format="+name, func(t *testing.T) {
			for _, n := range []int{0, 1, 2500} {
				in := variedTicks(n, uint64(n))
				body := encode(t, f.NewEncoder(), in)
				sameTicks(t, readAll(t, f, body), stored(f, in))
			}
		})
	}
}

// TestConsecutiveObjects: an encoder reused after Finish or Reset writes
// objects that stand alone, byte for byte what a new encoder writes (a
// replay must rewrite the same bytes), and a finished object is not touched
// by the next.
func TestConsecutiveObjects(t *testing.T) {
	a, b := variedTicks(1500, 1), variedTicks(1200, 2)
	for name, f := range testFormats(t) {
		t.Run("format="+name, func(t *testing.T) {
			enc := f.NewEncoder()
			bodyA := encode(t, enc, a)
			copyA := slices.Clone(bodyA)
			bodyB := encode(t, enc, b)
			if !bytes.Equal(bodyA, copyA) {
				t.Fatal("finishing the second object changed the first one's bytes")
			}
			sameTicks(t, readAll(t, f, bodyA), stored(f, a))
			sameTicks(t, readAll(t, f, bodyB), stored(f, b))
			if fresh := encode(t, f.NewEncoder(), b); !bytes.Equal(bodyB, fresh) {
				t.Fatalf("second object of a reused encoder (%d bytes) differs from a new encoder's (%d bytes)", len(bodyB), len(fresh))
			}

			// Reset drops a half-built object.
			encode(t, enc, nil)
			for i := range a[:700] {
				if err := enc.Append(&a[i]); err != nil {
					t.Fatal(err)
				}
			}
			enc.Reset()
			if !bytes.Equal(encode(t, enc, b), bodyB) {
				t.Fatal("object after Reset differs from one written by a new encoder")
			}
		})
	}
}

// TestConcurrentEncoders: the sink finishes batches in parallel upload
// goroutines, so encoders of one format (sharing its codec) must not
// interfere; run with -race.
func TestConcurrentEncoders(t *testing.T) {
	ts := variedTicks(3000, 5)
	for name, f := range testFormats(t) {
		t.Run("format="+name, func(t *testing.T) {
			want := encode(t, f.NewEncoder(), ts)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					enc := f.NewEncoder() // encode's Fatalf is for the test goroutine only
					for range 3 {
						for i := range ts {
							if err := enc.Append(&ts[i]); err != nil {
								t.Error(err)
								return
							}
						}
						if got, err := enc.Finish(); err != nil || !bytes.Equal(got, want) {
							t.Errorf("an encoder running beside others wrote different bytes (%v)", err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestLenEstimate: at every 1,000 ticks, Len must have grown and be within
// 2x of the size the object would have if finished there.
func TestLenEstimate(t *testing.T) {
	ts := modelTicks(t, 10_000)
	for name, f := range testFormats(t) {
		if name == "jsonl" {
			continue // exact by construction
		}
		t.Run("format="+name, func(t *testing.T) {
			enc := f.NewEncoder()
			if enc.Len() != 0 {
				t.Fatalf("empty encoder: Len %d", enc.Len())
			}
			prev := 0
			for i := range ts {
				if err := enc.Append(&ts[i]); err != nil {
					t.Fatal(err)
				}
				if n := i + 1; n%1000 == 0 {
					est := enc.Len()
					actual := len(encode(t, f.NewEncoder(), ts[:n]))
					t.Logf("%5d ticks: Len %7d, object %7d (%.2f)", n, est, actual, float64(est)/float64(actual))
					if est <= prev {
						t.Errorf("%d ticks: Len %d did not grow from %d", n, est, prev)
					}
					if est < actual/2 || est > actual*2 {
						t.Errorf("%d ticks: Len %d not within 2x of the object's %d bytes", n, est, actual)
					}
					prev = est
				}
			}
		})
	}
}

func TestNewParquet(t *testing.T) {
	tests := []struct {
		codec    string
		rows     int
		wantName string
		wantErr  string
	}{
		{"snappy", DefaultRowGroupRows, "parquet", ""},
		{"zstd", MinRowGroupRows, "parquet-zstd", ""},
		{"zstd", MaxRowGroupRows, "parquet-zstd", ""},
		{"gzip", DefaultRowGroupRows, "", `parquet codec "gzip": allowed snappy, zstd`},
		{"", DefaultRowGroupRows, "", `parquet codec "": allowed snappy, zstd`},
		{"SNAPPY", DefaultRowGroupRows, "", `parquet codec "SNAPPY": allowed snappy, zstd`},
		{"snappy", 999, "", `parquet row group 999 rows: allowed 1000..10000000`},
		{"snappy", 0, "", `parquet row group 0 rows: allowed 1000..10000000`},
		{"snappy", -5, "", `parquet row group -5 rows: allowed 1000..10000000`},
		{"snappy", MaxRowGroupRows + 1, "", `parquet row group 10000001 rows: allowed 1000..10000000`},
	}
	for _, tt := range tests {
		t.Run(tt.codec+"/"+strconv.Itoa(tt.rows), func(t *testing.T) {
			f, err := NewParquet(tt.codec, tt.rows)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := f.(Parquet)
			if f.Name() != tt.wantName || p.Codec() != tt.codec || p.RowGroupRows() != tt.rows {
				t.Fatalf("got %s codec %s rows %d", f.Name(), p.Codec(), p.RowGroupRows())
			}
		})
	}
}

func TestFormatByName(t *testing.T) {
	for _, name := range formatNames() {
		f, err := FormatByName(name)
		if err != nil || f.Name() != name {
			t.Errorf("FormatByName(%q) = %v, %v", name, f, err)
		}
	}
	_, err := FormatByName("csv")
	if want := `format "csv": allowed json, jsonl, jsonl.gz, parquet, parquet-zstd`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// TestParquetMetadata checks the file as other engines see it: the footer's
// logical types, encodings, codec and the statistics a scan-cost model and
// Athena's row-group skipping read.
func TestParquetMetadata(t *testing.T) {
	all := modelTicks(t, 2500)
	tests := []struct {
		f Format
		n int
	}{
		{Formats["parquet"], 2500},
		{mustParquet(t, "zstd", 1000), 2500},
		{mustParquet(t, "zstd", 1000), 2000}, // no empty row group at the end
	}
	for _, tt := range tests {
		f, ts := tt.f, all[:tt.n]
		t.Run(fmt.Sprintf("format=%s/rowgroup=%d/rows=%d", f.Name(), f.(Parquet).RowGroupRows(), tt.n), func(t *testing.T) {
			// The second object of an encoder: reuse must not spoil it.
			enc := f.NewEncoder()
			encode(t, enc, all[:10])
			body := encode(t, enc, ts)
			file, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			md := file.Metadata()
			if md.NumRows != int64(len(ts)) {
				t.Fatalf("footer: %d rows, want %d", md.NumRows, len(ts))
			}
			wantGroups := (len(ts) + f.(Parquet).RowGroupRows() - 1) / f.(Parquet).RowGroupRows()
			if len(md.RowGroups) != wantGroups {
				t.Fatalf("%d row groups, want %d", len(md.RowGroups), wantGroups)
			}

			elems := map[string]format.SchemaElement{}
			var cols []string
			for _, e := range md.Schema[1:] {
				elems[e.Name] = e
				cols = append(cols, e.Name)
			}
			if want := []string{"symbol", "seq", "ts", "price", "size", "bid", "ask", "bid_size", "ask_size", "exchange"}; !slices.Equal(cols, want) {
				t.Fatalf("columns %v, want %v", cols, want)
			}
			tsType, _ := elems["ts"].LogicalType.Value.(*format.TimestampType)
			if typ, _ := elems["ts"].Type.Get(); typ != format.Int64 || tsType == nil || !tsType.IsAdjustedToUTC {
				t.Fatalf("ts: %+v, want INT64 TIMESTAMP(isAdjustedToUTC=true)", elems["ts"])
			}
			if _, micros := tsType.Unit.Value.(*format.MicroSeconds); !micros {
				t.Fatalf("ts: %v, want unit MICROS", tsType)
			}
			for _, name := range []string{"symbol", "exchange"} {
				if _, ok := elems[name].LogicalType.Value.(*format.StringType); !ok {
					t.Errorf("%s: logical type %v, want STRING", name, elems[name].LogicalType.Value)
				}
			}

			wantEnc := map[string]format.Encoding{
				"symbol": format.RLEDictionary, "exchange": format.RLEDictionary, "size": format.RLEDictionary,
				"seq": format.DeltaBinaryPacked, "ts": format.DeltaBinaryPacked, "price": format.Plain,
			}
			wantCodec := map[string]format.CompressionCodec{"parquet": format.Snappy, "parquet-zstd": format.Zstd}[f.Name()]
			for g, rg := range md.RowGroups {
				lo, hi := g*f.(Parquet).RowGroupRows(), min((g+1)*f.(Parquet).RowGroupRows(), len(ts))
				for i, cc := range rg.Columns {
					cm := cc.MetaData
					name := cols[i]
					if !slices.Equal(cm.PathInSchema, []string{name}) {
						t.Errorf("row group %d column %d: path_in_schema %q, want [%q]", g, i, cm.PathInSchema, name)
					}
					if cm.Codec != wantCodec {
						t.Errorf("row group %d %s: codec %v, want %v", g, name, cm.Codec, wantCodec)
					}
					if enc, ok := wantEnc[name]; ok && !slices.Contains(cm.Encoding, enc) {
						t.Errorf("row group %d %s: encodings %v, want %v", g, name, cm.Encoding, enc)
					}
					if cm.Statistics.MinValue == nil || cm.Statistics.MaxValue == nil {
						t.Errorf("row group %d %s: no min/max statistics", g, name)
					}
				}
				// The statistics must be the group's real range: a scan-cost
				// model skips row groups by them.
				minMax := func(col int) (int64, int64) {
					s := rg.Columns[col].MetaData.Statistics
					return parquet.Int64Type.Kind().Value(s.MinValue).Int64(), parquet.Int64Type.Kind().Value(s.MaxValue).Int64()
				}
				if lo64, hi64 := minMax(2); lo64 != ts[lo].Intended/1000 || hi64 != ts[hi-1].Intended/1000 {
					t.Errorf("row group %d ts statistics [%d, %d], want [%d, %d]", g, lo64, hi64, ts[lo].Intended/1000, ts[hi-1].Intended/1000)
				}
				if lo64, hi64 := minMax(1); lo64 != int64(lo) || hi64 != int64(hi-1) {
					t.Errorf("row group %d seq statistics [%d, %d], want [%d, %d]", g, lo64, hi64, lo, hi-1)
				}
			}
		})
	}
}

func TestReadTicksErrors(t *testing.T) {
	good := variedTicks(3, 7)
	var lines []byte
	for i := range good {
		lines = append(tick.AppendJSON(lines, &good[i]), '\n')
	}
	badThird := append(bytes.Clone(lines[:bytes.LastIndexByte(lines[:len(lines)-1], '\n')+1]), "{\"symbol\":\"X\"}\n"...)
	gz := encode(t, JSONLGzip{}.NewEncoder(), good)
	pq := encode(t, Formats["parquet"].NewEncoder(), good)

	tests := []struct {
		name    string
		f       Format
		body    []byte
		wantErr string
	}{
		{"jsonl bad line", JSONL{}, badThird, `line 3: missing field "seq"`},
		{"jsonl not json", JSONL{}, []byte("\n"), "line 1: not a JSON tick"},
		{"jsonl line too long", JSONL{}, bytes.Repeat([]byte("x"), maxLine+1), "line 1: bufio.Scanner: token too long"},
		{"gzip not gzip", JSONLGzip{}, lines, "gzip: invalid header"},
		{"gzip truncated", JSONLGzip{}, gz[:len(gz)-4], "unexpected EOF"},
		{"gzip checksum", JSONLGzip{}, append(bytes.Clone(gz[:len(gz)-8]), 0, 0, 0, 0, 3, 0, 0, 0), "checksum"},
		{"parquet not parquet", Formats["parquet"], lines, "parquet: "},
		{"parquet truncated", Formats["parquet"], pq[:len(pq)-10], "parquet: "},
		{"parquet invalid tick", Formats["parquet"], encode(t, Formats["parquet"].NewEncoder(), []tick.Tick{good[0], {Symbol: "X"}}), "row 2: ts 0"},
		{"unknown format", fakeFormat{}, lines, "read fake objects: not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ReadTicks(tt.f, tt.body, func(*tick.Tick) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}

	// fn's error stops the read and comes back as is.
	stop := errors.New("stop")
	for _, name := range formatNames() {
		f := Formats[name]
		calls := 0
		err := ReadTicks(f, encode(t, f.NewEncoder(), good), func(*tick.Tick) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("%s: error %v after %d calls, want stop after 1", name, err, calls)
		}
	}
}

type fakeFormat struct{ JSONL }

func (fakeFormat) Name() string { return "fake" }

// FuzzReadTicks: no object, however corrupt, may panic the reader; whatever
// it accepts must be valid ticks.
func FuzzReadTicks(f *testing.F) {
	names := formatNames()
	ts := variedTicks(20, 3)
	for i, name := range names {
		body := encode(f, Formats[name].NewEncoder(), ts)
		f.Add(byte(i), body)
		f.Add(byte(i), body[:len(body)/2])
	}
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		format := Formats[names[int(which)%len(names)]]
		_ = ReadTicks(format, body, func(tk *tick.Tick) error {
			if err := tk.Validate(); err != nil {
				t.Fatalf("%s: read an invalid tick %+v: %v", format.Name(), tk, err)
			}
			return nil
		})
	})
}

// TestParquetReadByPyarrow has an independent reader (pyarrow, in a venv
// that scripts/pyenv.sh builds once) open our files and compare every value
// with the same ticks as JSON lines. It fails rather than skips when Python
// or pyarrow is missing: unreadable Parquet is what it guards against.
func TestParquetReadByPyarrow(t *testing.T) {
	root := testrepo.Root(t)
	start := time.Now()
	out, err := exec.CommandContext(t.Context(), "bash", filepath.Join(root, "scripts", "pyenv.sh")).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("pyenv.sh stderr:\n%s", ee.Stderr)
		}
		t.Fatalf("scripts/pyenv.sh: %v", err)
	}
	python := strings.TrimSpace(string(out))
	t.Logf("pyenv.sh: %s in %v", python, time.Since(start).Round(time.Millisecond))

	ts := append(modelTicks(t, 2500), variedTicks(500, 9)...)
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "ticks.jsonl")
	if err := os.WriteFile(jsonl, encode(t, JSONL{}.NewEncoder(), ts), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Formats["parquet"], mustParquet(t, "zstd", 1000)} {
		// An encoder's second object, where writer reuse bugs would show.
		enc := f.NewEncoder()
		encode(t, enc, ts[:10])
		path := filepath.Join(dir, f.Name()+".parquet")
		if err := os.WriteFile(path, encode(t, enc, ts), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(t.Context(), python, filepath.Join(root, "scripts", "check_parquet.py"),
			path, strconv.Itoa(len(ts)), "--expect-jsonl", jsonl)
		out, err := cmd.CombinedOutput()
		t.Logf("check_parquet.py %s:\n%s", f.Name(), out)
		if err != nil {
			t.Fatalf("pyarrow rejected %s: %v", f.Name(), err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	ts := modelTicks(b, 10_000)
	for _, name := range formatNames() {
		f := Formats[name]
		b.Run("format="+name, func(b *testing.B) {
			enc := f.NewEncoder()
			b.ReportAllocs()
			bytes := 0
			for b.Loop() {
				bytes += len(encode(b, enc, ts))
			}
			n := float64(b.N) * float64(len(ts))
			b.ReportMetric(n/b.Elapsed().Seconds(), "ticks/s")
			b.ReportMetric(float64(bytes)/n, "bytes/tick")
		})
	}
}

func BenchmarkReadTicks(b *testing.B) {
	ts := modelTicks(b, 10_000)
	for _, name := range formatNames() {
		f := Formats[name]
		b.Run("format="+name, func(b *testing.B) {
			body := encode(b, f.NewEncoder(), ts)
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				if err := ReadTicks(f, body, func(*tick.Tick) error { n++; return nil }); err != nil || n != len(ts) {
					b.Fatalf("read %d ticks: %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N)*float64(len(ts))/b.Elapsed().Seconds(), "ticks/s")
			b.ReportMetric(float64(len(body))/float64(len(ts)), "bytes/tick")
		})
	}
}
