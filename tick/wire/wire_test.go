package wire

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/schema"
)

func sample() tick.Tick {
	return tick.Tick{Symbol: "AAPL", Seq: 42, Intended: 1_764_000_000_123_456_789, Price: 187.25, Size: 300,
		Bid: 187.24, Ask: 187.26, BidSize: 500, AskSize: 700, Exchange: "XNAS"}
}

// variedTicks are valid ticks with every field moving, zeros and extremes
// included (proto3 leaves zero fields out; -0 is written).
func variedTicks(n int) []tick.Tick {
	rng := rand.New(rand.NewPCG(7, 8))
	ts := []tick.Tick{sample(),
		{Symbol: "A", Seq: 0, Intended: 1, Price: math.SmallestNonzeroFloat64, Bid: 1e-300, Ask: 1e300, Exchange: "X"},
		{Symbol: strings.Repeat("Z", tick.MaxSymbolLen), Seq: math.MaxInt64, Intended: math.MaxInt64, Price: 1e308, Size: math.MaxUint32,
			Bid: 5, Ask: 5, BidSize: math.MaxUint32, AskSize: math.MaxUint32, Exchange: "é😀"},
	}
	for len(ts) < n {
		bid := math.Round(rng.Float64()*1e6) / 100
		ts = append(ts, tick.Tick{Symbol: []string{"AAPL", "MSFT", "BRK.B", "T"}[rng.IntN(4)], Seq: rng.Uint64N(1 << 40),
			Intended: 1_700_000_000_000_000_000 + rng.Int64N(1e17), Price: bid + 0.01, Size: rng.Uint32(), Bid: bid + 0.01*float64(rng.IntN(2)),
			Ask: bid + 0.02, BidSize: rng.Uint32N(1e6), AskSize: rng.Uint32N(10), Exchange: []string{"XNAS", "XNYS", "ARCX"}[rng.IntN(3)]})
	}
	return ts
}

func TestParse(t *testing.T) {
	for _, f := range Formats {
		got, err := Parse(f.String())
		if err != nil || got != f {
			t.Errorf("Parse(%q) = %v, %v", f, got, err)
		}
		var u Format
		if b, err := f.MarshalText(); err != nil || u.UnmarshalText(b) != nil || u != f {
			t.Errorf("text round trip of %v: %s, %v -> %v", f, b, err, u)
		}
	}
	for _, bad := range []string{"", "JSON", "xml", "proto"} {
		_, err := Parse(bad)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) || !strings.Contains(err.Error(), "allowed json, avro, protobuf") {
			t.Errorf("Parse(%q) = %v, want an error naming it and the allowed ones", bad, err)
		}
	}
	if err := Format(9).Validate(); err == nil || !strings.Contains(err.Error(), "wire format 9") {
		t.Errorf("Validate(9) = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{DefaultConfig(), ""},
		{Config{}, ""},
		{Config{Format: JSON, Registry: "not a url"}, ""}, // ignored for JSON
		{Config{Format: Avro, Registry: "http://127.0.0.1:8081"}, ""},
		{Config{Format: Avro}, "schema registry: none given for wire format avro"},
		{Config{Format: Protobuf, Registry: "127.0.0.1:8081"}, `schema registry "127.0.0.1:8081": want an http:// or https:// URL`},
		{Config{Format: Avro, Registry: "http://x", Timeout: time.Millisecond}, "schema registry timeout 1ms: allowed 100ms..5m"},
		{Config{Format: 7}, "wire format 7: allowed json, avro, protobuf"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+v: Validate() = %v, want %q", tt.cfg, err, tt.wantErr)
		}
	}
}

// hambaTick is the tick as hamba/avro sees schema.Avro: the reference the
// hand-written codec is held to.
type hambaTick struct {
	Symbol   string  `avro:"symbol"`
	Seq      int64   `avro:"seq"`
	TS       int64   `avro:"ts"`
	Price    float64 `avro:"price"`
	Size     int64   `avro:"size"`
	Bid      float64 `avro:"bid"`
	Ask      float64 `avro:"ask"`
	BidSize  int64   `avro:"bid_size"`
	AskSize  int64   `avro:"ask_size"`
	Exchange string  `avro:"exchange"`
}

func toHamba(t *tick.Tick) hambaTick {
	return hambaTick{t.Symbol, int64(t.Seq), t.Intended, t.Price, int64(t.Size), t.Bid, t.Ask, int64(t.BidSize), int64(t.AskSize), t.Exchange}
}

func fromHamba(h *hambaTick) tick.Tick {
	return tick.Tick{Symbol: h.Symbol, Seq: uint64(h.Seq), Intended: h.TS, Price: h.Price, Size: uint32(h.Size), Bid: h.Bid, Ask: h.Ask,
		BidSize: uint32(h.BidSize), AskSize: uint32(h.AskSize), Exchange: h.Exchange}
}

func toProto(t *tick.Tick) *schema.Tick {
	return &schema.Tick{Symbol: t.Symbol, Seq: t.Seq, Ts: t.Intended, Price: t.Price, Size: t.Size, Bid: t.Bid, Ask: t.Ask,
		BidSize: t.BidSize, AskSize: t.AskSize, Exchange: t.Exchange}
}

func fromProto(p *schema.Tick) tick.Tick {
	return tick.Tick{Symbol: p.Symbol, Seq: p.Seq, Intended: p.Ts, Price: p.Price, Size: p.Size, Bid: p.Bid, Ask: p.Ask,
		BidSize: p.BidSize, AskSize: p.AskSize, Exchange: p.Exchange}
}

// TestAvroMatchesHamba: the hand-written codec writes hamba/avro's bytes
// and reads them back, for every tick.
func TestAvroMatchesHamba(t *testing.T) {
	var strs tick.Strings
	for _, in := range variedTicks(2000) {
		h := toHamba(&in)
		want, err := avro.Marshal(avroTick, &h)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendAvro(nil, &in)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendAvro(%+v) = %x, hamba writes %x", in, got, want)
		}
		var out tick.Tick
		if err := DecodeAvro(want, &out, &strs); err != nil || out != in {
			t.Fatalf("DecodeAvro = %+v, %v; want %+v", out, err, in)
		}
	}
}

// TestProtobufMatchesGenerated: the protowire codec writes proto.Marshal's
// bytes of the generated message and reads them back, for every tick.
func TestProtobufMatchesGenerated(t *testing.T) {
	for _, in := range append(variedTicks(2000), tick.Tick{Symbol: "Z", Intended: 1, Price: math.Copysign(0, -1), Bid: 1, Ask: 1, Exchange: "X"}) {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(&in))
		if err != nil {
			t.Fatal(err)
		}
		got := AppendProtobuf(nil, &in)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendProtobuf(%+v) = %x, proto.Marshal writes %x", in, got, want)
		}
		var out tick.Tick
		err = DecodeProtobuf(want, &out, nil)
		if in.Validate() != nil {
			if err == nil {
				t.Fatalf("DecodeProtobuf accepted the invalid %+v", in)
			}
			continue
		}
		if err != nil || math.Float64bits(out.Price) != math.Float64bits(in.Price) || out != in {
			t.Fatalf("DecodeProtobuf = %+v, %v; want %+v", out, err, in)
		}
	}
}

func TestDecodeAvroErrors(t *testing.T) {
	good := sample()
	enc := AppendAvro(nil, &good)
	with := func(f func(*tick.Tick)) []byte { u := good; f(&u); return AppendAvro(nil, &u) }
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"empty", nil, "field symbol: truncated"},
		{"truncated double", enc[:len(enc)-20], "truncated"},
		{"truncated string", enc[:3], "field symbol: truncated (length 4, 2 bytes left)"},
		{"trailing", append(bytes.Clone(enc), 0), "1 bytes after the last field"},
		{"negative length", append([]byte{0x03}, enc[5:]...), "field symbol: length -2"},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), "field symbol: varint overflows 64 bits"},
		{"not utf-8", with(func(u *tick.Tick) { u.Symbol = "A\xff" }), "field symbol: not UTF-8"},
		{"negative seq", with(func(u *tick.Tick) { u.Seq = math.MaxUint64 }), "seq -1: want >= 0"},
		{"size overflow", AppendAvro(nil, &good)[:0], "truncated"},
		{"invalid tick", with(func(u *tick.Tick) { u.Price = -1 }), "price -1: want > 0"},
	}
	// size as a long past 2^32: hand-assembled.
	h := toHamba(&good)
	h.Size = 1 << 32
	big, _ := avro.Marshal(avroTick, &h)
	tests = append(tests, struct {
		name    string
		in      []byte
		wantErr string
	}{"size past 32 bits", big, "size 4294967296: want 0..4294967295"})
	for _, tt := range tests {
		var got tick.Tick
		err := DecodeAvro(tt.in, &got, nil)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: DecodeAvro = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestDecodeProtobufErrors(t *testing.T) {
	good := sample()
	enc := AppendProtobuf(nil, &good)
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"empty", nil, "symbol \"\""},
		{"truncated", enc[:len(enc)-3], "protobuf tick: field 10: truncated"},
		{"bad tag", []byte{0x00}, "invalid field number"},
		{"end group", []byte{0x0c}, "protobuf tick: field 1: "},
		{"not utf-8", AppendProtobuf(nil, &tick.Tick{Symbol: "\xff"}), "field 1: not UTF-8"},
		{"invalid tick", AppendProtobuf(nil, &tick.Tick{Symbol: "A", Intended: 1, Price: 1, Bid: 2, Ask: 1, Exchange: "X"}), "bid 2 ask 1"},
	}
	for _, tt := range tests {
		var got tick.Tick
		err := DecodeProtobuf(tt.in, &got, nil)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: DecodeProtobuf = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	// Unknown fields are skipped, the last of a repeated field wins.
	extra := protoAppend(enc, func(b []byte) []byte { return append(b, 0xa8, 0x01, 0x05) }) // field 21, varint 5
	extra = append(extra, tagSeq, 7)
	var got tick.Tick
	want := good
	want.Seq = 7
	if err := DecodeProtobuf(extra, &got, nil); err != nil || got != want {
		t.Errorf("with an unknown field and a repeated seq: %+v, %v", got, err)
	}
}

func protoAppend(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }

// TestRegistryReformatting: the tick schemas as Karapace (a real
// Confluent-compatible registry) returns them, reformatted (Avro: keys
// sorted, no spaces; Protobuf: the file comment dropped, trailing comments
// moved above their fields), are still the tick schemas.
func TestRegistryReformatting(t *testing.T) {
	for _, c := range []struct {
		f    Format
		file string
	}{{Avro, "karapace-tick.avsc"}, {Protobuf, "karapace-tick.proto"}} {
		b, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == c.f.Schema().Schema {
			t.Fatalf("%s is the schema as written: not a test of reformatting", c.file)
		}
		if err := sameSchema(1, c.f, sr.Schema{Schema: string(b), Type: c.f.Schema().Type}); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
	}
}

func TestProtoTokens(t *testing.T) {
	reformatted := "syntax=\"proto3\";package tickbench;/* c */option go_package=\"github.com/tickbench/tickbench/tick/schema\";\n" +
		"message Tick{string symbol=1;uint64 seq=2;sfixed64 ts=3;double price=4;uint32 size=5;double bid=6;double ask=7;" +
		"uint32 bid_size=8;uint32 ask_size=9;string exchange=10;}"
	if got := protoTokens(reformatted); got != protoTick {
		t.Fatalf("reformatted schema:\n%s\nwant\n%s", got, protoTick)
	}
	if protoTokens(strings.Replace(schema.Proto, "uint32 size = 5", "uint64 size = 5", 1)) == protoTick {
		t.Fatal("a changed field type reads as the same schema")
	}
}

// testRegistry is an in-process Schema Registry (pkg/sr's srfake, the one
// the embedded stack runs) for the test.
func testRegistry(t testing.TB) *srfake.Registry {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	return reg
}

func newTestDecoder(t testing.TB, f Format, url string) *Decoder {
	t.Helper()
	reg, err := NewRegistry(Config{Format: f, Registry: url})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(f, reg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFramedRoundTrip: the producer's registration, the sink's lookup, and
// every tick back, in each format; the schema ids are those registered
// under <topic>-value.
func TestFramedRoundTrip(t *testing.T) {
	reg := testRegistry(t)
	ctx := t.Context()
	for _, f := range Formats {
		t.Run(f.String(), func(t *testing.T) {
			cfg := Config{Format: f, Registry: reg.URL()}
			enc, err := NewEncoder(ctx, cfg, "ticks")
			if err != nil {
				t.Fatal(err)
			}
			again, err := NewEncoder(ctx, cfg, "ticks")
			if err != nil || again.ID() != enc.ID() {
				t.Fatalf("registering again: id %d, %v; want %d", again.ID(), err, enc.ID())
			}
			var dec *Decoder
			if f.Framed() {
				ss, ok := reg.GetSchema("ticks-value", 1)
				if !ok {
					t.Fatal("nothing registered under ticks-value")
				}
				if f == Avro && ss.ID != enc.ID() || ss.Type != f.Schema().Type && f == Avro {
					t.Fatalf("ticks-value v1 = id %d %v, want the encoder's %d", ss.ID, ss.Type, enc.ID())
				}
				dec = newTestDecoder(t, f, reg.URL())
			} else {
				if dec, err = NewDecoder(JSON, nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, in := range variedTicks(1000) {
				v := enc.Append(nil, &in)
				if f.Framed() && (v[0] != 0 || int(v[1])<<24|int(v[2])<<16|int(v[3])<<8|int(v[4]) != enc.ID()) {
					t.Fatalf("frame %x: want magic 0 and id %d", v[:5], enc.ID())
				}
				var out tick.Tick
				if err := dec.Decode(v, &out); err != nil || out != in {
					t.Fatalf("%s: decoded %+v, %v; want %+v", f, out, err, in)
				}
			}
		})
	}
}

// TestDecodeFrameErrors: every way a framed record is not a tick gives an
// error naming it.
func TestDecodeFrameErrors(t *testing.T) {
	reg := testRegistry(t)
	ctx := t.Context()
	good := sample()
	avroEnc, err := NewEncoder(ctx, Config{Format: Avro, Registry: reg.URL()}, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	protoEnc, err := NewEncoder(ctx, Config{Format: Protobuf, Registry: reg.URL()}, "other")
	if err != nil {
		t.Fatal(err)
	}
	otherID, _, err := reg.RegisterSchema("users-value", sr.Schema{Schema: `{"type":"record","name":"User","fields":[{"name":"id","type":"string"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	av := avroEnc.Append(nil, &good)
	pv := protoEnc.Append(nil, &good)
	withID := func(v []byte, id int) []byte {
		v = bytes.Clone(v)
		v[1], v[2], v[3], v[4] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
		return v
	}
	tests := []struct {
		name    string
		f       Format
		in      []byte
		wantErr string
	}{
		{"empty", Avro, nil, "truncated frame: 0 bytes, want a magic byte 0 and a 4-byte schema id"},
		{"short header", Avro, av[:3], "truncated frame: 3 bytes"},
		{"json on an avro sink", Avro, tick.AppendJSON(nil, &good), "magic byte 0x7b, want 0x00 (a Confluent-framed avro tick)"},
		{"unknown id", Avro, withID(av, 9999), "schema id 9999: not in the registry at " + reg.URL()},
		{"another schema", Avro, withID(av, otherID), "is not the tick schema"},
		{"protobuf id on an avro sink", Avro, withID(av, protoEnc.ID()), "is a PROTOBUF schema: this decoder reads avro ticks"},
		{"truncated payload", Avro, av[:len(av)-4], "avro tick: field exchange: truncated"},
		{"bad payload", Avro, append(bytes.Clone(av[:5]), 0xff, 0xff), "avro tick: field symbol"},
		{"avro id on a protobuf sink", Protobuf, withID(pv, avroEnc.ID()), "is a AVRO schema: this decoder reads protobuf ticks"},
		{"no message index", Protobuf, pv[:5], "truncated message index"},
		{"message index [1]", Protobuf, append(append(bytes.Clone(pv[:5]), 2, 2), pv[6:]...), "message index [1], want [0]"},
		{"bad message index", Protobuf, append(bytes.Clone(pv[:5]), 1), "bad message index"},
		{"truncated protobuf", Protobuf, pv[:len(pv)-2], "protobuf tick: field 10: truncated"},
	}
	for _, tt := range tests {
		d := newTestDecoder(t, tt.f, reg.URL())
		var got tick.Tick
		// Twice: the second answer comes from the cache, the same.
		for range 2 {
			err := d.Decode(tt.in, &got)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Decode = %v, want %q", tt.name, err, tt.wantErr)
			}
			if errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: %v reads as the registry's fault", tt.name, err)
			}
		}
	}
}

// TestRegistryUnavailable: a registry that does not answer, or fails, is
// ErrUnavailable (the sink must stop, not set records aside), and is
// asked again once it is back.
func TestRegistryUnavailable(t *testing.T) {
	reg := testRegistry(t)
	good := sample()
	enc, err := NewEncoder(t.Context(), Config{Format: Avro, Registry: reg.URL()}, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	v := enc.Append(nil, &good)
	failing := true
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if failing {
			http.Error(w, `{"error_code":50001,"message":"store down"}`, http.StatusInternalServerError)
		}
		return failing
	})
	d := newTestDecoder(t, Avro, reg.URL())
	var got tick.Tick
	if err := d.Decode(v, &got); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("Decode with the registry failing = %v, want ErrUnavailable", err)
	}
	failing = false
	if err := d.Decode(v, &got); err != nil || got != good {
		t.Fatalf("Decode once the registry is back = %+v, %v", got, err)
	}

	closed, err := NewRegistry(Config{Format: Avro, Registry: "http://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := closed.Register(context.Background(), "ticks"); err == nil || !strings.Contains(err.Error(), "register the avro tick schema under ticks-value at http://127.0.0.1:1") {
		t.Fatalf("Register at a closed port = %v", err)
	}
	if err := closed.check(1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("check at a closed port = %v, want ErrUnavailable", err)
	}
}

// TestDecodeAllocs: with the ids known, coding allocates nothing per
// record.
func TestDecodeAllocs(t *testing.T) {
	reg := testRegistry(t)
	good := sample()
	for _, f := range Formats {
		enc, err := NewEncoder(t.Context(), Config{Format: f, Registry: reg.URL()}, "ticks-"+f.String())
		if err != nil {
			t.Fatal(err)
		}
		v := enc.Append(nil, &good)
		var d *Decoder
		if f.Framed() {
			d = newTestDecoder(t, f, reg.URL())
		} else {
			d, _ = NewDecoder(JSON, nil)
		}
		var got tick.Tick
		if err := d.Decode(v, &got); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() { d.Decode(v, &got) })
		if allocs != 0 {
			t.Errorf("%s: %v allocations per decode, want 0", f, allocs)
		}
		if allocs := testing.AllocsPerRun(100, func() { enc.Append(v[:0], &good) }); allocs != 0 {
			t.Errorf("%s: %v allocations per encode, want 0", f, allocs)
		}
	}
}

// TestEncoderFrameIsSerdes: the frame the Encoder appends by hand is the
// one pkg/sr's Serde writes (its reference), and a decoder reads the
// Serde's frames, for every varied tick and a schema id of four bytes.
func TestEncoderFrameIsSerdes(t *testing.T) {
	reg := testRegistry(t)
	for _, f := range []Format{Avro, Protobuf} {
		enc, err := NewEncoder(t.Context(), Config{Format: f, Registry: reg.URL()}, "frames")
		if err != nil {
			t.Fatal(err)
		}
		dec := newTestDecoder(t, f, reg.URL())
		for _, id := range []int{enc.ID(), 0x01020304} {
			mine := newEncoder(f, id)
			serde := sr.NewSerde()
			opts := []sr.EncodingOpt{sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) { return AppendAvro(b, v.(*tick.Tick)), nil })}
			if f == Protobuf {
				opts = []sr.EncodingOpt{sr.Index(0), sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) { return AppendProtobuf(b, v.(*tick.Tick)), nil })}
			}
			serde.Register(id, (*tick.Tick)(nil), opts...)
			for _, in := range variedTicks(200) {
				want := serde.MustAppendEncode([]byte("prefix"), &in)
				if got := mine.Append([]byte("prefix"), &in); !bytes.Equal(got, want) {
					t.Fatalf("%s id %d: appended %x, the Serde %x", f, id, got, want)
				}
				if id != enc.ID() {
					continue // not in the registry
				}
				var out tick.Tick
				if err := dec.Decode(want[len("prefix"):], &out); err != nil || out != in {
					t.Fatalf("%s: the Serde's frame decoded to %+v, %v; want %+v", f, out, err, in)
				}
			}
		}
	}
}
