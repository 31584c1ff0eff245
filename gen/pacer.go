package gen

import (
	"fmt"
	"math"
	"time"
)

// A Pacer decides when each tick is due. It is a pure value: it holds no
// clock and never sleeps, so it is tested with plain tables.
type Pacer interface {
	// Pace returns how long to wait before sending tick number sent (the
	// count already sent), given the time elapsed since the run began; wait
	// <= 0 means it is due (or overdue) now. stop reports that the run has
	// no tick number sent.
	Pace(elapsed time.Duration, sent uint64) (wait time.Duration, stop bool)
	// Due returns the intended offset from the run's start of tick n, and
	// false when the run has no tick n.
	Due(n uint64) (time.Duration, bool)
	// Rate returns the target rate in ticks per second at elapsed.
	Rate(elapsed time.Duration) float64
}

// MaxRate is the highest rate a pacer accepts, in ticks per second.
const MaxRate = 10_000_000

// Constant paces PerSecond ticks a second for Duration: tick n is due at
// n/PerSecond, and the run has exactly ceil(PerSecond * Duration) ticks.
type Constant struct {
	PerSecond float64
	Duration  time.Duration
}

// Validate names the bad field and its allowed range.
func (c Constant) Validate() error {
	if !(c.PerSecond >= 1 && c.PerSecond <= MaxRate) {
		return fmt.Errorf("rate %v: allowed 1..%d ticks/s", c.PerSecond, MaxRate)
	}
	if c.Duration < time.Second || c.Duration > 7*24*time.Hour {
		return fmt.Errorf("duration %v: allowed 1s..168h", c.Duration)
	}
	return nil
}

// Due implements Pacer.
func (c Constant) Due(n uint64) (time.Duration, bool) {
	d := time.Duration(math.Round(float64(n) * float64(time.Second) / c.PerSecond))
	return d, d < c.Duration
}

// Pace implements Pacer.
func (c Constant) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	due, ok := c.Due(sent)
	if !ok {
		return 0, true
	}
	return due - elapsed, false
}

// Rate implements Pacer.
func (c Constant) Rate(time.Duration) float64 { return c.PerSecond }

// Total returns how many ticks a pacer schedules in all, by walking Due.
// Constant answers in O(1); other shapes may be walked.
func Total(p Pacer) uint64 {
	if c, ok := p.(Constant); ok {
		n := uint64(math.Ceil(c.PerSecond * c.Duration.Seconds()))
		// Guard rounding at the boundary: the last tick must be due before Duration.
		for n > 0 {
			if _, ok := c.Due(n - 1); ok {
				break
			}
			n--
		}
		for {
			if _, ok := c.Due(n); !ok {
				return n
			}
			n++
		}
	}
	var n uint64
	for {
		if _, ok := p.Due(n); !ok {
			return n
		}
		n++
	}
}

// Unlimited schedules Count ticks all due at once: the producer sends as
// fast as back-pressure allows. Latency measured from intended times then
// only says how long the whole backlog took; use it for throughput.
type Unlimited struct {
	Count uint64
}

// Due implements Pacer.
func (u Unlimited) Due(n uint64) (time.Duration, bool) { return 0, n < u.Count }

// Pace implements Pacer.
func (u Unlimited) Pace(_ time.Duration, sent uint64) (time.Duration, bool) {
	return 0, sent >= u.Count
}

// Rate implements Pacer: 0 means unlimited.
func (Unlimited) Rate(time.Duration) float64 { return 0 }
