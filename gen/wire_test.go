package gen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
)

// TestProducerWire: with a framed wire format the producer registers the
// tick schema under <topic>-value at its start and every record is a
// framed tick of that schema, the same ticks the JSON run sends.
func TestProducerWire(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	const n = 300
	run := func(f wire.Format) []tick.Tick {
		c, cl := cluster(t)
		model, err := NewModel(DefaultModelConfig())
		if err != nil {
			t.Fatal(err)
		}
		p := &Producer{Client: cl, Topic: "ticks", Source: model, Pacer: Unlimited{Count: n},
			Wire: wire.Config{Format: f, Registry: reg.URL()}}
		res, err := p.Run(context.Background())
		if err != nil || res.Acked != n {
			t.Fatalf("%s: %+v, %v", f, res, err)
		}
		decode := tick.DecodeJSON
		if f.Framed() {
			r, err := wire.NewRegistry(p.Wire)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := wire.NewDecoder(f, r)
			if err != nil {
				t.Fatal(err)
			}
			decode = dec.Decode
		}
		got := consumeWith(t, c, n, decode)
		// Sorted by seq: partitions interleave.
		out := make([]tick.Tick, n)
		for _, tk := range got {
			out[tk.Seq] = tk
		}
		return out
	}
	want := run(wire.JSON)
	for _, f := range []wire.Format{wire.Avro, wire.Protobuf} {
		got := run(f)
		for i := range want {
			// The intended times are the run's own; the model's fields
			// are the same.
			got[i].Intended = want[i].Intended
			if got[i] != want[i] {
				t.Fatalf("%s tick %d: %+v, JSON %+v", f, i, got[i], want[i])
			}
		}
	}
	if !reg.SubjectExists("ticks-value") {
		t.Fatal("nothing registered under ticks-value")
	}
}

// TestProducerWireNeedsRegistry: a framed format without a registry, or
// with one that does not answer, fails the run before any tick is sent.
func TestProducerWireNeedsRegistry(t *testing.T) {
	_, cl := cluster(t)
	model, err := NewModel(DefaultModelConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cfg     wire.Config
		wantErr string
	}{
		{wire.Config{Format: wire.Avro}, "schema registry: none given for wire format avro"},
		{wire.Config{Format: wire.Protobuf, Registry: "http://127.0.0.1:1", Timeout: time.Second}, "register the protobuf tick schema under ticks-value"},
	} {
		p := &Producer{Client: cl, Topic: "ticks", Source: model, Pacer: Unlimited{Count: 10}, Wire: tt.cfg}
		res, err := p.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || res.Sent != 0 {
			t.Errorf("%+v: %+v, %v; want nothing sent and %q", tt.cfg, res, err, tt.wantErr)
		}
	}
}

// Every kind of bad framed record is refused by the sink's decoder of its
// format, and the valid tick it was made from is not.
func TestBadFramesAreRefused(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	m, err := NewModel(DefaultModelConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []wire.Format{wire.Avro, wire.Protobuf} {
		cfg := wire.Config{Format: f, Registry: reg.URL()}
		enc, err := wire.NewEncoder(t.Context(), cfg, "ticks")
		if err != nil {
			t.Fatal(err)
		}
		r, err := wire.NewRegistry(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := wire.NewDecoder(f, r)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			var good, back tick.Tick
			m.Next(uint64(i), 1_700_000_000_000_000_000+int64(i), &good)
			if err := dec.Decode(enc.Append(nil, &good), &back); err != nil || back != good {
				t.Fatalf("%s: valid tick %+v refused: %v", f, good, err)
			}
			kind := i % len(BadFrameKinds)
			v := BadFrame(kind, &good, enc)
			if err := dec.Decode(v, &back); err == nil {
				t.Fatalf("%s: %s record %x decoded as a tick", f, BadFrameKinds[kind], v)
			}
		}
	}
}
