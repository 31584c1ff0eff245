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

// startProfiles arranges a CPU profile of every measured window
// (generation through drain: what CPU s/M counts, without the verification
// and lake model after it) when split or cpuPath asks, split by stage into
// the result's rows, the first window's written to cpuPath; and a heap
// profile when the generator finishes (when the most is in flight). The
// returned func writes what is left and reports the errors. The files are
// created now, so a bad path fails before the run.
func startProfiles(cpuPath, memPath string, split bool, cfg *bench.Config) (func() error, error) {
	var (
		mu     sync.Mutex
		cpu    *os.File
		cpuErr error
	)
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
	}
	if cpuPath != "" || split {
		cfg.CPUProfile = func(p []byte) {
			mu.Lock()
			defer mu.Unlock()
			if cpu == nil {
				return
			}
			_, err := cpu.Write(p)
			cpuErr = errors.Join(err, cpu.Close())
			cpu = nil
			if cpuErr != nil {
				cpuErr = fmt.Errorf("--cpuprofile: %w", cpuErr)
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
		if cpu != nil { // no window was measured
			cpuErr = errors.Join(cpuErr, cpu.Close())
			cpu = nil
		}
		return errors.Join(cpuErr, memErr)
	}, nil
}
