package bench

import (
	"slices"
	"testing"
)

// TestSentSeqs: two workers stopped early at different counts sent the
// even seqs 0..8 and the odd 1..5; verify counts exactly those.
func TestSentSeqs(t *testing.T) {
	s := sentSeqs{5, 3}
	var got []uint64
	for seq := range uint64(12) {
		if s.has(seq) {
			got = append(got, seq)
		}
	}
	if want := []uint64{0, 1, 2, 3, 4, 5, 6, 8}; !slices.Equal(got, want) || s.total() != 8 || s.limit() != 9 {
		t.Errorf("sent %v (total %d, limit %d), want %v, 8, 9", got, s.total(), s.limit(), want)
	}
	if a := allSeqs(4); a.total() != 4 || a.limit() != 4 || !a.has(3) || a.has(4) {
		t.Errorf("allSeqs(4): total %d limit %d", a.total(), a.limit())
	}
	if (sentSeqs{}).has(0) || (sentSeqs{0, 0}).limit() != 0 {
		t.Errorf("nothing sent")
	}
}
