package tick

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

// TestAppendPriceMatchesStrconv: the cents fast path writes what
// strconv.AppendFloat(v, 'f', -1, 64) writes, for whole cents and for
// values it must hand back to strconv.
func TestAppendPriceMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var values []float64
	for c := range 200_000 {
		values = append(values, float64(c)/100)
	}
	for range 200_000 {
		values = append(values, math.Round(rng.Float64()*1e9)/100, rng.Float64()*1000, rng.ExpFloat64()*1e6)
	}
	values = append(values, 0, 0.1, 0.01, 0.001, 1e15, 9007199254740.99, 1e300, -1.5, math.SmallestNonzeroFloat64)
	for _, v := range values {
		want := strconv.AppendFloat(nil, v, 'f', -1, 64)
		if got := appendPrice(nil, v); string(got) != string(want) {
			t.Fatalf("appendPrice(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestExactDecimalMatchesParseFloat: the decoder's fast path gives the
// same double as strconv.ParseFloat wherever it answers.
func TestExactDecimalMatchesParseFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := []string{"0", "-0", "1", "0.5", "12.34", "-12.34", "9007199254740991", "9007199254740992", "0.000000000000001", "123456.7890123"}
	for range 300_000 {
		inputs = append(inputs,
			strconv.FormatFloat(rng.Float64()*1000, 'f', -1, 64),
			strconv.FormatFloat(math.Round(rng.Float64()*1e8)/100, 'f', -1, 64),
			strconv.FormatFloat(rng.NormFloat64()*1e6, 'f', rng.IntN(8), 64))
	}
	answered := 0
	for _, in := range inputs {
		got, ok := exactDecimal([]byte(in))
		if !ok {
			continue
		}
		answered++
		want, err := strconv.ParseFloat(in, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("exactDecimal(%s) = %v, ParseFloat = %v (%v)", in, got, want, err)
		}
	}
	if answered < len(inputs)/2 {
		t.Fatalf("the fast path answered %d of %d inputs: it is not taken", answered, len(inputs))
	}
}

// TestStringsDecode: decoding with Strings gives the same ticks, and one
// string per distinct symbol, shared by every tick that has it.
func TestStringsDecode(t *testing.T) {
	var strs Strings
	in := sample()
	b := AppendJSON(nil, &in)
	var first, second Tick
	if err := strs.DecodeJSON(b, &first); err != nil || first != in {
		t.Fatalf("DecodeJSON with Strings = %+v, %v; want %+v", first, err, in)
	}
	if err := strs.DecodeJSON(b, &second); err != nil || second != in {
		t.Fatalf("second decode = %+v, %v", second, err)
	}
	if unsafe.StringData(first.Symbol) != unsafe.StringData(second.Symbol) {
		t.Fatal("the same symbol decoded twice is two strings")
	}
	if allocs := testing.AllocsPerRun(100, func() { strs.DecodeJSON(b, &second) }); allocs != 0 {
		t.Fatalf("%v allocations per decode with Strings, want 0", allocs)
	}
}

// TestStringsSlots: strings that share a slot of the recent cache, and
// short ones, still come back equal to their bytes, one copy each, and
// without allocating once seen.
func TestStringsSlots(t *testing.T) {
	var strs Strings
	var in [][]byte
	bySlot := map[int]int{}
	for i := range 500 {
		b := []byte(fmt.Sprintf("S%03d", i))
		in = append(in, b)
		bySlot[seenSlot(b)]++
	}
	in = append(in, []byte(""), []byte("A"), []byte("AB"), []byte("ABC"), []byte("ABCDEFGH"), []byte("ABCDEFGI"))
	if len(bySlot) == 500 {
		t.Fatal("no two strings share a slot: evictions are not covered")
	}
	copies := map[string]*byte{}
	for round := range 3 {
		for _, b := range in {
			for field := range 2 {
				got := strs.get(b, field)
				if got != string(b) {
					t.Fatalf("get(%q, %d) = %q", b, field, got)
				}
				if p, ok := copies[got]; ok && p != unsafe.StringData(got) && len(got) > 0 {
					t.Fatalf("round %d: %q came back as two strings", round, got)
				}
				copies[got] = unsafe.StringData(got)
			}
		}
	}
	if allocs := testing.AllocsPerRun(10, func() {
		for _, b := range in {
			strs.get(b, 0)
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations per pass over known strings, want 0", allocs)
	}
}

// TestSimpleDecimal: the one-pass fast path accepts only JSON numbers and
// returns exactly what strconv.ParseFloat does; what it declines, the
// general path still parses.
func TestSimpleDecimal(t *testing.T) {
	cases := []string{
		"0", "1", "-1", "0.5", "-0.5", "187.25", "187.2", "10", "100.00", "9007199254740991",
		"9007199254740992", "0.123456789012345", "0.1234567890123456", "123.456", "1e5",
		"01", "-01", "00.5", ".5", "5.", "-", "1.2.3", "+1", "1_0", "0x10", "inf", "-0", "-0.0", "",
	}
	for _, s := range cases {
		v, ok := simpleDecimal([]byte(s))
		valid := json.Valid([]byte(s))
		if !ok {
			continue
		}
		if !valid {
			t.Errorf("simpleDecimal accepted %q, not a JSON number", s)
			continue
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || v != want || math.Signbit(v) != math.Signbit(want) {
			t.Errorf("simpleDecimal(%q) = %v, strconv says %v (%v)", s, v, want, err)
		}
	}
	for _, s := range []string{"187.25", "-0.5", "0", "12"} {
		if _, ok := simpleDecimal([]byte(s)); !ok {
			t.Errorf("simpleDecimal declined %q", s)
		}
	}
	// Random prices with up to 4 decimals round-trip through the fast path.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		s := strconv.FormatFloat(float64(r.IntN(1e9))/math.Pow10(r.IntN(5)), 'f', -1, 64)
		v, ok := simpleDecimal([]byte(s))
		want, _ := strconv.ParseFloat(s, 64)
		if !ok || v != want {
			t.Fatalf("simpleDecimal(%q) = %v, %v; want %v", s, v, ok, want)
		}
	}
}

func BenchmarkDecodeJSONStrings(b *testing.B) {
	s := sample()
	data := AppendJSON(nil, &s)
	b.ReportAllocs()
	var t Tick
	var strs Strings
	for b.Loop() {
		if err := strs.DecodeJSON(data, &t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeJSONMixed decodes ticks as a partition's decoder sees
// them: 17 symbols and 7 exchanges in random order, prices in cents, so
// neither string repeats from one tick to the next as a rule.
func BenchmarkDecodeJSONMixed(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	exchanges := []string{"XNYS", "XNAS", "ARCX", "BATS", "EDGX", "IEXG", "MEMX"}
	var recs [][]byte
	for i := range 4096 {
		mid := float64(1000+r.IntN(100000)) / 100
		t := Tick{Symbol: fmt.Sprintf("S%03d", r.IntN(17)), Seq: uint64(i), Intended: 1_764_000_000_000_000_000 + int64(i)*5000,
			Price: mid, Size: uint32(100 * (1 + r.IntN(5))), Bid: mid - 0.01, Ask: mid + 0.01,
			BidSize: uint32(100 * (1 + r.IntN(9))), AskSize: uint32(100 * (1 + r.IntN(9))), Exchange: exchanges[r.IntN(len(exchanges))]}
		t.Bid, t.Ask = math.Round(t.Bid*100)/100, math.Round(t.Ask*100)/100
		recs = append(recs, AppendJSON(nil, &t))
	}
	b.ReportAllocs()
	var t Tick
	var strs Strings
	i := 0
	for b.Loop() {
		if err := strs.DecodeJSON(recs[i], &t); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(recs)
	}
}

// TestCanonIntegersAtTheEdges: the one-pass integer path takes 19 digits
// (a nanosecond time) and leaves what overflows to the general path, which
// rejects it.
func TestCanonIntegersAtTheEdges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1764000000123456789,", 1764000000123456789, true},
		{"9223372036854775807}", 9223372036854775807, true},
		{"9223372036854775808,", 0, false},
		{"99999999999999999999,", 0, false},
		{"0,", 0, true},
		{"01,", 0, false},
	} {
		c := canon{b: []byte(tc.in)}
		got := c.int()
		if c.bad == tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("int(%q) = %d, bad %v; want %d, ok %v", tc.in, got, c.bad, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		bits int
		ok   bool
	}{
		{"4294967295,", 32, true},
		{"4294967296,", 32, false},
		{"18446744073709551615,", 64, true},
		{"9999999999999999999,", 64, true},
	} {
		c := canon{b: []byte(tc.in)}
		c.uint(tc.bits)
		if c.bad == tc.ok {
			t.Errorf("uint(%q, %d): bad %v, want ok %v", tc.in, tc.bits, c.bad, tc.ok)
		}
	}
}

// TestAppendUintMatchesStrconv: the in-place appender writes what strconv
// writes, at every digit count's edges and for random values, after
// whatever dst already held.
func TestAppendUintMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	values := []uint64{0, 1, 9, 10, 11, 99, 100, 101, math.MaxUint64, math.MaxUint64 - 1}
	for p := uint64(1); p <= 1e19; p *= 10 {
		values = append(values, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	for range 100_000 {
		values = append(values, rng.Uint64(), rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		if got, want := appendUint([]byte("x"), v), strconv.AppendUint([]byte("x"), v, 10); string(got) != string(want) {
			t.Fatalf("appendUint(%d) = %s, want %s", v, got, want)
		}
		s := int64(v)
		if got, want := appendInt([]byte("x"), s), strconv.AppendInt([]byte("x"), s, 10); string(got) != string(want) {
			t.Fatalf("appendInt(%d) = %s, want %s", s, got, want)
		}
	}
	if got := appendInt(nil, math.MinInt64); string(got) != "-9223372036854775808" {
		t.Fatalf("appendInt(MinInt64) = %s", got)
	}
}

// BenchmarkAppendJSON is the generator's encoding of one tick.
func BenchmarkAppendJSON(b *testing.B) {
	s := Tick{Symbol: "AAPL", Seq: 12_345_678, Intended: 1_764_000_000_123_456_789, Price: 187.25, Size: 300,
		Bid: 187.24, Ask: 187.26, BidSize: 500, AskSize: 1_200, Exchange: "XNAS"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &s)
	}
}
