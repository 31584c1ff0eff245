package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// buildTickbench builds the command for tests that run it as separate
// processes, and returns the repository root (their working directory:
// --stack local reads .tickbench/run there) and the binary.
func buildTickbench(t *testing.T) (root, bin string) {
	t.Helper()
	root = testrepo.Root(t)
	bin = filepath.Join(t.TempDir(), "tickbench")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tickbench")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return root, bin
}

// TestLocalSinkSurvivesKill9 is the exactly-once proof: a sink process is
// killed with SIGKILL at random moments while ticks stream in, and
// restarted each time; at the end every produced tick is in S3 exactly once.
func TestLocalSinkSurvivesKill9(t *testing.T) {
	cfg := localConfig(t)
	root, bin := buildTickbench(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	createLocalTopic(t, ctx, cfg)

	const rate, dur = 20_000, 12 * time.Second
	produced := make(chan *ProduceResult, 1)
	go func() {
		res, err := Produce(ctx, ProduceConfig{Brokers: cfg.Stack.Brokers, Topic: cfg.Topic, Partitions: 6,
			Rate: rate, Duration: dur, Model: gen.DefaultModelConfig(), Client: gen.DefaultClientConfig()})
		if err != nil {
			t.Error(err)
		}
		produced <- res
	}()

	group, prefix := "kill9-"+randomHex(4), "kill9/"+randomHex(4)+"/"
	args := []string{"sink", "--stack", "local", "--topic", cfg.Topic, "--group", group, "--prefix", prefix,
		"--flush-records", "700", "--flush-interval", "250ms", "--session-timeout", "2s"}
	start := func(extra ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, append(args, extra...)...)
		cmd.Dir = root // --stack local reads .tickbench/run
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	rng := rand.New(rand.NewPCG(7, 9))
	kills := 0
	var res *ProduceResult
	for res == nil || kills < 10 {
		cmd := start()
		// A random moment, not a wait for a condition: long enough past the
		// 2 s session of the last killed member for this one to be working.
		time.Sleep(time.Duration(2500+rng.IntN(2500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() //nolint:errcheck // killed on purpose
		kills++
		select {
		case res = <-produced:
		default:
		}
	}
	if res == nil || res.Acked == 0 {
		t.Fatal("producer failed")
	}
	last := exec.CommandContext(ctx, bin, append(args, "--until-caught-up", "--timeout", "2m")...)
	last.Dir, last.Stderr = root, os.Stderr
	out, err := last.Output()
	if err != nil {
		t.Fatalf("final sink: %v", err)
	}
	t.Logf("final sink: %s", strings.TrimSpace(string(out)))
	// The killed sinks must have done real work, or the kills proved nothing.
	var consumed int64
	fmt.Sscanf(string(out), "consumed %d", &consumed)
	if consumed > int64(res.Acked)/2 {
		t.Fatalf("the final sink consumed %d of %d ticks: the killed ones barely ran", consumed, res.Acked)
	}

	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := verify(ctx, st.S3, st.Bucket, prefix, sink.JSONL{}, allSeqs(res.Acked), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Landed != int64(res.Acked) || v.Duplicates != 0 {
		t.Fatalf("after %d kills: produced %d, verify %+v", kills, res.Acked, v)
	}
	t.Logf("%d SIGKILLs during %d ticks: %d objects, all %d ticks landed exactly once", kills, res.Acked, v.Objects, v.Landed)
}
