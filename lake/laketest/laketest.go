// Package laketest writes landed objects for the lake tests: the sink's own
// encoders and key layout, into a local folder laid out like the bucket.
package laketest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tickbench/tickbench/gen"
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

// Land writes ticks in format under dir with layout l, as the sink does:
// batches of perObject consecutive ticks, each split into one object per
// layout folder. It returns the objects: their paths relative to dir
// (slash separated, like keys below the prefix) and the ticks in each.
func Land(t testing.TB, dir string, f sink.Format, l sink.Layout, ticks []tick.Tick, perObject int) []Object {
	t.Helper()
	var keys []Object
	for b := 0; b < len(ticks); b += perObject {
		batch := ticks[b:min(b+perObject, len(ticks))]
		var dirs []string
		byDir := map[string][]int{}
		for i := range batch {
			d := l.Dir(&batch[i])
			if _, ok := byDir[d]; !ok {
				dirs = append(dirs, d)
			}
			byDir[d] = append(byDir[d], b+i)
		}
		for _, d := range dirs {
			enc := f.NewEncoder()
			for _, i := range byDir[d] {
				if err := enc.Append(&ticks[i]); err != nil {
					t.Fatal(err)
				}
			}
			body, err := enc.Finish()
			if err != nil {
				t.Fatal(err)
			}
			key := sink.ObjectKey("", d, "ticks", 0, int64(byDir[d][0]), f.Ext())
			path := filepath.Join(dir, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, Object{Key: key, Path: path, Ticks: byDir[d]})
		}
	}
	return keys
}
