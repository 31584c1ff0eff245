package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/bench/dist"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/stack"
)

// The commands and flags of a run spread over processes (docs/distributed.md):
// produce --shard/--start-at/--result, sink --drain-at/--result, merge, verify.

// timeValue parses an RFC 3339 instant.
type timeValue struct{ t *time.Time }

func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339Nano)
}

func (v timeValue) Set(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return errors.New("not an RFC 3339 instant (e.g. 2026-12-02T03:00:00Z)")
	}
	*v.t = t
	return nil
}

// shardValue parses i/N.
type shardValue struct{ s *gen.Shard }

func (v shardValue) String() string {
	if v.s == nil {
		return ""
	}
	return v.s.String()
}

func (v shardValue) Set(s string) error {
	sh, err := gen.ParseShard(s)
	if err != nil {
		return err
	}
	*v.s = sh
	return nil
}

// resultFlag registers --result.
func resultFlag(fs *flag.FlagSet, role string) *string {
	return fs.String("result", "", "write this "+role+" process's result (counts, HdrHistograms, CPU, peak RSS, host, clock) to this file or s3://BUCKET/KEY, for tickbench merge")
}

// s3Store is where the S3 side of a command that only reads or writes
// results and objects is: --stack local, or --s3-endpoint/--region (and
// --bucket where it reads landed objects).
type s3Store struct {
	stackName *string
	cfg       stack.Config
}

func s3Flags(fs *flag.FlagSet, env environment, withStack, withBucket bool) *s3Store {
	s := &s3Store{cfg: stack.Default(), stackName: new(string)}
	if withStack {
		s.stackName = fs.String("stack", "", "local: the S3 server of make up (instead of --s3-endpoint)")
	}
	fs.StringVar(&s.cfg.S3Endpoint, "s3-endpoint", env.getenv("AWS_ENDPOINT_URL_S3"), "S3 API endpoint of s3:// results and landed objects (env AWS_ENDPOINT_URL_S3; empty: AWS S3 with the default credential chain)")
	if r := env.getenv("AWS_REGION"); r != "" {
		s.cfg.Region = r
	}
	fs.StringVar(&s.cfg.Region, "region", s.cfg.Region, "AWS region (env AWS_REGION)")
	if withBucket {
		fs.StringVar(&s.cfg.Bucket, "bucket", s.cfg.Bucket, "S3 bucket the objects landed in (with --stack local: the local one)")
	}
	return s
}

// config resolves --stack local; a bucket given on the command line wins.
func (s *s3Store) config(bucketGiven bool) (stack.Config, error) {
	switch *s.stackName {
	case "":
		s.cfg.AWS = s.cfg.S3Endpoint == ""
		return s.cfg, nil
	case "local":
		local, err := stack.Local(stack.LocalStateDir)
		if err != nil {
			return stack.Config{}, err
		}
		if bucketGiven {
			local.Bucket = s.cfg.Bucket
		}
		return local, nil
	}
	return stack.Config{}, usageError{fmt.Errorf("--stack %q: allowed local (or give --s3-endpoint)", *s.stackName)}
}

// connectS3 connects to sc's S3 for bucket (empty: sc's); the returned
// func closes it.
func connectS3(ctx context.Context, sc stack.Config, bucket string) (*s3.Client, func(), error) {
	if bucket != "" {
		sc.Bucket = bucket
	}
	st, err := stack.StartS3(ctx, sc)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to S3: %w", err)
	}
	return st.S3, func() { st.Close() }, nil
}

// saveResult writes a process's result to dest (a file or s3://) and says
// where.
func saveResult(ctx context.Context, env environment, dest string, r *result.Result, sc stack.Config) error {
	// The run may have ended by its context; its result is still written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var cl *s3.Client
	if bucket, _, ok := result.S3URL(dest); ok {
		var closeS3 func()
		var err error
		if cl, closeS3, err = connectS3(ctx, sc, bucket); err != nil {
			return fmt.Errorf("write result %s: %w", dest, err)
		}
		defer closeS3()
	}
	if err := r.Save(ctx, dest, cl); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "result     %s\n", dest)
	return nil
}

// needsS3 reports whether any of the paths is in S3.
func needsS3(paths []string) (bucket string, ok bool) {
	for _, p := range paths {
		if b, _, isS3 := result.S3URL(p); isS3 {
			return b, true
		}
	}
	return "", false
}

func runMerge(ctx context.Context, args []string, env environment) error {
	fs := newFlagSet("merge", env.stderr)
	out := fs.String("out", "", "write the merged result to this file (default: print the summary only)")
	store := s3Flags(fs, env, true, false)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{errors.New("merge takes the result files of one run's processes (RESULT.json ... or s3://BUCKET/PREFIX/)")}
	}
	if *out != "" && !strings.HasSuffix(*out, ".json") {
		return usageError{fmt.Errorf("--out %q: allowed a file name ending in .json (its .bench.txt and .hgrm files go beside it)", *out)}
	}
	var cl *s3.Client
	if bucket, ok := needsS3(pos); ok {
		sc, err := store.config(false)
		if err != nil {
			return err
		}
		var closeS3 func()
		if cl, closeS3, err = connectS3(ctx, sc, bucket); err != nil {
			return err
		}
		defer closeS3()
	}
	files, err := result.LoadResults(ctx, cl, pos)
	if err != nil {
		return err
	}
	merged, err := dist.Merge(files)
	if err != nil {
		return err
	}
	merged.PrintSummary(env.stdout)
	if *out != "" {
		if err := merged.Save(ctx, *out, nil); err != nil {
			return err
		}
		if _, err := merged.WriteCompanions(*out); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "\nresults    %s (and .bench.txt for benchstat, .hgrm per histogram; next: tickbench verify --result %s, tickbench report %s)\n", *out, *out, *out)
	}
	return nil
}

func runVerify(ctx context.Context, args []string, env environment) error {
	fs := newFlagSet("verify", env.stderr)
	prefix := fs.String("prefix", "", "S3 key prefix the sinks landed under (required; their --prefix)")
	var expect uint64
	fs.Uint64Var(&expect, "expect", 0, "ticks 0..N-1 must each have landed once (default: what the producers of --result acknowledged)")
	strategy := fs.String("strategy", "", "the sinks' --strategy, which sets the format read back (default: the one of --result, else jsonl)")
	resultPath := fs.String("result", "", "a merged result (tickbench merge --out): gives --expect and --strategy, and gets the verification written into it")
	store := s3Flags(fs, env, true, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *prefix == "" {
		return usageError{errors.New("--prefix: required (the sinks' --prefix)")}
	}
	var merged *result.Result
	if *resultPath != "" {
		var err error
		if merged, err = result.ReadResult(*resultPath); err != nil {
			return err
		}
		n, err := merged.Expected()
		if err != nil && !given(fs, "expect") {
			return err
		}
		if given(fs, "expect") && err == nil && n != expect {
			return usageError{fmt.Errorf("--expect %d: the producers of %s acknowledged %d ticks", expect, *resultPath, n)}
		}
		if !given(fs, "expect") {
			expect = n
		}
		for _, s := range merged.Strategies {
			if s.Prefix == *prefix && *strategy == "" {
				*strategy = s.Strategy
			}
		}
	}
	if expect < 1 || expect > 10_000_000_000 {
		return usageError{fmt.Errorf("--expect %d: allowed 1..10000000000 (or --result with a merged result)", expect)}
	}
	if *strategy == "" {
		*strategy = "jsonl"
	}
	sc, err := store.config(given(fs, "bucket"))
	if err != nil {
		return err
	}
	cl, closeS3, err := connectS3(ctx, sc, "")
	if err != nil {
		return err
	}
	defer closeS3()
	v, err := bench.VerifyLanded(ctx, cl, sc.Bucket, *prefix, *strategy, expect)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "verify     s3://%s/%s as %s: %d objects, %d ticks read, %d of %d expected landed once, %d missing, %d duplicates, %d foreign, %d bad objects\n",
		sc.Bucket, *prefix, *strategy, v.Objects, v.Landed, v.Unique, expect, v.Missing, v.Duplicates, v.Foreign, v.BadObjects)
	if merged != nil {
		if err := merged.SetVerify(*prefix, v); err != nil {
			return err
		}
		if err := merged.Save(ctx, *resultPath, nil); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "result     %s (verification written)\n", *resultPath)
	}
	if !v.OK {
		return fmt.Errorf("verification failed: %s", v.Problem)
	}
	fmt.Fprintln(env.stdout, "verified   exactly once")
	return nil
}
