package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ping fails, within timeout, unless a broker answers. Without the bound
// franz-go would keep retrying for minutes.
func ping(ctx context.Context, brokers []string, timeout time.Duration, opts []kgo.Opt, sec Security) error {
	cl, err := kgo.NewClient(append(slices.Clip(opts), kgo.SeedBrokers(brokers...))...)
	if err != nil {
		return fmt.Errorf("kafka brokers %s: %w", strings.Join(brokers, ","), err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		if errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) || errors.Is(err, kerr.IllegalSaslState) {
			return fmt.Errorf("kafka brokers %s refused SASL %s for user %q (check --sasl-user and the password): %w", strings.Join(brokers, ","), sec.SASLMechanism, sec.SASLUser, err)
		}
		return fmt.Errorf("kafka brokers %s unreachable (connect timeout %v): %w", strings.Join(brokers, ","), timeout, err)
	}
	return nil
}
