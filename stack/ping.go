package stack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// How long to try to reach an external server before giving up: franz-go
// and the SDK would otherwise retry for minutes.
const (
	kafkaConnectTimeout = 15 * time.Second
	s3ConnectTimeout    = 15 * time.Second
)

// ping fails, within timeout, unless a broker answers a metadata request.
func ping(ctx context.Context, brokers []string, timeout time.Duration) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("kafka brokers %s: %w", strings.Join(brokers, ","), err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka brokers %s unreachable after %v: %w", strings.Join(brokers, ","), timeout, err)
	}
	return nil
}
