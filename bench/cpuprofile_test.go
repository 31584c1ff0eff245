package bench

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/cpusplit"
)

// TestRunCPUSplit: a short embedded run with a profile per phase gets a
// split in each strategy's row whose stages add up to the profile's total,
// and the pipeline's stages all appear in it; the hook gets the profile.
func TestRunCPUSplit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Rate = 50000
	var profiles [][]byte
	cfg.CPUProfile = func(p []byte) { profiles = append(profiles, p) }
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 1 {
		t.Fatalf("%d profiles handed over, want 1 (one phase)", len(profiles))
	}
	s := res.Strategies[0]
	split := s.CPUSplit
	if split == nil {
		t.Fatal("no cpu split in the row")
	}
	p, err := cpusplit.Parse(profiles[0])
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, smp := range p.Sample {
		total += smp.Value[1]
	}
	if got := split.CPUSeconds; math.Abs(got-float64(total)/1e9) > 1e-9 || total == 0 {
		t.Fatalf("split total %v s, profile's samples %v s; want them equal and not 0", got, float64(total)/1e9)
	}
	if split.Ticks != s.Producer.Acked {
		t.Fatalf("split over %d ticks, the run acked %d", split.Ticks, s.Producer.Acked)
	}
	var sum, shares float64
	got := map[string]float64{}
	for _, st := range split.Stages {
		sum += st.CPUSeconds
		shares += st.Share
		got[st.Stage] = st.CPUSeconds
	}
	if math.Abs(sum-split.CPUSeconds) > 1e-6 || math.Abs(shares-1) > 1e-6 {
		t.Fatalf("stages sum to %v s and %v of the whole, want %v s and 1: %+v", sum, shares, split.CPUSeconds, split.Stages)
	}
	// At 100 samples a second a 2 s run has a few dozen to a few hundred
	// samples, spread over the stages every tick goes through.
	var with int
	for _, v := range got {
		if v > 0 {
			with++
		}
	}
	if kafka := got[cpusplit.Producer] + got[cpusplit.Broker] + got[cpusplit.Consumer]; kafka == 0 || with < 4 {
		t.Errorf("Kafka stages %v s, %d stages with CPU; want some and at least 4: %+v", kafka, with, split.Stages)
	}
}
