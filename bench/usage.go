package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// usage measures the process's CPU time and peak resident memory over a
// phase: the cost of a strategy when it runs alone.
type usage struct {
	cpu0    cpuTime
	wall0   time.Time
	servers map[string]int           // name -> pid of the stack's server processes
	srv0    map[string]time.Duration // their CPU at the start
	mach0   machineCPU
	peak    atomic.Int64
	stopped chan struct{}
	done    chan struct{}
}

type used struct {
	cpu     cpuTime
	wall    time.Duration
	servers map[string]time.Duration // CPU of each server process that was there throughout
	peakRSS int64                    // bytes; 0 where /proc is not available
	// machine is the share of all the machine's cores busy (any
	// process: a local broker and S3 server too); 0 without /proc/stat.
	machine float64
}

// cpuTime is the process's CPU time in user mode and in the kernel on its
// behalf (system calls, page faults, the loopback network of the embedded
// servers).
type cpuTime struct{ user, sys time.Duration }

func (c cpuTime) total() time.Duration { return c.user + c.sys }

func (c cpuTime) minus(d cpuTime) cpuTime { return cpuTime{c.user - d.user, c.sys - d.sys} }

// startUsage starts measuring this process and the server processes of
// servers (name -> pid; nil for none).
func startUsage(servers map[string]int) *usage {
	u := &usage{cpu0: processCPU(), mach0: readMachineCPU(), wall0: time.Now(), servers: servers, srv0: map[string]time.Duration{},
		stopped: make(chan struct{}), done: make(chan struct{})}
	for name, pid := range servers {
		if c, ok := pidCPU(pid); ok {
			u.srv0[name] = c
		}
	}
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
	us := used{cpu: processCPU().minus(u.cpu0), wall: time.Since(u.wall0), peakRSS: u.peak.Load()}
	for name, c0 := range u.srv0 {
		if c, ok := pidCPU(u.servers[name]); ok && c >= c0 {
			if us.servers == nil {
				us.servers = map[string]time.Duration{}
			}
			us.servers[name] = c - c0
		}
	}
	m := readMachineCPU()
	if total := m.total - u.mach0.total; total > 0 {
		us.machine = float64(m.busy-u.mach0.busy) / float64(total)
	}
	return us
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

// byProcess is tickbench's CPU and each server's, busiest first.
func (us used) byProcess() []result.ProcessCPU {
	if us.wall <= 0 {
		return nil
	}
	cpu := us.cpu.total().Seconds()
	out := []result.ProcessCPU{{Name: "tickbench", CPUSeconds: cpu, Cores: cpu / us.wall.Seconds()}}
	for name, c := range us.servers {
		out = append(out, result.ProcessCPU{Name: name, CPUSeconds: c.Seconds(), Cores: c.Seconds() / us.wall.Seconds()})
	}
	slices.SortFunc(out, func(a, b result.ProcessCPU) int {
		return cmp.Or(cmp.Compare(b.CPUSeconds, a.CPUSeconds), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// pidCPU is the user and system CPU time of process pid so far, from
// /proc/PID/stat (Linux); false when it cannot be read (the process ended).
func pidCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// fields are counted after its closing one. utime and stime are
	// fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, true
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

// openFiles is how many file descriptors the process holds (Linux; 0
// elsewhere).
func openFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(fds) - 1 // the directory's own, open while it is read
}

// heapLive is the heap the last garbage collection kept.
func heapLive() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
