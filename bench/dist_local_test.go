package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// TestLocalDistributedRun is a run spread over OS processes, as on several
// hosts: 3 generator shards with a shared start and 2 sink members of one
// consumer group, one of them killed with SIGKILL mid-run; then merge and
// verify, as separate commands. Every tick the shards acknowledged must be
// in S3 exactly once, and the merged result must say so.
func TestLocalDistributedRun(t *testing.T) {
	cfg := localConfig(t)
	root, bin := buildTickbench(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	createLocalTopic(t, ctx, cfg)

	const shards, rate, dur = 3, 6000, 12 * time.Second
	// The start leaves the processes time to start and the sinks to join.
	start := time.Now().Add(4 * time.Second).UTC()
	drainAt := start.Add(dur + 2*time.Second)
	dir := t.TempDir()
	group, prefix := "dist-"+randomHex(4), "dist/"+randomHex(4)+"/"
	outs := map[*exec.Cmd]*lockedBuffer{}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = root
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		outs[cmd] = out
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s:\n%s", name, out.String())
			}
		})
		return cmd
	}
	var prods, sinks []*exec.Cmd
	var results []string
	for i := range shards {
		res := filepath.Join(dir, fmt.Sprintf("produce-%d.json", i))
		results = append(results, res)
		prods = append(prods, run(fmt.Sprintf("produce %d/%d", i, shards), "produce", "--stack", "local", "--topic", cfg.Topic,
			"--rate", fmt.Sprint(rate), "--duration", dur.String(), "--shard", fmt.Sprintf("%d/%d", i, shards),
			"--start-at", start.Format(time.RFC3339Nano), "--result", res))
	}
	for i := range 2 {
		res := filepath.Join(dir, fmt.Sprintf("sink-%d.json", i))
		if i == 0 {
			results = append(results, res) // sink 1 is killed: no result
		}
		sinks = append(sinks, run(fmt.Sprintf("sink %d", i), "sink", "--stack", "local", "--topic", cfg.Topic, "--group", group,
			"--prefix", prefix, "--flush-records", "2000", "--flush-interval", "500ms", "--session-timeout", "2s",
			"--drain-at", drainAt.Format(time.RFC3339Nano), "--timeout", "1m", "--result", res, "--metrics-addr", "127.0.0.1:0"))
	}
	// Sink 1 is killed a third into production, or later if it has not
	// landed anything by then (a slow machine, a late join), before the
	// drain: it must have landed and committed some batches, and it holds
	// others open.
	killAfterLanding(t, sinks[1], outs[sinks[1]], start.Add(dur/3), drainAt)
	sinks[1].Wait() //nolint:errcheck // killed on purpose
	if id := os.Getenv("TICKBENCH_STOP_BROKER"); id != "" {
		stopBroker(t, ctx, root, id, start.Add(dur/2), cfg.Stack.Brokers)
	}
	for i, cmd := range append(prods, sinks[0]) {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d (%v): %v", i, cmd.Args[1:3], err)
		}
	}

	merged := filepath.Join(dir, "merged.json")
	tickbench := func(args ...string) string {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tickbench %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	summary := tickbench(append([]string{"merge", "--out", merged}, results...)...)
	verified := tickbench("verify", "--stack", "local", "--prefix", prefix, "--result", merged)
	m, err := result.ReadResult(merged)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := os.ReadFile(strings.TrimSuffix(merged, ".json") + ".bench.txt")
	if err != nil || !strings.Contains(string(lines), "BenchmarkTickbench/strategy=jsonl/rate=6000 1 ") {
		t.Fatalf("the merge's benchmark lines: %v\n%s", err, lines)
	}
	want := uint64(rate * dur / time.Second) // --rate is the run's, shared by the shards
	s := m.Strategies[0]
	if p := s.Producer; p.Sent != want || p.Acked != want || p.Failed != 0 {
		t.Fatalf("producers sent %d, acked %d, failed %d: want %d, the single generator's stream", p.Sent, p.Acked, p.Failed, want)
	}
	if !m.Verified || !s.Verify.OK || s.Verify.Unique != int64(want) || s.Verify.Landed != int64(want) || len(m.Processes) != shards+1 {
		t.Fatalf("merged: verified %v, %+v, %d processes: want %d ticks landed exactly once, %d process rows\n%s%s",
			m.Verified, s.Verify, len(m.Processes), want, shards+1, summary, verified)
	}
	// The killed member's work must show, or killing it proved nothing:
	// what it committed the survivor did not consume again, and what it
	// landed without committing the survivor found in S3 already, byte
	// for byte, when it replayed those records (a slow machine may leave
	// only the latter by the kill).
	if s.Consumed >= int64(want) && s.ExistingObjects == 0 {
		t.Fatalf("the surviving sink consumed %d of %d ticks and found no object already landed: the killed one did nothing", s.Consumed, want)
	}
	t.Logf("%d ticks from %d shards, one of 2 sinks SIGKILLed mid-run: survivor consumed %d (%d objects already there), all landed exactly once in %d objects\n%s%s",
		want, shards, s.Consumed, s.ExistingObjects, s.Verify.Objects, summary, verified)
}

// stopBroker stops broker id of a cluster of 3 or more (make up BROKERS=3)
// at the instant given, with the scripts that started it, and starts it
// again once the test ends: with replication factor 3 and
// min.insync.replicas 2 no acknowledged tick may be lost.
func stopBroker(t *testing.T, ctx context.Context, root, id string, at time.Time, brokers []string) {
	t.Helper()
	if len(brokers) < 3 {
		t.Fatalf("TICKBENCH_STOP_BROKER=%s: needs a cluster of 3 brokers or more (make up BROKERS=3), the stack has %d", id, len(brokers))
	}
	script := func(ctx context.Context, verb string) {
		cmd := exec.CommandContext(ctx, "bash", "scripts/kafka.sh", verb, id)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kafka.sh %s %s: %v\n%s", verb, id, err, out)
		}
	}
	time.Sleep(time.Until(at))
	script(ctx, "broker-stop")
	// After the test's context has ended: the broker must be back for
	// the tests that follow.
	t.Cleanup(func() { script(context.Background(), "broker-start") })
	t.Logf("broker %s stopped mid-run", id)
}

// lockedBuffer is a process's output, written by exec's copying goroutine
// and read by the test while the process runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// killAfterLanding SIGKILLs a sink process (run with --metrics-addr) at
// notBefore, or later once its metrics show landed ticks: two seconds
// after they first do, for the commits that follow a landing, and at
// latest at deadline. It fails the test if the sink has landed nothing by
// deadline: killing it then would prove nothing.
func killAfterLanding(t *testing.T, cmd *exec.Cmd, out *lockedBuffer, notBefore, deadline time.Time) {
	t.Helper()
	addrRE := regexp.MustCompile(`metrics    (http://127\.0\.0\.1:\d+/metrics)`)
	landedRE := regexp.MustCompile(`(?m)^tickbench_landed_ticks_total\{strategy="[^"]+"\} (\S+)$`)
	landed := func() float64 {
		a := addrRE.FindStringSubmatch(out.String())
		if a == nil {
			return 0
		}
		resp, err := http.Get(a[1])
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		m := landedRE.FindSubmatch(body)
		if err != nil || m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	var first time.Time // when the metrics first showed landed ticks
	n := 0.0
	for {
		time.Sleep(100 * time.Millisecond)
		now := time.Now()
		if n = landed(); n > 0 && first.IsZero() {
			first = now
		}
		if first.IsZero() {
			if now.After(deadline) {
				t.Fatalf("the sink to be killed landed nothing by %s: killing it would prove nothing", deadline.Format(time.RFC3339Nano))
			}
			continue
		}
		if (!now.Before(notBefore) && !now.Before(first.Add(2*time.Second))) || now.After(deadline) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("sink killed %.1fs after the planned instant, having landed %.0f ticks (the first %.1fs before)", time.Since(notBefore).Seconds(), n, time.Since(first).Seconds())
}
