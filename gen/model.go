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
	// TicksPerSymbolPerYear sets the GBM time step: every tick advances
	// the market's clock by 1/(Symbols*TicksPerSymbolPerYear) of a year,
	// so a symbol's clock moves 1/TicksPerSymbolPerYear between two of its
	// ticks on average. Stepping by tick count rather than wall time keeps
	// prices independent of the rate and of scheduling noise. Default 5e6
	// (about 20 trades a second over a 252-day, 6.5-hour trading year).
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

// chunkTicksPerSymbol is how many ticks of one symbol a chunk of the price
// walk spans on average: the walk is drawn per chunk, so a generator that
// visits every k-th tick pays about k/16 extra normal draws per tick.
const chunkTicksPerSymbol = 16

// Key domains of the model's counter-based streams.
const (
	domainTick = iota + 1
	domainWalk
	domainSymbol
	domainCSV
)

// instrument is one symbol: its fixed traits, and where this Model's copy
// of its price walk stands.
type instrument struct {
	symbol string
	spread float64 // fraction of mid, fixed per symbol
	l0     float64 // log mid at the start
	c      uint64  // the chunk that lo begins
	lo, hi float64 // log mid at the start of chunks c and c+1
}

// Model generates ticks. Tick number seq is a function of the seed and seq
// alone: its draws (symbol, side, sizes, exchange) come from a stream keyed
// by (seed, seq), and its symbol's mid from a GBM walk in steps of a chunk
// of Symbols*16 ticks, each step keyed by (seed, symbol, chunk), inside
// which the mid is drawn from the walk's exact distribution given the
// chunk's two ends (a Brownian bridge). So any subsequence of tick numbers
// is computed without the others: Clone gives each goroutine a Model of
// its own, and together they give the one stream tick for tick. A Model is
// fastest when its seqs increase (the walk advances lazily per symbol);
// a smaller seq than its symbol's last one restarts that walk from the
// beginning. It is not safe for concurrent use; Clone it.
type Model struct {
	syms             []instrument
	chunk            uint64  // ticks per chunk of the walk
	drift, sd        float64 // of the log mid over one chunk (zero-drift GBM: -sigma^2/2 * dt)
	tickKey, walkKey uint64
	tick, walk       stream
	tickRng, walkRng *rand.Rand // over tick and walk
}

// NewModel validates cfg and builds the symbol universe from its seed.
func NewModel(cfg ModelConfig) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dt := chunkTicksPerSymbol / cfg.TicksPerSymbolPerYear
	m := &Model{
		syms:    make([]instrument, cfg.Symbols),
		chunk:   uint64(cfg.Symbols) * chunkTicksPerSymbol,
		drift:   -cfg.Volatility * cfg.Volatility / 2 * dt,
		sd:      cfg.Volatility * math.Sqrt(dt),
		tickKey: key(cfg.Seed, domainTick),
		walkKey: key(cfg.Seed, domainWalk),
	}
	m.rngs()
	symKey := key(cfg.Seed, domainSymbol)
	for i := range m.syms {
		m.walk.s = mix(symKey ^ uint64(i))
		l0 := math.Log(math.Round(math.Exp(m.walkRng.Float64()*math.Log(990)+math.Log(10))*100) / 100) // 10..1000, log-uniform, in cents
		m.syms[i] = instrument{
			symbol: Symbol(i),
			spread: (1 + 9*m.walkRng.Float64()) / 10_000, // 1..10 bps
			l0:     l0,
			lo:     l0,
			hi:     l0 + m.step(i, 0),
		}
	}
	return m, nil
}

func (m *Model) rngs() {
	m.tickRng, m.walkRng = rand.New(&m.tick), rand.New(&m.walk)
}

// Clone returns a Model that gives the same tick for every seq and may be
// used by another goroutine at the same time as m.
func (m *Model) Clone() Source {
	c := *m
	c.syms = append([]instrument(nil), m.syms...)
	c.rngs()
	return &c
}

// step is the walk's log increment of symbol i over chunk c.
func (m *Model) step(i int, c uint64) float64 {
	m.walk.s = mix(mix(m.walkKey^uint64(i)) + c)
	return m.drift + m.sd*m.walkRng.NormFloat64()
}

// advance moves symbol i's walk to chunk c.
func (m *Model) advance(i int, in *instrument, c uint64) {
	if c < in.c {
		in.c, in.lo, in.hi = 0, in.l0, in.l0+m.step(i, 0)
	}
	for in.c < c {
		in.c++
		in.lo = in.hi
		in.hi += m.step(i, in.c)
	}
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
// epoch). The tick depends only on the seed and seq, never on intended or
// on earlier calls.
func (m *Model) Next(seq uint64, intended int64, t *tick.Tick) {
	m.tick.s = mix(m.tickKey ^ seq)
	rng := m.tickRng
	i := rng.IntN(len(m.syms))
	in := &m.syms[i]
	if c := seq / m.chunk; c != in.c {
		m.advance(i, in, c)
	}
	f := float64(seq%m.chunk) / float64(m.chunk)
	logMid := in.lo + (in.hi-in.lo)*f + m.sd*math.Sqrt(f*(1-f))*rng.NormFloat64()
	// A penny stock stays a stock, and no mid outgrows what a price column
	// prints in cents.
	mid := min(max(math.Exp(logMid), 0.05), 1e9)
	half := max(mid*in.spread/2, 0.005)
	bid := math.Floor((mid-half)*100) / 100
	ask := math.Ceil((mid+half)*100) / 100
	bid = max(bid, 0.01)
	if ask <= bid {
		ask = bid + 0.01
	}
	var price float64
	switch r := rng.IntN(10); {
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
		Size:     lots(rng),
		Bid:      bid,
		Ask:      ask,
		BidSize:  lots(rng),
		AskSize:  lots(rng),
		Exchange: exchanges[rng.IntN(len(exchanges))],
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
