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
	cpu0    cpuTime
	peak    atomic.Int64
	stopped chan struct{}
	done    chan struct{}
}

type used struct {
	cpu     cpuTime
	peakRSS int64 // bytes; 0 where /proc is not available
}

// cpuTime is the process's CPU time in user mode and in the kernel on its
// behalf (system calls, page faults, the loopback network of the embedded
// servers).
type cpuTime struct{ user, sys time.Duration }

func (c cpuTime) total() time.Duration { return c.user + c.sys }

func (c cpuTime) minus(d cpuTime) cpuTime { return cpuTime{c.user - d.user, c.sys - d.sys} }

func startUsage() *usage {
	u := &usage{cpu0: processCPU(), stopped: make(chan struct{}), done: make(chan struct{})}
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
	return used{cpu: processCPU().minus(u.cpu0), peakRSS: u.peak.Load()}
}

func processCPU() cpuTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTime{}
	}
	return cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
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
