package wire

import (
	"math"
	"testing"

	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/proto"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/schema"
)

// FuzzDecodeAvro holds the hand-written decoder to hamba/avro: whatever it
// accepts, hamba reads the same, and re-encoding gives the same tick.
func FuzzDecodeAvro(f *testing.F) {
	for _, t := range variedTicks(4) {
		f.Add(AppendAvro(nil, &t))
	}
	s := sample()
	enc := AppendAvro(nil, &s)
	f.Add(enc[:len(enc)-1])
	f.Add([]byte{0x03, 'A'})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got tick.Tick
		if DecodeAvro(data, &got, nil) != nil {
			return
		}
		var h hambaTick
		if err := avro.Unmarshal(avroTick, data, &h); err != nil {
			t.Fatalf("accepted what hamba/avro refuses (%v): %x", err, data)
		}
		if ref := fromHamba(&h); !sameTick(ref, got) {
			t.Fatalf("decoded %+v, hamba/avro %+v, from %x", got, ref, data)
		}
		var again tick.Tick
		if err := DecodeAvro(AppendAvro(nil, &got), &again, nil); err != nil || !sameTick(again, got) {
			t.Fatalf("re-encoding %+v gave %+v, %v", got, again, err)
		}
	})
}

// FuzzDecodeProtobuf holds the protowire decoder to proto.Unmarshal of the
// generated message: the same answer (with the tick's validation) and the
// same tick, and re-encoding gives it again.
func FuzzDecodeProtobuf(f *testing.F) {
	for _, t := range variedTicks(4) {
		f.Add(AppendProtobuf(nil, &t))
	}
	s := sample()
	enc := AppendProtobuf(nil, &s)
	f.Add(enc[:len(enc)-1])
	f.Add(append(append([]byte{}, enc...), 0xa8, 0x01, 0x05, 0x0b, 0x0c)) // unknown varint, a group
	f.Add(append(append([]byte{}, enc...), 0x10, 0x07))                   // seq again
	f.Fuzz(func(t *testing.T, data []byte) {
		var got tick.Tick
		err := DecodeProtobuf(data, &got, nil)
		var m schema.Tick
		refErr := proto.Unmarshal(data, &m)
		ref := fromProto(&m)
		if refErr == nil {
			refErr = ref.Validate()
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("DecodeProtobuf: %v, proto.Unmarshal and Validate: %v, for %x", err, refErr, data)
		}
		if err != nil {
			return
		}
		if !sameTick(ref, got) {
			t.Fatalf("decoded %+v, proto.Unmarshal %+v, from %x", got, ref, data)
		}
		var again tick.Tick
		if err := DecodeProtobuf(AppendProtobuf(nil, &got), &again, nil); err != nil || !sameTick(again, got) {
			t.Fatalf("re-encoding %+v gave %+v, %v", got, again, err)
		}
	})
}

// FuzzDecodeFrame feeds whole record values to the sink's decoders of both
// framed formats, against a registry holding both tick schemas: no value
// panics or reads as the registry's fault, and what is accepted encodes
// back to a value that decodes to the same tick.
func FuzzDecodeFrame(f *testing.F) {
	reg := testRegistry(f)
	var encs [len(names)]*Encoder
	for _, fm := range []Format{Avro, Protobuf} {
		enc, err := NewEncoder(f.Context(), Config{Format: fm, Registry: reg.URL()}, "ticks-"+fm.String())
		if err != nil {
			f.Fatal(err)
		}
		encs[fm] = enc
		s := sample()
		v := enc.Append(nil, &s)
		f.Add(v)
		f.Add(v[:5])
		f.Add(v[:len(v)-1])
	}
	f.Add([]byte{})
	f.Add([]byte(`{"symbol":"A"}`))
	f.Add([]byte{0, 0, 0, 0x30, 0x39, 0x02})
	decs := [len(names)]*Decoder{Avro: newTestDecoder(f, Avro, reg.URL()), Protobuf: newTestDecoder(f, Protobuf, reg.URL())}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fm := range []Format{Avro, Protobuf} {
			var got tick.Tick
			err := decs[fm].Decode(data, &got)
			if err != nil {
				if err.Error() == "" || err == ErrUnavailable {
					t.Fatalf("%s: error %q for %x", fm, err, data)
				}
				continue
			}
			var again tick.Tick
			if err := decs[fm].Decode(encs[fm].Append(nil, &got), &again); err != nil || !sameTick(again, got) {
				t.Fatalf("%s: re-encoding %+v gave %+v, %v", fm, got, again, err)
			}
		}
	})
}

// sameTick is == with floats compared by their bits (a decoded -0 is not
// 0).
func sameTick(a, b tick.Tick) bool {
	fa, fb := [3]float64{a.Price, a.Bid, a.Ask}, [3]float64{b.Price, b.Bid, b.Ask}
	for i := range fa {
		if math.Float64bits(fa[i]) != math.Float64bits(fb[i]) {
			return false
		}
	}
	a.Price, a.Bid, a.Ask, b.Price, b.Bid, b.Ask = 0, 0, 0, 0, 0, 0
	return a == b
}
