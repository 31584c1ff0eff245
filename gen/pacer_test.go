package gen

import (
	"strings"
	"testing"
	"time"
)

func TestConstantPace(t *testing.T) {
	p := Constant{PerSecond: 1000, Duration: time.Second}
	tests := []struct {
		name     string
		elapsed  time.Duration
		sent     uint64
		wantWait time.Duration
		wantStop bool
	}{
		{"first tick due at once", 0, 0, 0, false},
		{"on schedule waits for the next", 0, 1, time.Millisecond, false},
		{"half way through the gap", 500 * time.Microsecond, 1, 500 * time.Microsecond, false},
		{"behind schedule sends at once", 10 * time.Millisecond, 3, -7 * time.Millisecond, false},
		{"ahead of schedule waits", 0, 10, 10 * time.Millisecond, false},
		{"last tick", 999 * time.Millisecond, 999, 0, false},
		{"all sent stops", 999 * time.Millisecond, 1000, 0, true},
		{"stops even when late", 5 * time.Second, 1000, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, stop := p.Pace(tt.elapsed, tt.sent)
			if wait != tt.wantWait || stop != tt.wantStop {
				t.Fatalf("Pace(%v, %d) = (%v, %v), want (%v, %v)", tt.elapsed, tt.sent, wait, stop, tt.wantWait, tt.wantStop)
			}
		})
	}
}

func TestConstantTotal(t *testing.T) {
	tests := []struct {
		rate float64
		dur  time.Duration
		want uint64
	}{
		{1, 10 * time.Second, 10},
		{50_000, 30 * time.Second, 1_500_000},
		{3, time.Second, 3},
		{2.5, 2 * time.Second, 5},
		{0.5 + 1, time.Second, 2}, // due at 0 and 0.667 s
		{7, 1500 * time.Millisecond, 11},
	}
	for _, tt := range tests {
		p := Constant{PerSecond: tt.rate, Duration: tt.dur}
		if got := Total(p); got != tt.want {
			t.Errorf("Total(%v/s for %v) = %d, want %d", tt.rate, tt.dur, got, tt.want)
		}
		// Total must agree with walking Due one by one.
		var walked uint64
		for {
			if _, ok := p.Due(walked); !ok {
				break
			}
			walked++
		}
		if walked != tt.want {
			t.Errorf("walking Due(%v/s for %v) gives %d, want %d", tt.rate, tt.dur, walked, tt.want)
		}
	}
}

func TestConstantValidate(t *testing.T) {
	tests := []struct {
		p       Constant
		wantErr string
	}{
		{Constant{PerSecond: 1, Duration: time.Second}, ""},
		{Constant{PerSecond: 0, Duration: time.Second}, "rate 0: allowed 1..10000000 ticks/s"},
		{Constant{PerSecond: -5, Duration: time.Second}, "rate -5: allowed 1..10000000 ticks/s"},
		{Constant{PerSecond: 2e7, Duration: time.Second}, "rate 2e+07: allowed"},
		{Constant{PerSecond: 10, Duration: time.Millisecond}, "duration 1ms: allowed 1s..168h"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.p, err, tt.wantErr)
		}
	}
}
