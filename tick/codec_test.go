package tick

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"
)

func sample() Tick {
	return Tick{Symbol: "AAPL", Seq: 42, Intended: 1_764_000_000_123_456_789, Price: 187.25, Size: 300,
		Bid: 187.24, Ask: 187.26, BidSize: 500, AskSize: 700, Exchange: "XNAS"}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	b := AppendJSON(nil, &in)
	var out Tick
	if !decodeCanonical(b, &out, nil) {
		t.Fatalf("canonical fast path rejected its own encoding: %s", b)
	}
	if out != in {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
	// encoding/json must read the same bytes identically.
	var std Tick
	if err := json.Unmarshal(b, &std); err != nil || std != in {
		t.Fatalf("encoding/json disagrees: %+v %v", std, err)
	}
}

func TestDecodeJSON(t *testing.T) {
	good := string(AppendJSON(nil, &Tick{Symbol: "MSFT", Seq: 0, Intended: 1, Price: 1, Size: 1, Bid: 1, Ask: 1, Exchange: "X"}))
	tests := []struct {
		name, in, wantErr string
	}{
		{"canonical", good, ""},
		{"reordered with spaces", `{ "seq": 7, "symbol": "IBM", "ts": 5, "price": 2.5, "size": 1,
			"bid": 2.4, "ask": 2.6, "bid_size": 1, "ask_size": 1, "exchange": "XNYS" }`, ""},
		{"escaped symbol", strings.Replace(good, `"MSFT"`, `"MS\u0046T"`, 1), ""},
		{"not json", `hello`, "not a JSON tick"},
		{"truncated", good[:len(good)-3], "not a JSON tick"},
		{"missing seq", strings.Replace(good, `"seq":0,`, ``, 1), `missing field "seq"`},
		{"price as string", strings.Replace(good, `"price":1`, `"price":"1"`, 1), "not a JSON tick"},
		{"negative price", strings.Replace(good, `"price":1`, `"price":-1`, 1), "price -1"},
		{"crossed quote", strings.Replace(good, `"ask":1`, `"ask":0.5`, 1), "bid 1 ask 0.5"},
		{"empty symbol", strings.Replace(good, `"MSFT"`, `""`, 1), "symbol"},
		{"zero ts", strings.Replace(good, `"ts":1`, `"ts":0`, 1), "ts 0"},
		{"size overflow", strings.Replace(good, `"size":1`, `"size":4294967296`, 1), "not a JSON tick"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Tick
			err := DecodeJSON([]byte(tt.in), &got)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzDecodeJSON checks that the fast path never disagrees with
// encoding/json and that anything accepted re-encodes to an equal tick.
func FuzzDecodeJSON(f *testing.F) {
	s := sample()
	f.Add(AppendJSON(nil, &s))
	f.Add([]byte(`{"symbol":"A","seq":1,"ts":1,"price":1e3,"size":1,"bid":1,"ask":1,"bid_size":1,"ask_size":1,"exchange":"X"}`))
	f.Add([]byte(`{"symbol":"A","seq":01,"ts":-0,"price":-0.5,"size":1,"bid":1,"ask":1,"bid_size":1,"ask_size":1,"exchange":"X"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, slow Tick
		if decodeCanonical(data, &fast, nil) {
			if err := decodeGeneric(data, &slow); err != nil {
				t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, data)
			}
			if fast != slow {
				t.Fatalf("fast %+v != encoding/json %+v for %q", fast, slow, data)
			}
		}
		var got Tick
		if DecodeJSON(data, &got) != nil {
			return
		}
		var again Tick
		if err := DecodeJSON(AppendJSON(nil, &got), &again); err != nil || again != got {
			t.Fatalf("re-encoding %+v gave %+v, %v", got, again, err)
		}
	})
}

func BenchmarkDecodeJSON(b *testing.B) {
	s := sample()
	data := AppendJSON(nil, &s)
	b.ReportAllocs()
	var t Tick
	for b.Loop() {
		if err := DecodeJSON(data, &t); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppendStringIsJSON: every string encodes as a JSON string that
// decodes back to it (invalid UTF-8 as U+FFFD, as encoding/json does).
func TestAppendStringIsJSON(t *testing.T) {
	for _, s := range []string{"", "AAPL", `a"b`, `a\b`, "a\nb\x00", "\x7f", "é", "😀", "\xff", "a\xc3"} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q encoded as %s: not JSON: %v", s, b, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); got != want {
			t.Errorf("%q encoded as %s decodes to %q, want %q", s, b, got, want)
		}
	}
}

// TestStringsUTF8: Symbol and Exchange keep one string per value and
// refuse bytes that are not UTF-8, also after a valid string took their
// slot (only equal bytes skip the check).
func TestStringsUTF8(t *testing.T) {
	var s Strings
	a, ok := s.Symbol([]byte("ABCD"))
	b, ok2 := s.Symbol([]byte("ABCD"))
	if !ok || !ok2 || a != "ABCD" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("Symbol(ABCD) twice: %q %v, %q %v; want one kept string", a, ok, b, ok2)
	}
	// "ABCDE" and "ABCD\xff" share a slot (first four bytes, length).
	if got, ok := s.Symbol([]byte("ABCDE")); !ok || got != "ABCDE" || seenSlot([]byte("ABCDE")) != seenSlot([]byte("ABCD\xff")) {
		t.Fatalf("Symbol(ABCDE) = %q, %v, or the slots differ", got, ok)
	}
	for _, bad := range [][]byte{[]byte("ABCD\xff"), []byte("AB\xc3"), {0xff, 'B', 'C', 'D'}} {
		if got, ok := s.Symbol(bad); ok || got != "" {
			t.Errorf("Symbol(%q) = %q, %v; want refused", bad, got, ok)
		}
		if got, ok := s.Exchange(bad); ok || got != "" {
			t.Errorf("Exchange(%q) = %q, %v; want refused", bad, got, ok)
		}
	}
	if got, ok := s.Exchange([]byte("XNYS")); !ok || got != "XNYS" {
		t.Fatalf("Exchange(XNYS) = %q, %v", got, ok)
	}
}
