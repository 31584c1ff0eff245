package bench

import (
	"testing"

	"github.com/tickbench/tickbench/gen"
)

// TestSetTicks: a fixed-count run's pacer schedules exactly the count, at
// the maximum rate as at slow ones, and the config validates.
func TestSetTicks(t *testing.T) {
	for _, rate := range []float64{gen.MaxRate, 7777.7, 1000, 3} {
		for _, n := range []uint64{1, 12_345, 200_000} {
			c := Default()
			c.Rate = rate
			c.SetTicks(n)
			if err := c.Validate(); err != nil {
				t.Errorf("rate %v ticks %d: %v", rate, n, err)
				continue
			}
			if got := gen.Total(gen.Constant{PerSecond: c.Rate, Duration: c.Duration}); got != n {
				t.Errorf("rate %v ticks %d: the pacer schedules %d", rate, n, got)
			}
		}
	}
}
