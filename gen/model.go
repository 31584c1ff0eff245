// Package gen owns the synthetic market: a seeded tick model (symbols whose
// mid prices follow geometric Brownian motion, spreads, trade sizes), the
// pacer that schedules when each tick is due, and the open-loop producer that
// sends ticks to Kafka at their intended times.
package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tickbench/tickbench/tick"
)

// ModelConfig sets up the synthetic market.
type ModelConfig struct {
	// Symbols is how many instruments trade. Default 100.
	Symbols int
	// Seed makes the stream reproducible: the same seed gives the same
	// sequence of symbols, prices and sizes. Default 1.
	Seed uint64
	// Volatility is each symbol's annualised GBM volatility. Default 0.3.
	Volatility float64
	// TicksPerSymbolPerYear sets the GBM time step: one tick of a symbol
	// advances its clock by 1/TicksPerSymbolPerYear of a year. Stepping by
	// tick count rather than wall time keeps prices independent of the rate
	// and of scheduling noise. Default 5e6 (about 20 trades a second over a
	// 252-day, 6.5-hour trading year).
	TicksPerSymbolPerYear float64
}

// DefaultModelConfig returns the defaults documented on ModelConfig.
func DefaultModelConfig() ModelConfig {
	return ModelConfig{Symbols: 100, Seed: 1, Volatility: 0.3, TicksPerSymbolPerYear: 5e6}
}

// MaxSymbols bounds the symbol universe: four-letter tickers give 26^4.
const MaxSymbols = 26 * 26 * 26 * 26

// Validate names the first bad field and its allowed range.
func (c ModelConfig) Validate() error {
	switch {
	case c.Symbols < 1 || c.Symbols > MaxSymbols:
		return fmt.Errorf("symbols %d: allowed 1..%d", c.Symbols, MaxSymbols)
	case !(c.Volatility >= 0 && c.Volatility <= 10):
		return fmt.Errorf("volatility %v: allowed 0..10", c.Volatility)
	case !(c.TicksPerSymbolPerYear >= 1):
		return fmt.Errorf("ticks per symbol per year %v: allowed >= 1", c.TicksPerSymbolPerYear)
	}
	return nil
}

var exchanges = []string{"XNYS", "XNAS", "ARCX", "BATS", "EDGX", "IEXG", "MEMX"}

type instrument struct {
	symbol string
	mid    float64
	spread float64 // fraction of mid, fixed per symbol
}

// Model generates ticks. It is not safe for concurrent use; shard a workload
// by giving each generator its own seed.
type Model struct {
	rng   *rand.Rand
	syms  []instrument
	drift float64 // per step: -sigma^2/2 * dt (zero-drift GBM in the real-world measure)
	diff  float64 // per step: sigma * sqrt(dt)
}

// NewModel validates cfg and builds the symbol universe from its seed.
func NewModel(cfg ModelConfig) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7469636b62656e63)) // "tickbenc"
	dt := 1 / cfg.TicksPerSymbolPerYear
	m := &Model{
		rng:   rng,
		syms:  make([]instrument, cfg.Symbols),
		drift: -cfg.Volatility * cfg.Volatility / 2 * dt,
		diff:  cfg.Volatility * math.Sqrt(dt),
	}
	for i := range m.syms {
		m.syms[i] = instrument{
			symbol: Symbol(i),
			mid:    math.Round(math.Exp(rng.Float64()*math.Log(990)+math.Log(10))*100) / 100, // 10..1000, log-uniform
			spread: (1 + 9*rng.Float64()) / 10_000,                                           // 1..10 bps
		}
	}
	return m, nil
}

// Symbol returns the i-th synthetic ticker: four letters, distinct for every
// i below MaxSymbols (i is scrambled by a multiplier coprime to 26^4 so
// neighbouring symbols do not share prefixes).
func Symbol(i int) string {
	n := (i*7919 + 104729) % MaxSymbols
	var b [4]byte
	for j := 3; j >= 0; j-- {
		b[j] = byte('A' + n%26)
		n /= 26
	}
	return string(b[:])
}

// Next fills t with tick number seq, scheduled for intended (ns since the
// epoch). The market's evolution depends only on the seed and the number of
// calls, never on intended.
func (m *Model) Next(seq uint64, intended int64, t *tick.Tick) {
	in := &m.syms[m.rng.IntN(len(m.syms))]
	in.mid *= math.Exp(m.drift + m.diff*m.rng.NormFloat64())
	in.mid = max(in.mid, 0.05) // a penny stock stays a stock
	half := max(in.mid*in.spread/2, 0.005)
	bid := math.Floor((in.mid-half)*100) / 100
	ask := math.Ceil((in.mid+half)*100) / 100
	bid = max(bid, 0.01)
	if ask <= bid {
		ask = bid + 0.01
	}
	var price float64
	switch r := m.rng.IntN(10); {
	case r < 4:
		price = bid // seller-initiated
	case r < 8:
		price = ask // buyer-initiated
	default:
		price = math.Round((bid+ask)*50) / 100 // midpoint cross
	}
	*t = tick.Tick{
		Symbol:   in.symbol,
		Seq:      seq,
		Intended: intended,
		Price:    price,
		Size:     lots(m.rng),
		Bid:      bid,
		Ask:      ask,
		BidSize:  lots(m.rng),
		AskSize:  lots(m.rng),
		Exchange: exchanges[m.rng.IntN(len(exchanges))],
	}
}

// lots draws a size in round lots of 100 with a heavy tail: most prints are
// 100-500 shares, a few are blocks.
func lots(rng *rand.Rand) uint32 {
	n := 1 + int(rng.ExpFloat64()*2)
	return uint32(min(n, 1000) * 100)
}

// Lines returns n ticks of the model as JSON lines, intended one ms apart
// from start (ns since the epoch; 0 means the Unix epoch + 1 s).
func Lines(cfg ModelConfig, n uint64, start int64) ([]byte, error) {
	m, err := NewModel(cfg)
	if err != nil {
		return nil, err
	}
	if start <= 0 {
		start = int64(time.Second)
	}
	var out []byte
	var t tick.Tick
	for i := range n {
		m.Next(i, start+int64(i)*int64(time.Millisecond), &t)
		out = append(tick.AppendJSON(out, &t), '\n')
	}
	return out, nil
}
