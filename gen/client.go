package gen

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientConfig is how the producer talks to Kafka. Start from
// DefaultClientConfig.
type ClientConfig struct {
	// Acks is "all" (default; with idempotence), "leader" or "none".
	Acks string
	// Compression is "snappy" (default), "lz4", "zstd", "gzip" or "none".
	Compression string
	// Linger is how long a partition's batch waits for more records. Default 5 ms.
	Linger time.Duration
	// BatchMaxBytes caps one record batch. Default 1 MiB.
	BatchMaxBytes int32
	// MaxBuffered is how many records may wait for acknowledgement before
	// Produce blocks (back-pressure). Default 100,000.
	MaxBuffered int
}

// DefaultClientConfig returns the documented defaults.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{Acks: "all", Compression: "snappy", Linger: 5 * time.Millisecond, BatchMaxBytes: 1 << 20, MaxBuffered: 100_000}
}

// Options validates c and returns the franz-go options that implement it.
func (c ClientConfig) Options() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	switch c.Acks {
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "leader":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "none":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("acks %q: allowed all, leader, none", c.Acks)
	}
	codecs := map[string]kgo.CompressionCodec{
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
		"gzip": kgo.GzipCompression(), "none": kgo.NoCompression(),
	}
	codec, ok := codecs[c.Compression]
	if !ok {
		return nil, fmt.Errorf("compression %q: allowed snappy, lz4, zstd, gzip, none", c.Compression)
	}
	switch {
	case c.Linger < 0 || c.Linger > time.Minute:
		return nil, fmt.Errorf("linger %v: allowed 0..1m", c.Linger)
	case c.BatchMaxBytes < 1024 || c.BatchMaxBytes > 64<<20:
		return nil, fmt.Errorf("batch-max-bytes %d: allowed 1024..67108864", c.BatchMaxBytes)
	case c.MaxBuffered < 1 || c.MaxBuffered > 10_000_000:
		return nil, fmt.Errorf("max-buffered %d: allowed 1..10000000", c.MaxBuffered)
	}
	return append(opts,
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchMaxBytes(c.BatchMaxBytes),
		kgo.MaxBufferedRecords(c.MaxBuffered),
	), nil
}
