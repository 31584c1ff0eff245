package gen

import (
	"testing"

	"github.com/tickbench/tickbench/tick"
)

func ticks(t testing.TB, cfg ModelConfig, n int) []tick.Tick {
	t.Helper()
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tick.Tick, n)
	for i := range out {
		m.Next(uint64(i), int64(1_000_000_000+i), &out[i])
	}
	return out
}

func TestModelDeterministic(t *testing.T) {
	cfg := DefaultModelConfig()
	a, b := ticks(t, cfg, 5000), ticks(t, cfg, 5000)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("tick %d differs for the same seed: %+v vs %+v", i, a[i], b[i])
		}
	}
	cfg.Seed = 2
	c := ticks(t, cfg, 5000)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 50 {
		t.Fatalf("seeds 1 and 2 gave %d identical ticks of 5000", same)
	}
}

func TestModelTicksAreValid(t *testing.T) {
	cfg := DefaultModelConfig()
	cfg.Symbols = 7
	seen := map[string]bool{}
	for i, tk := range ticks(t, cfg, 20_000) {
		if err := tk.Validate(); err != nil {
			t.Fatalf("tick %d invalid: %v (%+v)", i, err, tk)
		}
		if tk.Price < tk.Bid || tk.Price > tk.Ask {
			t.Fatalf("tick %d trades outside its quote: %+v", i, tk)
		}
		if tk.Size%100 != 0 || tk.Size == 0 {
			t.Fatalf("tick %d size %d is not a round lot", i, tk.Size)
		}
		seen[tk.Symbol] = true
	}
	if len(seen) != 7 {
		t.Fatalf("saw %d symbols, want 7", len(seen))
	}
}

func TestSymbolsDistinct(t *testing.T) {
	seen := make(map[string]int, MaxSymbols)
	for i := range MaxSymbols {
		s := Symbol(i)
		if j, dup := seen[s]; dup {
			t.Fatalf("Symbol(%d) == Symbol(%d) == %q", i, j, s)
		}
		seen[s] = i
	}
}

func TestModelConfigValidate(t *testing.T) {
	for _, cfg := range []ModelConfig{
		{Symbols: 0, Volatility: 0.3, TicksPerSymbolPerYear: 1},
		{Symbols: MaxSymbols + 1, Volatility: 0.3, TicksPerSymbolPerYear: 1},
		{Symbols: 1, Volatility: -1, TicksPerSymbolPerYear: 1},
		{Symbols: 1, Volatility: 0.3, TicksPerSymbolPerYear: 0},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v: want an error", cfg)
		}
	}
}

// BenchmarkGenerateEncode measures the generator's own ceiling: model step
// plus JSON encoding, the work done per tick before Kafka.
func BenchmarkGenerateEncode(b *testing.B) {
	m, err := NewModel(DefaultModelConfig())
	if err != nil {
		b.Fatal(err)
	}
	var tk tick.Tick
	buf := make([]byte, 0, 256)
	var bytes int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Next(uint64(i), int64(i), &tk)
		buf = tick.AppendJSON(buf[:0], &tk)
		bytes += len(buf)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/tick")
}
