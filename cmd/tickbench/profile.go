package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/tickbench/tickbench/bench"
)

// startProfiles starts a CPU profile now and arranges a heap profile when
// the generator finishes (when the most is in flight); the returned func
// stops and writes them.
func startProfiles(cpuPath, memPath string, cfg *bench.Config) (func() error, error) {
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
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
		var err error
		if cpu != nil {
			pprof.StopCPUProfile()
			err = cpu.Close()
		}
		return errors.Join(err, memErr)
	}, nil
}
