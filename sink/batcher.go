package sink

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
)

// batcher is one partition's decode-batch-encode stage: it takes the
// partition's records in offset order, decodes each, and encodes it into
// the open batch, cutting batches where the policy says so. Boundaries
// depend on the records alone, so a replay cuts the same batches. A batcher
// belongs to one goroutine.
type batcher struct {
	partition int32
	policy    Policy
	format    Format
	dirs      *dirs
	encoder   func() Encoder // a spare encoder or a new one
	open      *batch         // nil until the first record
	dec       *wire.Decoder  // of the sink's wire format (JSON unless the part sets another); one string per symbol
	t         tick.Tick      // the record being decoded: one per batcher, not one per record on the heap
	consumed  int            // records taken
	invalid   int            // records that are not ticks, or not encodable
	// unavailable is set when the schema registry did not answer for a
	// record: nothing is known of it, so the part stops the sink (the
	// record is replayed, not set aside).
	unavailable error
}

func newBatcher(partition int32, p Policy, l Layout, f Format, encoder func() Encoder) *batcher {
	dec, _ := wire.NewDecoder(wire.JSON, nil) // JSON needs no registry: no error
	return &batcher{partition: partition, policy: p, format: f, dirs: newDirs(l), encoder: encoder, dec: dec}
}

// add takes one record and appends to cut the batches it completes: the
// open one when r cannot join it, and the new one when r fills it.
func (bt *batcher) add(r *kgo.Record, cut []*batch) []*batch {
	bt.consumed++
	if bt.open == nil {
		bt.open = newBatch(bt.partition, r.Offset)
	}
	bt.t = tick.Tick{}
	t := &bt.t
	if err := bt.dec.Decode(r.Value, t); err != nil {
		if errors.Is(err, wire.ErrUnavailable) {
			bt.unavailable = err
			return cut
		}
		bt.invalid++
		bt.open.skip(r, err)
		return cut
	}
	if !bt.open.fits(bt.policy, bt.dirs.layout, t) {
		cut = append(cut, bt.open)
		bt.open = newBatch(bt.partition, r.Offset)
	}
	if err := bt.open.add(bt.encoder, bt.dirs.of(t), t, r.Offset, r.LeaderEpoch); err != nil {
		// Encoders fail only on ticks they cannot represent; count it like
		// an invalid record rather than stop the pipeline.
		bt.invalid++
		bt.open.skip(r, fmt.Errorf("encode as %s: %w", bt.format.Name(), err))
		return cut
	}
	if bt.open.full(bt.policy) {
		cut = append(cut, bt.open)
		bt.open = nil
	}
	return cut
}

// take cuts the open batch early (drain, age, memory cap); nil if it holds
// no record.
func (bt *batcher) take() *batch {
	b := bt.open
	bt.open = nil
	if b == nil || b.empty() {
		return nil
	}
	return b
}

// mem is the memory the open batch holds (see Config.MaxBuffered).
func (bt *batcher) mem() int {
	if bt.open == nil {
		return 0
	}
	return bt.open.mem
}
