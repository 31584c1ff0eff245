package tick

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends t as one compact JSON object (no trailing newline) in
// the canonical field order that DecodeJSON's fast path expects.
func AppendJSON(dst []byte, t *Tick) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, t.Symbol)
	dst = append(dst, `,"seq":`...)
	dst = appendUint(dst, t.Seq)
	dst = append(dst, `,"ts":`...)
	dst = appendInt(dst, t.Intended)
	dst = append(dst, `,"price":`...)
	dst = appendPrice(dst, t.Price)
	dst = append(dst, `,"size":`...)
	dst = appendUint(dst, uint64(t.Size))
	dst = append(dst, `,"bid":`...)
	dst = appendPrice(dst, t.Bid)
	dst = append(dst, `,"ask":`...)
	dst = appendPrice(dst, t.Ask)
	dst = append(dst, `,"bid_size":`...)
	dst = appendUint(dst, uint64(t.BidSize))
	dst = append(dst, `,"ask_size":`...)
	dst = appendUint(dst, uint64(t.AskSize))
	dst = append(dst, `,"exchange":`...)
	dst = appendString(dst, t.Exchange)
	return append(dst, '}')
}

// appendPrice appends v as strconv.AppendFloat(dst, v, 'f', -1, 64) does,
// faster for whole cents (every price the model makes): the double nearest
// a decimal with two places or fewer has that decimal, minus trailing
// zeros, as its shortest form.
func appendPrice(dst []byte, v float64) []byte {
	c := math.Round(v * 100)
	if v < 0 || c >= 1<<53 || c/100 != v {
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	cents := uint64(c)
	dst = appendUint(dst, cents/100)
	switch f := cents % 100; {
	case f == 0:
	case f%10 == 0:
		dst = append(dst, '.', byte('0'+f/10))
	default:
		dst = append(dst, '.', byte('0'+f/10), byte('0'+f%10))
	}
	return dst
}

// digitPairs is "00" to "99", two bytes a pair.
var digitPairs = func() (p [200]byte) {
	for i := range 100 {
		p[2*i], p[2*i+1] = byte('0'+i/10), byte('0'+i%10)
	}
	return p
}()

// upow10 is 10^0 to 10^19, every power of ten a uint64 holds.
var upow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// decimalLen is the number of decimal digits of v (1 for 0).
func decimalLen(v uint64) int {
	// bits.Len64 * 1233 >> 12 is floor(log10) or one more (1233/4096
	// is just over log10(2)); the table settles which. v|1 makes 0 count
	// as 1 and changes nothing else (every power past 10^0 is even).
	v |= 1
	t := bits.Len64(v) * 1233 >> 12
	if v < upow10[t] {
		return t
	}
	return t + 1
}

// appendUint appends v in decimal, as strconv.AppendUint(dst, v, 10) does,
// writing the digits in place two at a time (strconv formats into a buffer
// of its own and copies it, which the generator paid for on every field).
func appendUint(dst []byte, v uint64) []byte {
	n := decimalLen(v)
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	b := dst[l:]
	for v >= 100 {
		q := v / 100
		r := 2 * (v - q*100)
		n -= 2
		b[n], b[n+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	if v >= 10 {
		b[0], b[1] = digitPairs[2*v], digitPairs[2*v+1]
	} else {
		b[0] = byte('0' + v)
	}
	return dst
}

// appendInt is appendUint for a signed v.
func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		// -v overflows for math.MinInt64, whose bits as a uint64 are
		// still its magnitude.
		return appendUint(append(dst, '-'), uint64(-v))
	}
	return appendUint(dst, uint64(v))
}

// appendString appends s as a JSON string. (strconv.AppendQuote writes Go
// syntax: \x7f and \U0001f600 are not JSON.) Control characters and DEL
// become \u00XX, invalid UTF-8 becomes U+FFFD, the rest is copied.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
		}
	}
	return append(dst, '"')
}

// DecodeJSON parses one JSON tick and validates it. Records in the canonical
// form AppendJSON writes take an allocation-light fast path; anything else
// (other field order, whitespace, escapes) is parsed by encoding/json, which
// gives the definitive answer. Missing fields are errors.
func DecodeJSON(data []byte, t *Tick) error {
	return decodeJSON(data, t, nil)
}

// Strings keeps one copy of each symbol and exchange it has decoded, so
// that a decoder of many ticks allocates no strings per tick (they repeat:
// at most MaxSymbols symbols and a few exchanges). Not safe for concurrent
// use; the zero value is ready.
type Strings struct {
	m map[string]string
	// seen holds, per field (0 symbol, 1 exchange), the strings met last,
	// each in the slot its first bytes hash to: 2 KB that stay in cache,
	// where a lookup in the map (which holds them all) missed it and cost
	// ~2% of a 200,000/s run's CPU. A partition's ~17 symbols mostly keep
	// their own slots.
	seen [2][seenSlots]string
}

// maxInterned bounds what Strings keeps; past it, strings are allocated.
const maxInterned = 1 << 20

const (
	seenBits  = 6
	seenSlots = 1 << seenBits
)

// seenSlot hashes b's first four bytes and its length.
func seenSlot(b []byte) int {
	var x uint32
	if len(b) >= 4 {
		x = binary.LittleEndian.Uint32(b)
	} else {
		for i, ch := range b {
			x |= uint32(ch) << (8 * i)
		}
	}
	x ^= uint32(len(b)) << 27
	return int((x * 0x9e3779b1) >> (32 - seenBits))
}

// get returns b as a string; field is the string's field (0 symbol, 1
// exchange).
func (s *Strings) get(b []byte, field int) string {
	r := &s.seen[field][seenSlot(b)]
	if string(b) == *r {
		return *r
	}
	v, ok := s.m[string(b)]
	if !ok {
		v = string(b)
		if s.m == nil {
			s.m = map[string]string{}
		}
		if len(s.m) >= maxInterned {
			return v
		}
		s.m[v] = v
	}
	*r = v
	return v
}

// Symbol returns b as a string from s, ok false (and no string) when b is
// not UTF-8: the decoders of the other wire formats (tick/wire) share the
// interning. Bytes equal to the string met last in their slot are not
// checked again: s keeps only UTF-8 (the JSON decoder interns plain ASCII,
// Symbol and Exchange check first), and a tick's strings repeat.
func (s *Strings) Symbol(b []byte) (str string, ok bool) { return s.valid(b, 0) }

// Exchange is Symbol for an exchange.
func (s *Strings) Exchange(b []byte) (str string, ok bool) { return s.valid(b, 1) }

func (s *Strings) valid(b []byte, field int) (string, bool) {
	if r := s.seen[field][seenSlot(b)]; string(b) == r {
		return r, true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return s.get(b, field), true
}

// DecodeJSON is the package's DecodeJSON, with strings from s.
func (s *Strings) DecodeJSON(data []byte, t *Tick) error {
	return decodeJSON(data, t, s)
}

func decodeJSON(data []byte, t *Tick, strs *Strings) error {
	if !decodeCanonical(data, t, strs) {
		if err := decodeGeneric(data, t); err != nil {
			return err
		}
	}
	return t.Validate()
}

// wireTick has pointer fields so a missing field can be told from a zero.
type wireTick struct {
	Symbol   *string  `json:"symbol"`
	Seq      *uint64  `json:"seq"`
	Intended *int64   `json:"ts"`
	Price    *float64 `json:"price"`
	Size     *uint32  `json:"size"`
	Bid      *float64 `json:"bid"`
	Ask      *float64 `json:"ask"`
	BidSize  *uint32  `json:"bid_size"`
	AskSize  *uint32  `json:"ask_size"`
	Exchange *string  `json:"exchange"`
}

func decodeGeneric(data []byte, t *Tick) error {
	var w wireTick
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("not a JSON tick: %w", err)
	}
	missing := func(name string) error { return fmt.Errorf("missing field %q", name) }
	switch {
	case w.Symbol == nil:
		return missing("symbol")
	case w.Seq == nil:
		return missing("seq")
	case w.Intended == nil:
		return missing("ts")
	case w.Price == nil:
		return missing("price")
	case w.Size == nil:
		return missing("size")
	case w.Bid == nil:
		return missing("bid")
	case w.Ask == nil:
		return missing("ask")
	case w.BidSize == nil:
		return missing("bid_size")
	case w.AskSize == nil:
		return missing("ask_size")
	case w.Exchange == nil:
		return missing("exchange")
	}
	*t = Tick{
		Symbol: *w.Symbol, Seq: *w.Seq, Intended: *w.Intended, Price: *w.Price, Size: *w.Size,
		Bid: *w.Bid, Ask: *w.Ask, BidSize: *w.BidSize, AskSize: *w.AskSize, Exchange: *w.Exchange,
	}
	return nil
}

// canon walks a record in AppendJSON's exact layout; any surprise sets bad
// and the caller falls back to encoding/json.
type canon struct {
	b    []byte
	bad  bool
	strs *Strings // nil: allocate each string
}

func (c *canon) lit(s string) {
	// A comparison with a constant string (lit is inlined) compiles to a
	// few loads; bytes.HasPrefix was a call per field.
	if c.bad || len(c.b) < len(s) || string(c.b[:len(s)]) != s {
		c.bad = true
		return
	}
	c.b = c.b[len(s):]
}

// str reads a plain quoted string: no escapes, no control characters;
// field is Strings.get's.
func (c *canon) str(field int) string {
	if c.bad || len(c.b) == 0 || c.b[0] != '"' {
		c.bad = true
		return ""
	}
	for i := 1; i < len(c.b); i++ {
		switch ch := c.b[i]; {
		case ch == '"':
			var s string
			if c.strs != nil {
				s = c.strs.get(c.b[1:i], field)
			} else {
				s = string(c.b[1:i])
			}
			c.b = c.b[i+1:]
			return s
		case ch == '\\' || ch < 0x20 || ch >= 0x80:
			c.bad = true
			return ""
		}
	}
	c.bad = true
	return ""
}

// num returns the bytes of a number token (up to the next ',' or '}').
func (c *canon) num() []byte {
	if c.bad {
		return nil
	}
	i := 0
	for i < len(c.b) && c.b[i] != ',' && c.b[i] != '}' {
		i++
	}
	if i == 0 || i == len(c.b) {
		c.bad = true
		return nil
	}
	n := c.b[:i]
	c.b = c.b[i:]
	return n
}

// plainDigits reads, in one pass, a token of 1..19 digits without a
// leading zero that a ',' or '}' ends (a tick's integers; a nanosecond
// time has 19); ok is false for anything else, which the general path then
// reads. 19 digits fit a uint64.
func (c *canon) plainDigits() (uint64, bool) {
	b := c.b
	var v uint64
	i := 0
	for ; i < len(b) && i < 19; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	if i == 0 || i == len(b) || (b[i] != ',' && b[i] != '}') || (i > 1 && b[0] == '0') {
		return 0, false
	}
	c.b = b[i:]
	return v, true
}

func (c *canon) uint(bits int) uint64 {
	if c.bad {
		return 0
	}
	if v, ok := c.plainDigits(); ok && v>>bits == 0 {
		return v
	} else if ok {
		c.bad = true
		return 0
	}
	n := c.num()
	if c.bad {
		return 0
	}
	if v, ok := digits(n); ok && len(n) <= 19 && v>>bits == 0 {
		c.bad = len(n) > 1 && n[0] == '0'
		return v
	}
	v, err := strconv.ParseUint(string(n), 10, bits)
	c.bad = err != nil || (len(n) > 1 && n[0] == '0')
	return v
}

func (c *canon) int() int64 {
	if c.bad {
		return 0
	}
	if v, ok := c.plainDigits(); ok && v < 1<<63 {
		return int64(v)
	} else if ok {
		c.bad = true
		return 0
	}
	n := c.num()
	if c.bad {
		return 0
	}
	if v, ok := digits(n); ok && v < 1<<63 {
		c.bad = len(n) > 1 && n[0] == '0'
		return int64(v)
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	c.bad = err != nil || (len(n) > 1 && n[0] == '0') || (len(n) > 0 && n[0] == '+')
	return v
}

func (c *canon) float() float64 {
	if c.bad {
		return 0
	}
	// One pass over the token when it is a simple decimal that a ',' or
	// '}' ends (every price AppendJSON writes).
	if v, k, ok := decimalPrefix(c.b); ok && k < len(c.b) && (c.b[k] == ',' || c.b[k] == '}') {
		c.b = c.b[k:]
		return v
	}
	n := c.num()
	if c.bad {
		return 0
	}
	// ParseFloat accepts forms JSON does not (inf, hex, leading '+', '_'):
	// admit only digits, one '.', and a leading '-'.
	dot := false
	for i, ch := range n {
		switch {
		case ch >= '0' && ch <= '9':
		case ch == '.' && !dot && i > 0 && i < len(n)-1 && n[i-1] != '-':
			dot = true
		case ch == '-' && i == 0 && len(n) > 1:
		default:
			c.bad = true
			return 0
		}
	}
	if d := bytes.TrimPrefix(n, []byte("-")); len(d) > 1 && d[0] == '0' && d[1] != '.' {
		c.bad = true
		return 0
	}
	if v, ok := exactDecimal(n); ok {
		return v
	}
	v, err := strconv.ParseFloat(string(n), 64)
	c.bad = err != nil
	return v
}

// simpleDecimal parses n in one pass if it is a JSON number of the form
// -?(0|[1-9][0-9]*)(\.[0-9]+)? whose digits, all together, are below 2^53,
// with at most 15 after the point (then, as in exactDecimal, one division
// is correctly rounded). Anything else is not ok, and float's general path
// decides.
func simpleDecimal(n []byte) (float64, bool) {
	v, k, ok := decimalPrefix(n)
	return v, ok && k == len(n)
}

// decimalPrefix is simpleDecimal of b's longest prefix of a sign, digits
// and points, which ends at k; a second point ends it too (and the caller,
// finding no delimiter at k, declines).
func decimalPrefix(b []byte) (v float64, k int, ok bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	first := i
	var m uint64
	dot, frac := -1, 0
digits:
	for ; i < len(b); i++ {
		switch ch := b[i]; {
		case ch >= '0' && ch <= '9':
			m = m*10 + uint64(ch-'0')
			if m >= 1<<53 {
				return 0, i, false
			}
			if dot >= 0 {
				frac++
			}
		case ch == '.' && dot < 0:
			dot = i
		default:
			break digits
		}
	}
	intDigits := i - first
	if dot >= 0 {
		intDigits = dot - first
	}
	switch {
	case intDigits == 0, dot >= 0 && frac == 0, frac >= len(pow10):
		return 0, i, false
	case intDigits > 1 && b[first] == '0':
		return 0, i, false
	}
	v = float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, i, true
}

// digits parses n as a decimal of up to 19 digits (no sign).
func digits(n []byte) (uint64, bool) {
	if len(n) == 0 || len(n) > 19 {
		return 0, false
	}
	var v uint64
	for _, ch := range n {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	return v, true
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// exactDecimal parses a checked JSON number [-]d+[.d+] whose digits, all
// together, are below 2^53, with at most 15 after the point: both the
// digits and the power of ten are exact doubles, so one division is
// correctly rounded (the fast path strconv itself takes first).
func exactDecimal(n []byte) (float64, bool) {
	neg := len(n) > 0 && n[0] == '-'
	if neg {
		n = n[1:]
	}
	var m uint64
	frac, dot := 0, false
	for _, ch := range n {
		if ch == '.' {
			dot = true
			continue
		}
		m = m*10 + uint64(ch-'0')
		if m >= 1<<53 {
			return 0, false
		}
		if dot {
			frac++
		}
	}
	if frac >= len(pow10) {
		return 0, false
	}
	v := float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func decodeCanonical(data []byte, t *Tick, strs *Strings) bool {
	c := canon{b: data, strs: strs}
	var v Tick
	c.lit(`{"symbol":`)
	v.Symbol = c.str(0)
	c.lit(`,"seq":`)
	v.Seq = c.uint(64)
	c.lit(`,"ts":`)
	v.Intended = c.int()
	c.lit(`,"price":`)
	v.Price = c.float()
	c.lit(`,"size":`)
	v.Size = uint32(c.uint(32))
	c.lit(`,"bid":`)
	v.Bid = c.float()
	c.lit(`,"ask":`)
	v.Ask = c.float()
	c.lit(`,"bid_size":`)
	v.BidSize = uint32(c.uint(32))
	c.lit(`,"ask_size":`)
	v.AskSize = uint32(c.uint(32))
	c.lit(`,"exchange":`)
	v.Exchange = c.str(1)
	c.lit(`}`)
	if c.bad || len(c.b) != 0 {
		return false
	}
	*t = v
	return true
}
