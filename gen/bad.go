package gen

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
)

// BadKinds names the kinds of record BadRecord makes, each one a way a
// topic's value can fail to be a tick.
var BadKinds = []string{"truncated-json", "not-json", "empty", "missing-field", "wrong-type", "absurd-price", "absurd-quote", "long-symbol"}

// BadRecord turns the valid tick t into a record value of the given kind
// (an index into BadKinds) that tick.DecodeJSON refuses.
func BadRecord(kind int, t *tick.Tick, rng *rand.Rand) []byte {
	line := tick.AppendJSON(nil, t)
	switch BadKinds[kind%len(BadKinds)] {
	case "truncated-json":
		return line[:len(line)/2]
	case "not-json":
		b := make([]byte, 8+rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		b[0] = 0xff // never a JSON start
		return b
	case "empty":
		return []byte{}
	case "missing-field":
		return dropField(line, "price")
	case "wrong-type":
		return bytes.Replace(dropField(line, "size"), []byte("{"), []byte(`{"size":"a hundred",`), 1)
	case "absurd-price":
		u := *t
		u.Price = -u.Price
		return tick.AppendJSON(nil, &u)
	case "absurd-quote":
		u := *t
		u.Bid, u.Ask = u.Ask+1, u.Bid
		return tick.AppendJSON(nil, &u)
	default: // long-symbol
		u := *t
		u.Symbol = strings.Repeat(u.Symbol, 1+2*tick.MaxSymbolLen/max(1, len(u.Symbol)))
		return tick.AppendJSON(nil, &u)
	}
}

// dropField removes "name":value from a flat JSON object of tick.AppendJSON.
func dropField(line []byte, name string) []byte {
	key := []byte(`"` + name + `":`)
	i := bytes.Index(line, key)
	if i < 0 {
		return line
	}
	j := i + len(key)
	for j < len(line) && line[j] != ',' && line[j] != '}' {
		j++
	}
	if j < len(line) && line[j] == ',' {
		j++
	}
	out := append([]byte{}, line[:i]...)
	out = append(out, line[j:]...)
	return bytes.Replace(out, []byte(",}"), []byte("}"), 1)
}

// BadFrameKinds names the kinds of record BadFrame makes: the ways a value
// on a topic of a framed wire format (Avro, Protobuf) can fail to be a
// tick.
var BadFrameKinds = []string{"wrong-magic", "short-frame", "unknown-schema-id", "truncated-payload", "garbage-payload", "json-value", "absurd-price"}

// BadFrame turns the valid tick t into a record value of the given kind
// (an index into BadFrameKinds) that enc's format's decoder refuses; enc
// is a framed format's encoder, whose schema id is registered.
func BadFrame(kind int, t *tick.Tick, enc *wire.Encoder) []byte {
	v := enc.Append(nil, t)
	switch BadFrameKinds[kind%len(BadFrameKinds)] {
	case "wrong-magic":
		v[0] = 1
		return v
	case "short-frame":
		return v[:3]
	case "unknown-schema-id":
		// Far past any id a registry hands out in a run.
		binary.BigEndian.PutUint32(v[1:5], uint32(enc.ID())+1<<30)
		return v
	case "truncated-payload":
		return v[:len(v)-3]
	case "garbage-payload":
		// The frame's header (and message index), then bytes neither
		// format reads: an Avro string of length -1, a Protobuf tag of
		// field 0.
		n := 5
		if enc.Format() == wire.Protobuf {
			n = 6
		}
		return append(v[:n], 0x01, 0x00)
	case "json-value":
		return tick.AppendJSON(nil, t)
	default: // absurd-price: well framed and encoded, not a tick
		u := *t
		u.Price = -u.Price
		return enc.Append(nil, &u)
	}
}
