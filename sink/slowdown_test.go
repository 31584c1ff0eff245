//go:build slowsink

package sink

import "testing"

// BenchmarkSlowdown is the CPU the slowed build adds per tick (ns/op).
func BenchmarkSlowdown(b *testing.B) {
	for b.Loop() {
		slowdown(1)
	}
}
