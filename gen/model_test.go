package gen

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
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

// TestModelClonesSplitTheStream: k clones, clone i visiting only the seqs
// n with n mod k == i in increasing order, give exactly the ticks of one
// Model visiting every seq; and so does one Model visiting seqs backwards
// (the slow path, restarting walks).
func TestModelClonesSplitTheStream(t *testing.T) {
	for _, symbols := range []int{1, 7, 100} {
		cfg := DefaultModelConfig()
		cfg.Symbols = symbols
		const n = 20_000 // many walk chunks for every symbol count here
		want := ticks(t, cfg, n)
		for _, k := range []int{1, 2, 3, 7} {
			t.Run(fmt.Sprintf("symbols=%d/k=%d", symbols, k), func(t *testing.T) {
				m, err := NewModel(cfg)
				if err != nil {
					t.Fatal(err)
				}
				clones := make([]Source, k)
				for i := range clones {
					clones[i] = m.Clone()
				}
				var tk tick.Tick
				for i := range clones {
					for seq := i; seq < n; seq += k {
						clones[i].Next(uint64(seq), int64(1_000_000_000+seq), &tk)
						if tk != want[seq] {
							t.Fatalf("clone %d of %d, seq %d: %+v, want %+v", i, k, seq, tk, want[seq])
						}
					}
				}
			})
		}
		m, err := NewModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var tk tick.Tick
		for seq := n - 1; seq >= n-300; seq-- {
			m.Next(uint64(seq), int64(1_000_000_000+seq), &tk)
			if tk != want[seq] {
				t.Fatalf("symbols %d, backwards, seq %d: %+v, want %+v", symbols, seq, tk, want[seq])
			}
		}
	}
}

// TestModelVolatility: the mids follow a GBM of the configured volatility.
// With one symbol a walk chunk is 16 ticks, and at a chunk's first tick the
// mid is the walk's value itself, so the log returns between those ticks
// have the per-chunk standard deviation sigma*sqrt(16/TicksPerSymbolPerYear).
func TestModelVolatility(t *testing.T) {
	for _, vol := range []float64{1, 2} {
		cfg := DefaultModelConfig()
		cfg.Symbols, cfg.Volatility, cfg.TicksPerSymbolPerYear = 1, vol, 1e6
		const chunks = 10_000
		m, err := NewModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var tk tick.Tick
		var prev, sum, sumSq float64
		for c := range chunks + 1 {
			m.Next(uint64(c*chunkTicksPerSymbol), 1, &tk)
			l := math.Log((tk.Bid + tk.Ask) / 2)
			if c > 0 {
				r := l - prev
				sum, sumSq = sum+r, sumSq+r*r
			}
			prev = l
		}
		sd := math.Sqrt(sumSq/chunks - (sum/chunks)*(sum/chunks))
		want := vol * math.Sqrt(chunkTicksPerSymbol/cfg.TicksPerSymbolPerYear)
		if math.Abs(sd/want-1) > 0.05 {
			t.Errorf("volatility %v: log returns per chunk have sd %.5f, want %.5f within 5%%", vol, sd, want)
		}
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
		if spread := (tk.Ask - tk.Bid) / tk.Bid; spread > 0.0011+0.02/tk.Bid {
			t.Fatalf("tick %d spread %.5f is wider than 10 bps plus rounding to cents: %+v", i, spread, tk)
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

// BenchmarkModel measures one tick of the model alone, visited in order
// (stride 1) or as one of several workers would (every k-th seq): the walk
// is advanced per chunk, so a strided visitor pays about as much per tick.
func BenchmarkModel(b *testing.B) {
	for _, stride := range []uint64{1, 2, 7} {
		b.Run(fmt.Sprintf("stride=%d", stride), func(b *testing.B) {
			m, err := NewModel(DefaultModelConfig())
			if err != nil {
				b.Fatal(err)
			}
			var tk tick.Tick
			b.ReportAllocs()
			for i := uint64(0); b.Loop(); i++ {
				m.Next(i*stride, int64(i), &tk)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
}

// BenchmarkGenerateEncode measures the generator's own ceiling: model step
// plus encoding as a record value, the work done per tick before Kafka, by
// 1 and 2 workers (goroutines with a Clone each, worker w taking the seqs n
// with n mod workers == w, as the producer's workers do), in each wire
// format (",wire=avro": Confluent-framed, the schema registered with an
// in-process registry); ticks/s is the total over the workers.
func BenchmarkGenerateEncode(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	for _, f := range wire.Formats {
		enc, err := wire.NewEncoder(b.Context(), wire.Config{Format: f, Registry: reg.URL()}, "ticks")
		if err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			name := fmt.Sprintf("workers=%d", workers)
			if f != wire.JSON {
				name += ",wire=" + f.String()
			}
			b.Run(name, func(b *testing.B) {
				m, err := NewModel(DefaultModelConfig())
				if err != nil {
					b.Fatal(err)
				}
				var bytes atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for w := range workers {
					src := m.Clone()
					wg.Go(func() {
						var tk tick.Tick
						buf := make([]byte, 0, 256)
						var n int64
						for seq := uint64(w); seq < uint64(b.N); seq += uint64(workers) {
							src.Next(seq, int64(seq), &tk)
							buf = enc.Append(buf[:0], &tk)
							n += int64(len(buf))
						}
						bytes.Add(n)
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ticks/s")
				b.ReportMetric(float64(bytes.Load())/float64(b.N), "bytes/tick")
			})
		}
	}
}
