package tick

import (
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
