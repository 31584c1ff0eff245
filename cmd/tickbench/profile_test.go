package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/tickbench/tickbench/bench"
)

// The first measured window's profile is written to the file; a second
// window (a later phase) leaves it alone.
func TestCPUProfileKeepsFirstWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	var cfg bench.Config
	stop, err := startProfiles(path, "", false, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CPUProfile == nil {
		t.Fatal("startProfiles set no CPUProfile hook")
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("before the window: %v, %v; want an empty file", fi, err)
	}
	cfg.CPUProfile([]byte("first"))
	cfg.CPUProfile([]byte("second"))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "first" {
		t.Fatalf("file holds %q, %v; want the first window's profile", got, err)
	}
}

// --cpu-split alone profiles in memory: a hook and no file.
func TestCPUSplitWithoutFile(t *testing.T) {
	var cfg bench.Config
	stop, err := startProfiles("", "", true, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CPUProfile == nil {
		t.Fatal("--cpu-split set no CPUProfile hook")
	}
	cfg.CPUProfile([]byte("window"))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var none bench.Config
	if _, err := startProfiles("", "", false, &none); err != nil || none.CPUProfile != nil {
		t.Fatalf("no flag: err %v, hook set %v; want no profile", err, none.CPUProfile != nil)
	}
}

func TestCPUProfileBadPath(t *testing.T) {
	var cfg bench.Config
	_, err := startProfiles(filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.pprof"), "", false, &cfg)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("--cpuprofile")) {
		t.Fatalf("err = %v, want a --cpuprofile error", err)
	}
}

// profile-split prints the split of a profile file; bad arguments name
// the value and what is allowed.
func TestProfileSplit(t *testing.T) {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	for i, name := range []string{"github.com/tickbench/tickbench/gen.(*Model).Next", "github.com/twmb/franz-go/pkg/kfake.(*Cluster).run"} {
		f := &profile.Function{ID: uint64(i + 1), Name: name}
		loc := &profile.Location{ID: uint64(i + 1), Line: []profile.Line{{Function: f}}}
		p.Function, p.Location = append(p.Function, f), append(p.Location, loc)
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{loc}, Value: []int64{1, int64(i+1) * 1e9}})
	}
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, _ := testEnv()
	if err := run(t.Context(), []string{"profile-split", "--profile", path, "--ticks", "2000000"}, env); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"generator        0.500  33.3%", "broker           1.000  66.7%", "profile          1.500"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", path}, "--ticks 0: allowed 1..1000000000000"},
		{[]string{"--ticks", "5"}, "--profile: give the CPU profile file"},
		{[]string{"--profile", filepath.Join(filepath.Dir(path), "none"), "--ticks", "5"}, "no such file"},
		{[]string{"--profile", os.Args[0], "--ticks", "5"}, "cpu profile:"},
	} {
		env, _, _ := testEnv()
		err := run(t.Context(), append([]string{"profile-split"}, c.args...), env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
}
