package wire

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tickbench/tickbench/tick"
)

// Encoder appends ticks as record values in one format. Safe for
// concurrent use.
type Encoder struct {
	format Format
	id     int
	serde  *sr.Serde // nil for JSON
}

// NewEncoder returns cfg.Format's encoder for topic's record values; for a
// framed format it first registers the schema (Registry.Register).
func NewEncoder(ctx context.Context, cfg Config, topic string) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Format.Framed() {
		return &Encoder{format: JSON}, nil
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		return nil, err
	}
	id, err := reg.Register(ctx, topic)
	if err != nil {
		return nil, err
	}
	return newEncoder(cfg.Format, id), nil
}

// newEncoder frames f's payloads with schema id.
func newEncoder(f Format, id int) *Encoder {
	e := &Encoder{format: f, id: id, serde: sr.NewSerde()}
	switch f {
	case Avro:
		e.serde.Register(id, (*tick.Tick)(nil), sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) {
			return AppendAvro(b, v.(*tick.Tick)), nil
		}))
	case Protobuf:
		e.serde.Register(id, (*tick.Tick)(nil), sr.Index(0), sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) {
			return AppendProtobuf(b, v.(*tick.Tick)), nil
		}))
	}
	return e
}

// Format is the encoder's format.
func (e *Encoder) Format() Format { return e.format }

// ID is the registered schema's id (0 for JSON).
func (e *Encoder) ID() int { return e.id }

// Append appends t's record value to dst.
func (e *Encoder) Append(dst []byte, t *tick.Tick) []byte {
	if e.serde == nil {
		return tick.AppendJSON(dst, t)
	}
	// The encode functions cannot fail, and the type is registered.
	return e.serde.MustAppendEncode(dst, t)
}

// Decoder decodes record values of one format into ticks, with one string
// per distinct symbol and exchange (tick.Strings). Not safe for concurrent
// use: a sink has one per partition, all sharing one Registry.
type Decoder struct {
	format Format
	reg    *Registry
	serde  *sr.Serde // the ids met so far that name the tick schema; nil for JSON
	strs   tick.Strings
}

// NewDecoder returns a decoder of f; reg (nil for JSON) checks the ids.
func NewDecoder(f Format, reg *Registry) (*Decoder, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Framed() && (reg == nil || reg.cfg.Format != f) {
		return nil, fmt.Errorf("wire format %s: needs a schema registry client for %s", f, f)
	}
	d := &Decoder{format: f, reg: reg}
	if f.Framed() {
		d.serde = sr.NewSerde()
	}
	return d, nil
}

// Decode decodes one record value into t and validates it. Every error
// says what is wrong with the value (wrap ErrUnavailable: nothing is known
// of it, the registry did not answer).
func (d *Decoder) Decode(data []byte, t *tick.Tick) error {
	if d.format == JSON {
		return d.strs.DecodeJSON(data, t)
	}
	err := d.serde.Decode(data, t)
	if !isFrameErr(err) {
		return err
	}
	// A bad frame, or a new schema id: once it is known to name the tick
	// schema (and is registered), decode again.
	if err := d.frameErr(data); err != nil {
		return err
	}
	return d.serde.Decode(data, t)
}

func isFrameErr(err error) bool {
	return errors.Is(err, sr.ErrNotRegistered) || errors.Is(err, sr.ErrBadHeader)
}

// frameErr is why the frame of data is not a tick's, or nil when its
// schema id is new and names the tick schema (then registered).
func (d *Decoder) frameErr(data []byte) error {
	switch {
	case len(data) < 5:
		return fmt.Errorf("truncated frame: %d bytes, want a magic byte 0 and a 4-byte schema id", len(data))
	case data[0] != 0:
		return fmt.Errorf("magic byte 0x%02x, want 0x00 (a Confluent-framed %s tick)", data[0], d.format)
	}
	id, _, _ := d.serde.DecodeID(data)
	if err := d.reg.check(id); err != nil {
		return err
	}
	d.register(id)
	return nil
}

// register has the serde decode id's payloads.
func (d *Decoder) register(id int) {
	decode := func(b []byte, v any) error { return DecodeAvro(b, v.(*tick.Tick), &d.strs) }
	if d.format == Protobuf {
		decode = func(b []byte, v any) error { return decodeIndexed(b, v.(*tick.Tick), &d.strs) }
	}
	d.serde.Register(id, (*tick.Tick)(nil), sr.DecodeFn(decode))
}

// decodeIndexed reads Protobuf's message index, which must be [0] (the
// tick schema's one message), then the payload. The Serde could read the
// index, but allocates twice per record doing so.
func decodeIndexed(b []byte, t *tick.Tick, strs *tick.Strings) error {
	if len(b) > 0 && b[0] == 0 { // the one-byte form of [0]
		return DecodeProtobuf(b[1:], t, strs)
	}
	// At most one level: pkg/sr v1.8.0's DecodeIndex without a bound
	// allocates as many ints as the record's first varint says
	// (FuzzDecodeFrame ran out of memory on 10 bytes).
	index, rest, err := (&sr.ConfluentHeader{}).DecodeIndex(b, 1)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated message index")
	case errors.Is(err, sr.ErrNotRegistered):
		return errors.New("message index of more than one level, want [0]: the tick schema has one message")
	case err != nil:
		return fmt.Errorf("bad message index: %v", err) // not %w: ErrBadHeader is the frame's
	case len(index) != 1 || index[0] != 0:
		return fmt.Errorf("message index %v, want [0]: the tick schema has one message", index)
	}
	return DecodeProtobuf(rest, t, strs)
}
