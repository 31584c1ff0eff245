package wire

import (
	"testing"

	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/proto"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/schema"
)

// benchTicks cycle through varied ticks, so varints and strings vary as
// in a run.
var benchTicks = variedTicks(1024)

// BenchmarkEncode and BenchmarkDecode compare the formats as record
// values (framed, through Encoder and Decoder, the ids known), with their
// size in B/tick; package tick's BenchmarkAppendJSON and
// BenchmarkDecodeJSON are the JSON codec alone, on one tick.
func BenchmarkEncode(b *testing.B) {
	reg := testRegistry(b)
	for _, f := range Formats {
		b.Run(f.String(), func(b *testing.B) {
			enc, err := NewEncoder(b.Context(), Config{Format: f, Registry: reg.URL()}, "ticks")
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, 512)
			var bytes int
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				buf = enc.Append(buf[:0], &benchTicks[i%len(benchTicks)])
				bytes += len(buf)
				i++
			}
			b.ReportMetric(float64(bytes)/float64(i), "B/tick")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	reg := testRegistry(b)
	for _, f := range Formats {
		b.Run(f.String(), func(b *testing.B) {
			enc, err := NewEncoder(b.Context(), Config{Format: f, Registry: reg.URL()}, "ticks")
			if err != nil {
				b.Fatal(err)
			}
			var vals [][]byte
			var size int
			for i := range benchTicks {
				vals = append(vals, enc.Append(nil, &benchTicks[i]))
				size += len(vals[i])
			}
			dec := newBenchDecoder(b, f, reg.URL())
			var t tick.Tick
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := dec.Decode(vals[i%len(vals)], &t); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(size)/float64(len(vals)), "B/tick")
		})
	}
}

func newBenchDecoder(b *testing.B, f Format, url string) *Decoder {
	if f.Framed() {
		return newTestDecoder(b, f, url)
	}
	d, err := NewDecoder(JSON, nil)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// The payload codecs alone, hand-written against the libraries: the
// measurements that chose the hand-written ones.

func BenchmarkAppendAvro(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = AppendAvro(buf[:0], &benchTicks[i%len(benchTicks)])
		i++
	}
}

func BenchmarkAppendAvroHamba(b *testing.B) {
	hs := make([]hambaTick, len(benchTicks))
	for i := range benchTicks {
		hs[i] = toHamba(&benchTicks[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := avro.Marshal(avroTick, &hs[i%len(hs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeAvro(b *testing.B) {
	vals := payloads(AppendAvro)
	var strs tick.Strings
	var t tick.Tick
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := DecodeAvro(vals[i%len(vals)], &t, &strs); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeAvroHamba(b *testing.B) {
	vals := payloads(AppendAvro)
	var h hambaTick
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := avro.Unmarshal(avroTick, vals[i%len(vals)], &h); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAppendProtobuf(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = AppendProtobuf(buf[:0], &benchTicks[i%len(benchTicks)])
		i++
	}
}

func BenchmarkAppendProtobufGenerated(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	i := 0
	var m schema.Tick
	for b.Loop() {
		t := &benchTicks[i%len(benchTicks)]
		// The message is filled per tick, as a producer of ticks must.
		m.Symbol, m.Seq, m.Ts, m.Price, m.Size, m.Bid, m.Ask, m.BidSize, m.AskSize, m.Exchange =
			t.Symbol, t.Seq, t.Intended, t.Price, t.Size, t.Bid, t.Ask, t.BidSize, t.AskSize, t.Exchange
		var err error
		if buf, err = (proto.MarshalOptions{}).MarshalAppend(buf[:0], &m); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeProtobuf(b *testing.B) {
	vals := payloads(AppendProtobuf)
	var strs tick.Strings
	var t tick.Tick
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := DecodeProtobuf(vals[i%len(vals)], &t, &strs); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeProtobufGenerated(b *testing.B) {
	vals := payloads(AppendProtobuf)
	var m schema.Tick
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Reset()
		if err := proto.Unmarshal(vals[i%len(vals)], &m); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func payloads(enc func([]byte, *tick.Tick) []byte) [][]byte {
	var vals [][]byte
	for i := range benchTicks {
		vals = append(vals, enc(nil, &benchTicks[i]))
	}
	return vals
}
