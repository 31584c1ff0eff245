package bench

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// usage measures the process's CPU time and peak resident memory over a
// phase: the cost of a strategy when it runs alone.
type usage struct {
	cpu0    time.Duration
	mach0   machineCPU
	peak    atomic.Int64
	stopped chan struct{}
	done    chan struct{}
}

type used struct {
	cpu     time.Duration
	peakRSS int64 // bytes; 0 where /proc is not available
	// machine is the share of all the machine's cores busy (any
	// process: a local broker and S3 server too); 0 without /proc/stat.
	machine float64
}

func startUsage() *usage {
	u := &usage{cpu0: processCPU(), mach0: readMachineCPU(), stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss := residentBytes(); rss > u.peak.Load() {
				u.peak.Store(rss)
			}
			select {
			case <-u.stopped:
				return
			case <-t.C:
			}
		}
	}()
	return u
}

func (u *usage) stop() used {
	close(u.stopped)
	<-u.done
	m := readMachineCPU()
	out := used{cpu: processCPU() - u.cpu0, peakRSS: u.peak.Load()}
	if total := m.total - u.mach0.total; total > 0 {
		out.machine = float64(m.busy-u.mach0.busy) / float64(total)
	}
	return out
}

// machineCPU is /proc/stat's first line: jiffies of all cores, and of
// those not idle or waiting for I/O.
type machineCPU struct{ busy, total uint64 }

func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(string(v), 10, 64)
		if i >= 7 {
			break // guest time is already counted in user
		}
		m.total += n
		if i != 3 && i != 4 { // idle, iowait
			m.busy += n
		}
	}
	return m
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// residentBytes reads VmRSS from /proc/self/status (Linux).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
