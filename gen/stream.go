package gen

// stream is a counter-based random source (SplitMix64): set its state from
// a key and it yields the same numbers every time, so the draws of any one
// tick, or of any one step of a symbol's price walk, are computable without
// computing those before them. That is what lets several goroutines (and
// later several processes) generate disjoint ticks of one stream.
type stream struct{ s uint64 }

// golden is SplitMix64's increment, 2^64 / the golden ratio (odd).
const golden = 0x9e3779b97f4a7c15

// Uint64 implements rand.Source.
func (r *stream) Uint64() uint64 {
	r.s += golden
	return mix(r.s)
}

// mix is SplitMix64's finalizer: a bijection of uint64 that spreads every
// input bit over the output, so keys that differ in one bit (neighbouring
// tick numbers) start unrelated streams.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// key derives the key of a domain (ticks, price walk, symbols) from a seed,
// so the domains' streams never coincide for one seed.
func key(seed, domain uint64) uint64 { return mix(mix(seed) ^ domain*golden) }
