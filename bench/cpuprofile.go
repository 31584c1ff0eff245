package bench

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"

	"github.com/tickbench/tickbench/bench/cpusplit"
	"github.com/tickbench/tickbench/bench/result"
)

// cpuProfile is a phase's CPU profile, in memory.
type cpuProfile struct {
	buf     bytes.Buffer
	started bool
}

// startCPUProfile starts profiling the phase's measured window when the
// run asks for it (Config.CPUProfile); nil when it does not. Another
// profile already running (a test's -cpuprofile) is an error.
func startCPUProfile(cfg Config) (*cpuProfile, error) {
	if cfg.CPUProfile == nil {
		return nil, nil
	}
	p := &cpuProfile{}
	if err := pprof.StartCPUProfile(&p.buf); err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	p.started = true
	return p, nil
}

// stop ends the profile and returns its bytes (gzipped pprof); nil for a
// nil profile. It may be called again (an error path after the drain).
func (p *cpuProfile) stop() []byte {
	if p == nil {
		return nil
	}
	if p.started {
		pprof.StopCPUProfile()
		p.started = false
	}
	return p.buf.Bytes()
}

// splitCPU splits a phase's profile by stage for a window of ticks ticks.
func splitCPU(profile []byte, ticks uint64) (*result.CPUSplit, error) {
	p, err := cpusplit.Parse(profile)
	if err != nil {
		return nil, err
	}
	return cpusplit.Of(p, ticks)
}

// labelled runs f with the goroutine labelled as side of the pipeline, so
// every goroutine it starts (a Kafka client's, the sink's, the embedded
// servers') carries the side into the CPU profile (package cpusplit).
func labelled(ctx context.Context, side string, f func(context.Context)) {
	pprof.Do(ctx, pprof.Labels(cpusplit.Key, side), f)
}
