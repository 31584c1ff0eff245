// Package laketest writes landed objects for the lake tests: the sink's own
// encoders and key layout, into a local folder laid out like the bucket.
package laketest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/lake/batching"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

// Object is one object Land wrote.
type Object struct {
	Key, Path string
	Ticks     []int // indexes into the ticks given to Land, in order
}

// Format returns the named sink format or fails the test.
func Format(t testing.TB, name string) sink.Format {
	t.Helper()
	f, err := sink.FormatByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Ticks returns n ticks of the default model (symbols of them), one every
// step nanoseconds from start (ns since the epoch).
func Ticks(t testing.TB, n, symbols int, start, step int64) []tick.Tick {
	t.Helper()
	cfg := gen.DefaultModelConfig()
	cfg.Symbols = symbols
	m, err := gen.NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tick.Tick, n)
	for i := range out {
		m.Next(uint64(i), start+int64(i)*step, &out[i])
	}
	return out
}

// Batching is how the producer spreads ticks over Kafka partitions and
// how the sink cuts each partition's ticks into batches.
type Batching = batching.Policy

// Land writes ticks in format under dir with layout l, as the sink does:
// batches of perObject consecutive ticks, each split into one object per
// layout folder. It returns the objects: their paths relative to dir
// (slash separated, like keys below the prefix) and the ticks in each.
func Land(t testing.TB, dir string, f sink.Format, l sink.Layout, ticks []tick.Tick, perObject int) []Object {
	t.Helper()
	var objs []Object
	LandFunc(t, f, l, ticks, Batching{Records: perObject}, func(o Object, body []byte) {
		o.Path = filepath.Join(dir, filepath.FromSlash(o.Key))
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o.Path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	})
	return objs
}

// LandFunc lands ticks in format f with layout l as the sink does (see
// batching.Land) and hands each object (Path empty) and its body to put.
func LandFunc(t testing.TB, f sink.Format, l sink.Layout, ticks []tick.Tick, b Batching, put func(o Object, body []byte)) {
	t.Helper()
	err := batching.Land(f, l, ticks, b, func(o batching.Object, body []byte) error {
		put(Object{Key: o.Key, Ticks: o.Ticks}, body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// DeletePrefix removes the objects under prefix in bucket, for a test's
// cleanup: a failure is the test's error, not its end.
func DeletePrefix(t testing.TB, cl *s3.Client, bucket, prefix string) {
	ctx := context.Background()
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Errorf("list %s: %v", prefix, err)
			return
		}
		var ids []types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		if len(ids) == 0 {
			continue
		}
		if _, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids}}); err != nil {
			t.Errorf("delete under %s: %v", prefix, err)
			return
		}
	}
}

// Thousands writes n with a comma between each three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
