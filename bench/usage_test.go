package bench

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// TestPidCPU reads this process's CPU from /proc/PID/stat: it grows by
// about the CPU burnt, and a process that does not exist has none.
func TestPidCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: not Linux")
	}
	before, ok := pidCPU(os.Getpid())
	if !ok {
		t.Fatal("own /proc/PID/stat not readable")
	}
	p0 := processCPU()
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
	}
	after, _ := pidCPU(os.Getpid())
	burnt := processCPU().minus(p0).total()
	// /proc counts in 10 ms ticks, rusage in microseconds.
	if got := after - before; got < burnt-50*time.Millisecond || got > burnt+50*time.Millisecond {
		t.Errorf("/proc says %v used, rusage %v", got, burnt)
	}
	if _, ok := pidCPU(1 << 30); ok {
		t.Error("a pid that cannot exist has a CPU time")
	}
}

// TestByProcess: the busiest process first, cores over the phase's wall
// time, and the summary names each.
func TestByProcess(t *testing.T) {
	us := used{cpu: cpuTime{user: 2 * time.Second, sys: time.Second}, wall: 2 * time.Second,
		servers: map[string]time.Duration{"s3": time.Second, "kafka": 4 * time.Second}}
	got := us.byProcess()
	if len(got) != 3 || got[0].Name != "kafka" || got[1].Name != "tickbench" || got[2].Name != "s3" {
		t.Fatalf("order %+v, want kafka, tickbench, s3", got)
	}
	if got[0].Cores != 2 || got[1].Cores != 1.5 || got[2].Cores != 0.5 {
		t.Errorf("cores %+v, want 2, 1.5, 0.5", got)
	}
	r := &result.Result{Machine: result.Machine{CPUs: 2}, Strategies: []result.StrategyResult{{Strategy: "jsonl", CPUByProcess: got}}}
	var b strings.Builder
	r.PrintSummary(&b)
	if want := "cores used during jsonl: kafka 2.00, tickbench 1.50, s3 0.50 (of 2 on this machine)"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}
