//go:build slowsink

package sink

import "sync/atomic"

// slowdownRounds of four independent xorshift chains per tick make the
// slowed build ~20% slower in the gate's throughput workload (its
// cpu-s/Mtick, the sink consuming a jsonl backlog with the embedded broker
// and S3 server serving it). Four chains run at several instructions a
// cycle, like ordinary code, so the instructions added are a like share.
// Calibrated by the effect the gate measured: 145 rounds (~0.35 µs a tick,
// BenchmarkSlowdown) moved cpu-s/Mtick by +22.9…+37.9% (median +23.7%) in
// five gates on 2 December 2026, after the sink's decoder got cheaper; an
// earlier sink took 210 rounds. Re-calibrate when the sink's CPU per tick
// moves.
const slowdownRounds = 122

// slowdownSeed keeps the compiler from dropping the chains.
var slowdownSeed atomic.Uint64

// slowdown burns CPU in proportion to ticks: the deliberately slowed build
// (-tags slowsink) the gate's error-rate script must catch.
func slowdown(ticks int) {
	a := slowdownSeed.Load() | 1
	b, c, d := a+1, a+2, a+3
	for range ticks * slowdownRounds {
		a ^= a << 13
		b ^= b << 13
		c ^= c << 13
		d ^= d << 13
		a ^= a >> 7
		b ^= b >> 7
		c ^= c >> 7
		d ^= d >> 7
		a ^= a << 17
		b ^= b << 17
		c ^= c << 17
		d ^= d << 17
	}
	slowdownSeed.Store(a ^ b ^ c ^ d)
}
