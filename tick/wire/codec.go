package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tickbench/tickbench/tick"
)

// Encoder appends ticks as record values in one format. Safe for
// concurrent use.
type Encoder struct {
	format Format
	id     int
	// header is the Confluent frame before each payload: the magic byte
	// 0, the schema id (4 bytes, big endian) and for Protobuf the message
	// index [0] in its one-byte form; nil for JSON. Appended by hand, it
	// is the bytes pkg/sr's Serde writes (TestEncoderFrameIsSerdes), at a
	// third of its cost per record: the Serde looks the value's type up in
	// a map and calls the payload's encoder through an interface.
	header []byte
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
	h := []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	if f == Protobuf {
		h = append(h, 0) // message index [0]: the schema's one message
	}
	return &Encoder{format: f, id: id, header: h}
}

// Format is the encoder's format.
func (e *Encoder) Format() Format { return e.format }

// ID is the registered schema's id (0 for JSON).
func (e *Encoder) ID() int { return e.id }

// Append appends t's record value to dst.
func (e *Encoder) Append(dst []byte, t *tick.Tick) []byte {
	switch e.format {
	case Avro:
		return AppendAvro(append(dst, e.header...), t)
	case Protobuf:
		return AppendProtobuf(append(dst, e.header...), t)
	}
	return tick.AppendJSON(dst, t)
}

// Decoder decodes record values of one format into ticks, with one string
// per distinct symbol and exchange (tick.Strings). Not safe for concurrent
// use: a sink has one per partition, all sharing one Registry.
type Decoder struct {
	format Format
	reg    *Registry
	// ids are the schema ids met so far that name the tick schema (one,
	// unless the subject's schema was registered again): the frame is
	// read by hand, as pkg/sr's Serde would, without its map lookups and
	// interface calls per record.
	ids  []int
	strs tick.Strings
}

// NewDecoder returns a decoder of f; reg (nil for JSON) checks the ids.
func NewDecoder(f Format, reg *Registry) (*Decoder, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Framed() && (reg == nil || reg.cfg.Format != f) {
		return nil, fmt.Errorf("wire format %s: needs a schema registry client for %s", f, f)
	}
	return &Decoder{format: f, reg: reg}, nil
}

// Decode decodes one record value into t and validates it. Every error
// says what is wrong with the value (wrap ErrUnavailable: nothing is known
// of it, the registry did not answer).
func (d *Decoder) Decode(data []byte, t *tick.Tick) error {
	switch {
	case d.format == JSON:
		return d.strs.DecodeJSON(data, t)
	case len(data) < 5:
		return fmt.Errorf("truncated frame: %d bytes, want a magic byte 0 and a 4-byte schema id", len(data))
	case data[0] != 0:
		return fmt.Errorf("magic byte 0x%02x, want 0x00 (a Confluent-framed %s tick)", data[0], d.format)
	}
	if id := int(binary.BigEndian.Uint32(data[1:5])); !slices.Contains(d.ids, id) {
		// A new id: decoded only once it is known to name the tick schema.
		if err := d.reg.check(id); err != nil {
			return err
		}
		d.ids = append(d.ids, id)
	}
	if d.format == Protobuf {
		return decodeIndexed(data[5:], t, &d.strs)
	}
	return DecodeAvro(data[5:], t, &d.strs)
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
