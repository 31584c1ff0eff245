// Package pqguard checks the Thrift structures of a Parquet object (footer,
// page headers, page index, bloom filter headers) before parquet-go decodes
// them. parquet-go v0.32.0 trusts a container's element count: it makes a
// slice of that length before it notices the bytes ran out, so a footer
// whose schema claims 2^31-1 elements asks for 192 GiB and the Go runtime
// dies of "out of memory", which no recover catches. In the compact
// protocol every container element takes at least one byte, so a count
// larger than the bytes left is corrupt, and a walk that refuses it costs
// O(len) time and no allocation. Page headers' value counts, which parquet-go
// also allocates for, are checked against the column metadata (Chunks).
package pqguard

import (
	"encoding/binary"
	"fmt"
)

// MaxDepth bounds the nesting of structs, lists, sets and maps. Parquet's
// deepest structure (a schema element's logical type) nests five levels.
const MaxDepth = 32

// Compact-protocol wire types.
const (
	typeStop   = 0
	typeTrue   = 1
	typeFalse  = 2
	typeByte   = 3
	typeI16    = 4
	typeI32    = 5
	typeI64    = 6
	typeDouble = 7
	typeBinary = 8
	typeList   = 9
	typeSet    = 10
	typeMap    = 11
	typeStruct = 12
	typeUUID   = 13
)

var typeNames = [...]string{"stop", "bool", "bool", "byte", "i16", "i32", "i64", "double", "binary", "list", "set", "map", "struct", "uuid"}

// minSize is the fewest bytes an element of each type takes in a list, set
// or map: bools there are a byte each, unlike bool fields.
var minSize = [...]int{typeTrue: 1, typeFalse: 1, typeByte: 1, typeI16: 1, typeI32: 1, typeI64: 1,
	typeDouble: 8, typeBinary: 1, typeList: 1, typeSet: 1, typeMap: 1, typeStruct: 1, typeUUID: 16}

// Struct walks the compact-protocol struct at the start of b and returns
// how many bytes it takes. It fails on truncation, on a container whose
// count exceeds the bytes left, on nesting deeper than MaxDepth, on
// unknown wire types and on varints too long for their type. Bytes after
// the struct are not looked at.
func Struct(b []byte) (int, error) {
	w := walker{b: b}
	if err := w.strct(0); err != nil {
		return 0, err
	}
	return w.off, nil
}

type walker struct {
	b   []byte
	off int
}

func (w *walker) left() int { return len(w.b) - w.off }

func (w *walker) errorf(format string, args ...any) error {
	return fmt.Errorf("%s (at byte %d of %d)", fmt.Sprintf(format, args...), w.off, len(w.b))
}

func (w *walker) byte() (byte, error) {
	if w.off >= len(w.b) {
		return 0, w.errorf("truncated")
	}
	c := w.b[w.off]
	w.off++
	return c, nil
}

// uvarint reads a varint whose value fits in bits bits.
func (w *walker) uvarint(what string, bits uint) (uint64, error) {
	v, n := binary.Uvarint(w.b[w.off:])
	switch {
	case n == 0:
		return 0, w.errorf("truncated %s", what)
	case n < 0 || (bits < 64 && v>>bits != 0):
		return 0, w.errorf("%s varint overflows %d bits", what, bits)
	}
	w.off += n
	return v, nil
}

func (w *walker) skip(n int, what string) error {
	if n > w.left() {
		return w.errorf("%s of %d bytes in %d bytes", what, n, w.left())
	}
	w.off += n
	return nil
}

func (w *walker) strct(depth int) error {
	if depth >= MaxDepth {
		return w.errorf("nested deeper than %d", MaxDepth)
	}
	for {
		h, err := w.byte()
		if err != nil {
			return err
		}
		t := h & 0xF
		if t == typeStop {
			return nil
		}
		if h>>4 == 0 { // field id in a zigzag varint, not a delta
			if _, err := w.uvarint("field id", 16); err != nil {
				return err
			}
		}
		if t == typeTrue || t == typeFalse { // a bool field's value is its type
			continue
		}
		if err := w.value(t, depth); err != nil {
			return err
		}
	}
}

func (w *walker) value(t byte, depth int) error {
	switch t {
	case typeTrue, typeFalse, typeByte:
		return w.skip(1, typeNames[t])
	case typeI16:
		_, err := w.uvarint("i16", 16)
		return err
	case typeI32:
		_, err := w.uvarint("i32", 32)
		return err
	case typeI64:
		_, err := w.uvarint("i64", 64)
		return err
	case typeDouble:
		return w.skip(8, "double")
	case typeUUID:
		return w.skip(16, "uuid")
	case typeBinary:
		n, err := w.uvarint("binary length", 31)
		if err != nil {
			return err
		}
		return w.skip(int(n), "binary")
	case typeList, typeSet:
		h, err := w.byte()
		if err != nil {
			return err
		}
		et, n := h&0xF, uint64(h>>4)
		if n == 15 {
			if n, err = w.uvarint(typeNames[t]+" size", 31); err != nil {
				return err
			}
		}
		return w.elements(typeNames[t], n, "elements", depth, et)
	case typeMap:
		n, err := w.uvarint("map size", 31)
		if err != nil || n == 0 {
			return err
		}
		h, err := w.byte()
		if err != nil {
			return err
		}
		return w.elements("map", n, "entries", depth, h>>4, h&0xF)
	case typeStruct:
		return w.strct(depth + 1)
	default:
		return w.errorf("unknown wire type %d", t)
	}
}

// elements walks n elements of a container, each made of one value of
// each of types (one for lists and sets, key and value for maps).
func (w *walker) elements(kind string, n uint64, unit string, depth int, types ...byte) error {
	if depth+1 >= MaxDepth {
		return w.errorf("nested deeper than %d", MaxDepth)
	}
	size := 0
	for _, t := range types {
		if t == typeStop || int(t) >= len(minSize) {
			return w.errorf("%s of unknown wire type %d", kind, t)
		}
		size += minSize[t]
	}
	if n > uint64(w.left()/size) {
		return w.errorf("%s of %d %s in %d bytes", kind, n, unit, w.left())
	}
	for range n {
		for _, t := range types {
			if err := w.value(t, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
