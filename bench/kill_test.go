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
	"github.com/tickbench/tickbench/sink/iceberg"
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prefix := "kill9/" + randomHex(4) + "/"
	res, kills, st := killSinks(t, ctx, cfg, prefix, 10, "--strategy", "jsonl")
	v, err := verify(ctx, st.S3, st.Bucket, prefix, sink.JSONL{}, allSeqs(res.Acked), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Landed != int64(res.Acked) || v.Duplicates != 0 {
		t.Fatalf("after %d kills: produced %d, verify %+v", kills, res.Acked, v)
	}
	t.Logf("%d SIGKILLs during %d ticks: %d objects, all %d ticks landed exactly once", kills, res.Acked, v.Objects, v.Landed)
}

// TestLocalIcebergSinkSurvivesKill9 is the same proof for an Iceberg table
// committed to every 300 ms, so that kills fall between uploads and
// commits and during commits: every produced tick is in the table once, and
// objects landed but never committed are orphans, not rows.
func TestLocalIcebergSinkSurvivesKill9(t *testing.T) {
	cfg := localConfig(t)
	if cfg.Stack.IcebergREST == "" {
		t.Fatal("the local stack has no Iceberg REST catalog: `make up` starts it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prefix, table := "kill9ice/"+randomHex(4)+"/", "kill9_"+randomHex(4)
	res, kills, st := killSinks(t, ctx, cfg, prefix, 5, "--strategy", "iceberg-parquet-zstd", "--table", table, "--commit-interval", "300ms")
	cat, err := st.IcebergCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := iceberg.Open(ctx, cat, TableNamespace, table, tableLocation(st.Bucket, prefix+"data/"), sink.LayoutHourly, "zstd")
	if err != nil {
		t.Fatal(err)
	}
	in, err := tbl.Info(ctx, cfg.Topic)
	if err != nil {
		t.Fatal(err)
	}
	only := map[string]bool{}
	for _, f := range in.Files {
		only[f.Key] = true
	}
	f, _ := sink.FormatByName("parquet-zstd")
	v, err := verify(ctx, st.S3, st.Bucket, prefix+"data/", f, allSeqs(res.Acked), only)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Landed != int64(res.Acked) || v.Duplicates != 0 || in.Records != int64(res.Acked) {
		t.Fatalf("after %d kills: produced %d, the table holds %d records, verify %+v", kills, res.Acked, in.Records, v)
	}
	t.Logf("%d SIGKILLs during %d ticks: %d snapshots, %d files, all %d ticks in the table once; %d orphans (%d bytes)",
		kills, res.Acked, in.Snapshots, len(in.Files), v.Landed, v.Orphans, v.OrphanBytes)
}

// killSinks produces 12 s of ticks at 20,000/s while sink processes
// (tickbench sink with strategy args) land them into prefix, each killed
// with SIGKILL at a random moment and restarted, at least kills times and
// until production ends; then one more sink lands the rest. It returns what
// was produced, the kills, and the local stack to check S3 with.
func killSinks(t *testing.T, ctx context.Context, cfg Config, prefix string, kills int, strategy ...string) (*ProduceResult, int, *stack.Stack) {
	t.Helper()
	root, bin := buildTickbench(t)
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

	group := "kill9-" + randomHex(4)
	args := append([]string{"sink", "--stack", "local", "--topic", cfg.Topic, "--group", group, "--prefix", prefix,
		"--flush-records", "700", "--flush-interval", "250ms", "--session-timeout", "2s"}, strategy...)
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
	n := 0
	var res *ProduceResult
	for res == nil || n < kills {
		cmd := start()
		// A random moment, not a wait for a condition: long enough past the
		// 2 s session of the last killed member for this one to be working.
		time.Sleep(time.Duration(2500+rng.IntN(2500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() //nolint:errcheck // killed on purpose
		n++
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
	t.Cleanup(func() { st.Close() })
	return res, n, st
}
