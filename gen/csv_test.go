package gen

import (
	"strings"
	"testing"

	"github.com/tickbench/tickbench/tick"
)

func TestCSVInOrder(t *testing.T) {
	c, err := LoadCSV("testdata/index-sample.csv", false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rows() != 50 || len(c.BadRows) != 0 {
		t.Fatalf("rows %d bad %v, want 50 and none", c.Rows(), c.BadRows)
	}
	var first, again tick.Tick
	c.Next(0, 5, &first)
	if first.Symbol != "NYA" || first.Price != 10372.255805 || first.Bid != 10330.974242 || first.Ask != 10515.858704 ||
		first.Size != 3119446357 || first.Seq != 0 || first.Intended != 5 {
		t.Fatalf("first row as tick: %+v", first)
	}
	c.Next(50, 9, &again) // cycles
	if again.Symbol != first.Symbol || again.Price != first.Price || again.Seq != 50 || again.Intended != 9 {
		t.Fatalf("row 50 should replay row 0: %+v", again)
	}
}

func TestCSVSampleIsSeeded(t *testing.T) {
	draw := func(seed uint64) []float64 {
		c, err := LoadCSV("testdata/index-sample.csv", true, seed)
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		var tk tick.Tick
		for i := range 200 {
			c.Next(uint64(i), 1, &tk)
			out = append(out, tk.Price)
		}
		return out
	}
	a, b, other := draw(3), draw(3), draw(4)
	distinct := map[float64]bool{}
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs for the same seed", i)
		}
		if a[i] == other[i] {
			same++
		}
		distinct[a[i]] = true
	}
	if len(distinct) < 30 || same > 40 {
		t.Fatalf("sampling looks wrong: %d distinct rows of 50 in 200 draws, %d equal draws across seeds", len(distinct), same)
	}
}

func TestCSVBadRows(t *testing.T) {
	c, err := LoadCSV("testdata/index-bad.csv", false, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 3: price "not-a-number": not a number`,
		`line 4: 7 fields, no size (column 8)`,
		`line 5: bid 27100 ask 26900: want 0 < bid <= ask`,
		`line 6: symbol "": want 1..16 bytes`,
		`line 7: size 9.9e+10: allowed 0..4294967295`,
	}
	if c.Rows() != 2 || strings.Join(c.BadRows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows %d, bad rows:\n%s\nwant 2 rows and:\n%s", c.Rows(), strings.Join(c.BadRows, "\n"), strings.Join(want, "\n"))
	}
}

func TestCSVErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Date,Open\n2021-01-01,1\n", "no column for"},
		{"Index,Close,Low,High,Volume\nX,bad,1,2,3\n", "no valid rows (1 bad: line 2: price \"bad\": not a number)"},
		{"", "header: EOF"},
	} {
		_, err := readCSV(strings.NewReader(tt.in), "x.csv")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("readCSV(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}
