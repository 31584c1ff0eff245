package sink

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// BenchmarkDecodeEncode is the sink's per-tick work without Kafka or S3:
// 6 partitions' records decoded, batched by 10,000 and encoded (Finish
// included), one goroutine per partition as the sink runs them. Compare
// cores with -cpu 1,2: go test -run '^$' -bench DecodeEncode -cpu 1,2 ./sink
func BenchmarkDecodeEncode(b *testing.B) {
	const partitions, perPartition = 6, 20_000
	recs := make([][]*kgo.Record, partitions)
	for p := range recs {
		for i := range perPartition {
			t := tick.Tick{Symbol: fmt.Sprintf("S%03d", (i*7+p)%100), Seq: uint64(i*partitions + p),
				Intended: base - int64(time.Hour) + int64(i)*int64(time.Microsecond), Price: 123.45, Size: 300,
				Bid: 123.44, Ask: 123.46, BidSize: 500, AskSize: 200, Exchange: "XNAS"}
			recs[p] = append(recs[p], &kgo.Record{Partition: int32(p), Offset: int64(i), Value: tick.AppendJSON(nil, &t)})
		}
	}
	for _, name := range []string{"jsonl", "jsonl.gz", "parquet", "parquet-zstd"} {
		f, err := FormatByName(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			policy := Policy{Records: 10_000, Bytes: 64 << 20, Interval: time.Hour}
			for b.Loop() {
				var wg sync.WaitGroup
				for p := range partitions {
					wg.Go(func() {
						bt := newBatcher(int32(p), policy, LayoutHourly, f, f.NewEncoder)
						var cut []*batch
						for _, r := range recs[p] {
							cut = bt.add(r, cut)
						}
						if last := bt.take(); last != nil {
							cut = append(cut, last)
						}
						for _, c := range cut {
							for _, o := range c.objects {
								if _, err := o.enc.Finish(); err != nil {
									b.Error(err)
								}
							}
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(partitions*perPartition*b.N)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
}
