package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickbench/tickbench/bench"
)

// The CPU profile starts with the first measured window and ends with it;
// a second window (a later phase) leaves the written file alone.
func TestCPUProfileCoversFirstWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	var cfg bench.Config
	stop, err := startProfiles(path, "", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Measuring == nil {
		t.Fatal("startProfiles set no Measuring hook")
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("before the window: %v, %v; want an empty file", fi, err)
	}
	cfg.Measuring(true)
	cfg.Measuring(false)
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte{0x1f, 0x8b}) {
		t.Fatalf("after the window the file holds %d bytes, not a gzipped profile", len(first))
	}
	cfg.Measuring(true)
	cfg.Measuring(false)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Fatalf("a second window rewrote the profile (%d bytes, then %d)", len(first), len(again))
	}
}

func TestCPUProfileBadPath(t *testing.T) {
	var cfg bench.Config
	_, err := startProfiles(filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.pprof"), "", &cfg)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("--cpuprofile")) {
		t.Fatalf("err = %v, want a --cpuprofile error", err)
	}
}
