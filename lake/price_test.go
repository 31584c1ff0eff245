package lake

import (
	"math"
	"testing"
)

func TestAthenaBill(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		scanned, wantBilled int64
	}{
		{0, 10 * mb},         // failed or empty queries still bill the minimum if they scan
		{1, 10 * mb},         // minimum 10 MB
		{10*mb + 1, 11 * mb}, // rounded up to the next MB
		{1 << 40, 1 << 40},   // exactly 1 TB
		{5*mb*1024 + 7, 5121 * mb},
	}
	for _, tt := range tests {
		billed, usd := USEast1.AthenaBill(tt.scanned)
		if billed != tt.wantBilled {
			t.Errorf("AthenaBill(%d) billed %d, want %d", tt.scanned, billed, tt.wantBilled)
		}
		if want := float64(tt.wantBilled) / (1 << 40) * 5; math.Abs(usd-want) > 1e-12 {
			t.Errorf("AthenaBill(%d) = $%g, want $%g", tt.scanned, usd, want)
		}
	}
}

func TestPutCost(t *testing.T) {
	// One object per tick at 1,000 ticks/s for a day: 86.4M PUTs = $432.
	if got := USEast1.PutCost(86_400_000); math.Abs(got-432) > 1e-9 {
		t.Fatalf("PutCost = %v, want 432", got)
	}
}
