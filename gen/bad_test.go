package gen

import (
	"math/rand/v2"
	"testing"

	"github.com/tickbench/tickbench/tick"
)

// Every kind of bad record is refused by the decoder the sink uses, and
// the valid tick it was made from is not.
func TestBadRecordsAreRefused(t *testing.T) {
	m, err := NewModel(DefaultModelConfig())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var good tick.Tick
		m.Next(uint64(i), 1_700_000_000_000_000_000+int64(i), &good)
		var back tick.Tick
		if err := tick.DecodeJSON(tick.AppendJSON(nil, &good), &back); err != nil {
			t.Fatalf("valid tick refused: %v", err)
		}
		kind := i % len(BadKinds)
		v := BadRecord(kind, &good, rng)
		if err := tick.DecodeJSON(v, &back); err == nil {
			t.Fatalf("%s record %q decoded as a tick", BadKinds[kind], v)
		}
	}
}
