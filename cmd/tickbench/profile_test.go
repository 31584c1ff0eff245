package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

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
