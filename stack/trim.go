package stack

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TrimCommitted deletes, every period until ctx ends, the records of topic
// that every one of groups has committed. The embedded broker keeps all
// records in memory, so without this a long run grows without bound. It is
// a no-op against an external broker, whose retention is its own business.
func (st *Stack) TrimCommitted(ctx context.Context, adm *kadm.Client, topic string, groups []string, period time.Duration) {
	if st.Kind.Kafka != "embedded-kfake" {
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		trimOnce(ctx, adm, topic, groups)
	}
}

func trimOnce(ctx context.Context, adm *kadm.Client, topic string, groups []string) {
	var low map[int32]int64
	for _, g := range groups {
		offs, err := adm.FetchOffsets(ctx, g)
		if err != nil {
			return // try again next period
		}
		seen := map[int32]int64{}
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == topic && o.Err == nil && o.At >= 0 {
				seen[o.Partition] = o.At
			}
		})
		if low == nil {
			low = seen
			continue
		}
		for p, at := range low {
			if s, ok := seen[p]; !ok {
				delete(low, p) // a group has not committed p: keep it all
			} else {
				low[p] = min(at, s)
			}
		}
	}
	if len(low) == 0 {
		return
	}
	var o kadm.Offsets
	for p, at := range low {
		o.Add(kadm.Offset{Topic: topic, Partition: p, At: at})
	}
	adm.DeleteRecords(ctx, o) //nolint:errcheck // best effort; retried next period
}
