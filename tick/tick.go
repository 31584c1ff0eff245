// Package tick owns the one record every other tickbench package shares: a
// market tick, its units, its wire codec (compact JSON) and the intended-time
// clock that all latency is measured against.
package tick

import (
	"errors"
	"fmt"
	"time"
)

// Tick is one trade with the quote in force when it printed.
//
// Intended is the instant, in nanoseconds since the Unix epoch, at which the
// generator's pacer scheduled the tick. It is the tick's event time: the sink
// partitions by it and every latency is measured from it, so time the
// generator spent behind schedule is counted, never hidden (no coordinated
// omission).
type Tick struct {
	Symbol   string  `json:"symbol"`
	Seq      uint64  `json:"seq"` // unique within a run, dense from 0
	Intended int64   `json:"ts"`  // ns since the Unix epoch, UTC
	Price    float64 `json:"price"`
	Size     uint32  `json:"size"`
	Bid      float64 `json:"bid"`
	Ask      float64 `json:"ask"`
	BidSize  uint32  `json:"bid_size"`
	AskSize  uint32  `json:"ask_size"`
	Exchange string  `json:"exchange"`
}

// Time returns the tick's event (intended) time in UTC.
func (t *Tick) Time() time.Time { return time.Unix(0, t.Intended).UTC() }

// MaxSymbolLen bounds symbols so a corrupt record cannot smuggle in a
// megabyte-long partition key.
const MaxSymbolLen = 16

// Validate reports the first field that makes t not a usable tick.
func (t *Tick) Validate() error {
	switch {
	case t.Symbol == "" || len(t.Symbol) > MaxSymbolLen:
		return fmt.Errorf("symbol %q: want 1..%d bytes", t.Symbol, MaxSymbolLen)
	case t.Intended <= 0:
		return fmt.Errorf("ts %d: want a positive ns Unix time", t.Intended)
	case !(t.Price > 0):
		return fmt.Errorf("price %v: want > 0", t.Price)
	case !(t.Bid > 0) || !(t.Ask >= t.Bid):
		return fmt.Errorf("bid %v ask %v: want 0 < bid <= ask", t.Bid, t.Ask)
	case t.Exchange == "":
		return errors.New("exchange: empty")
	}
	return nil
}
