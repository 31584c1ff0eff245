package gen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"

	"github.com/tickbench/tickbench/tick"
)

// A Source fills tick number seq, scheduled for intended (ns since the
// epoch). The synthetic Model is one; CSV replays recorded rows. The tick
// depends on seq alone, so the producer's workers, each with a Clone,
// generate disjoint parts of one stream.
type Source interface {
	Next(seq uint64, intended int64, t *tick.Tick)
	// Clone returns a source giving the same tick for every seq that may
	// be used from another goroutine at the same time.
	Clone() Source
}

// CSV replays rows of a CSV file of daily bars in the shape of the seed's
// dataset (Index, Date, Open, High, Low, Close, Adj Close, Volume), mapped
// by header: symbol = Index, price = Close, bid = Low, ask = High, size
// and both quote sizes = Volume. Times are the pacer's intended times, not
// the file's dates, so latency is measured as for synthetic ticks.
type CSV struct {
	rows   []tick.Tick
	sample bool   // draw rows by key; otherwise in file order, cycling
	key    uint64 // of the draws: row of seq = a function of (seed, seq)
	// BadRows describes rows that were skipped: "line N: reason".
	BadRows []string
}

// csvColumns maps tick fields to the header names that may hold them.
var csvColumns = map[string][]string{
	"symbol": {"Index", "Symbol", "Ticker"},
	"price":  {"Close", "Price"},
	"bid":    {"Low", "Bid"},
	"ask":    {"High", "Ask"},
	"size":   {"Volume", "Size"},
}

// LoadCSV reads path. With sample, Next draws rows uniformly with
// replacement, seeded by seed (the seed's df.sample(1)); otherwise it
// replays them in order, starting over at the end. Either way the row of
// tick seq depends on seq alone, so a CSV is safe for concurrent use. Bad rows are
// skipped and listed in BadRows; a file with no good row is an error.
func LoadCSV(path string, sample bool, seed uint64) (*CSV, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	c, err := readCSV(f, path)
	if err != nil {
		return nil, err
	}
	c.sample, c.key = sample, key(seed, domainCSV)
	return c, nil
}

func readCSV(r io.Reader, name string) (*CSV, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // short rows are reported, not fatal
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("csv source %s: header: %w", name, err)
	}
	col := map[string]int{}
	for field, names := range csvColumns {
		for i, h := range header {
			for _, n := range names {
				if strings.EqualFold(strings.TrimSpace(h), n) {
					col[field] = i
				}
			}
		}
		if _, ok := col[field]; !ok {
			return nil, fmt.Errorf("csv source %s: no column for %s: want one of %s in the header %q",
				name, field, strings.Join(names, ", "), strings.Join(header, ","))
		}
	}
	c := &CSV{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			c.BadRows = append(c.BadRows, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		t, err := csvTick(rec, col)
		if err != nil {
			c.BadRows = append(c.BadRows, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		c.rows = append(c.rows, t)
	}
	if len(c.rows) == 0 {
		return nil, fmt.Errorf("csv source %s: no valid rows (%d bad: %s)", name, len(c.BadRows), strings.Join(first(c.BadRows, 3), "; "))
	}
	return c, nil
}

func csvTick(rec []string, col map[string]int) (tick.Tick, error) {
	field := func(name string) (string, error) {
		i := col[name]
		if i >= len(rec) {
			return "", fmt.Errorf("%d fields, no %s (column %d)", len(rec), name, i+1)
		}
		return strings.TrimSpace(rec[i]), nil
	}
	num := func(name string) (float64, error) {
		s, err := field(name)
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s %q: not a number", name, s)
		}
		return v, nil
	}
	var t tick.Tick
	var err error
	if t.Symbol, err = field("symbol"); err != nil {
		return t, err
	}
	if t.Price, err = num("price"); err != nil {
		return t, err
	}
	if t.Bid, err = num("bid"); err != nil {
		return t, err
	}
	if t.Ask, err = num("ask"); err != nil {
		return t, err
	}
	vol, err := num("size")
	if err != nil {
		return t, err
	}
	if vol < 0 || vol > math.MaxUint32 {
		return t, fmt.Errorf("size %v: allowed 0..%d", vol, uint32(math.MaxUint32))
	}
	t.Size = uint32(vol)
	t.BidSize, t.AskSize = t.Size, t.Size
	t.Exchange = "CSV"
	t.Intended = 1 // replaced by Next; lets Validate check the rest
	return t, t.Validate()
}

// Rows is how many good rows the file had.
func (c *CSV) Rows() int { return len(c.rows) }

// Next implements Source.
func (c *CSV) Next(seq uint64, intended int64, t *tick.Tick) {
	i := seq % uint64(len(c.rows))
	if c.sample {
		i, _ = bits.Mul64(mix(c.key^seq), uint64(len(c.rows))) // uniform in [0, rows)
	}
	*t = c.rows[i]
	t.Seq, t.Intended = seq, intended
}

// Clone implements Source: a CSV holds no state that Next changes.
func (c *CSV) Clone() Source { return c }

func first(s []string, n int) []string { return s[:min(n, len(s))] }
