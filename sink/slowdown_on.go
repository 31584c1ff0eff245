//go:build slowsink

package sink

import "sync/atomic"

// slowdownRounds of four independent xorshift chains per tick take about
// 0.35 µs (BenchmarkSlowdown: 0.33-0.38 on the machine the gate's figures
// were measured on): ~20% of the sink's own CPU per tick in the gate's
// throughput workload (~1.8 µs: stacks through the Sink, its Kafka
// consumer and its S3 client, by pprof over a 500,000-tick jsonl --backlog
// run, 2 December 2026; an earlier calibration found 2.6 µs and used 210
// rounds). Four chains run at several instructions a cycle, like ordinary
// code, so the instructions added are ~20% of the sink's as well.
// Re-calibrate when the sink's CPU per tick moves.
const slowdownRounds = 145

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
