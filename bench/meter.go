package bench

import (
	"os"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// processMeter follows a process's run: CPU, peak memory and the clock.
type processMeter struct {
	use  *usage
	wall time.Time // with its monotonic reading
	host string
}

func startProcessMeter() *processMeter {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown (" + err.Error() + ")"
	}
	return &processMeter{use: startUsage(nil), wall: time.Now(), host: host}
}

// row stops the meter and returns the process's row; call it once.
func (m *processMeter) row(role string) result.Process {
	used := m.use.stop()
	end := time.Now()
	mono := end.Sub(m.wall) // monotonic: both readings carry it
	wall := end.Round(0).Sub(m.wall.Round(0))
	c := result.Clock{WallStart: m.wall.Round(0).UTC(), WallEnd: end.Round(0).UTC(), MonotonicS: mono.Seconds(), SteppedS: (wall - mono).Seconds()}
	c.Sync, c.MaxErrorUS, c.EstErrorUS = clockSync()
	return result.Process{Role: role, Host: m.host, PID: os.Getpid(), CPUSeconds: used.cpu.total().Seconds(),
		PeakRSSBytes: used.peakRSS, Clock: c, Machine: result.ThisMachine()}
}
