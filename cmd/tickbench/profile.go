package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"

	"github.com/tickbench/tickbench/bench"
)

// startProfiles arranges a CPU profile of the run's first measured window
// (generation through drain: what CPU s/M counts, without the verification
// and lake model after it) and a heap profile when the generator finishes
// (when the most is in flight); the returned func stops and writes them.
// The files are created now, so a bad path fails before the run.
func startProfiles(cpuPath, memPath string, cfg *bench.Config) (func() error, error) {
	var (
		mu      sync.Mutex
		cpu     *os.File
		started bool
		cpuErr  error
	)
	stopCPU := func() {
		if started {
			pprof.StopCPUProfile()
			started = false
		}
		if cpu != nil {
			cpuErr = errors.Join(cpuErr, cpu.Close())
			cpu = nil
		}
	}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
		cfg.Measuring = func(start bool) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case start && cpu != nil && !started:
				if err := pprof.StartCPUProfile(cpu); err != nil {
					cpuErr = fmt.Errorf("--cpuprofile: %w", err)
					stopCPU()
					return
				}
				started = true
			case !start && started:
				stopCPU()
			}
		}
	}
	var memErr error
	if memPath != "" {
		cfg.AfterProduce = func() {
			f, err := os.Create(memPath)
			if err != nil {
				memErr = fmt.Errorf("--memprofile: %w", err)
				return
			}
			defer f.Close()
			runtime.GC()
			memErr = pprof.Lookup("heap").WriteTo(f, 0)
		}
	}
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		stopCPU()
		return errors.Join(cpuErr, memErr)
	}, nil
}
