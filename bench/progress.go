package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
)

// progress prints one status line a second until ctx ends.
type progress struct {
	w      io.Writer
	live   bool
	start  time.Time
	pacer  gen.Shape
	sent   func() uint64
	landed func() int64
}

func (p *progress) run(ctx context.Context) {
	if p.w == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastSent uint64
	last := p.start
	for {
		select {
		case <-ctx.Done():
			if p.live {
				fmt.Fprintln(p.w)
			}
			return
		case now := <-t.C:
			// Landed first: objects landing between the two reads then
			// cannot make the lag shown negative.
			landed := p.landed()
			sent := p.sent()
			rate := float64(sent-lastSent) / now.Sub(last).Seconds()
			lastSent, last = sent, now
			clock := fmt.Sprintf("%5.0fs/%gs", now.Sub(p.start).Seconds(), p.pacer.Length().Seconds())
			if over := now.Sub(p.start) - p.pacer.Length(); over > 0 {
				clock = fmt.Sprintf("draining %4.0fs", over.Seconds())
			}
			line := fmt.Sprintf("[%s] rate %s/s (target %s)  produced %s  landed %s  lag %s",
				clock, result.Thousands(rate), result.Thousands(p.pacer.Rate(now.Sub(p.start))), result.Thousands(float64(sent)), result.Thousands(float64(landed)), result.Thousands(float64(int64(sent)-landed)))
			if p.live {
				fmt.Fprintf(p.w, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(p.w, line)
			}
		}
	}
}
