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

// Ping fails, within timeout, unless a broker answers. Without the bound
// franz-go would keep retrying for minutes. Its errors are one line that
// names what to fix: the certificate (TLSError), the SASL user or
// password, or the address.
func Ping(ctx context.Context, brokers []string, timeout time.Duration, opts []kgo.Opt, sec Security) error {
	list := strings.Join(brokers, ",")
	cl, err := kgo.NewClient(append(slices.Clip(opts), kgo.SeedBrokers(brokers...))...)
	if err != nil {
		return fmt.Errorf("kafka brokers %s: %w", list, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = cl.Ping(ctx)
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*TLSError](err); ok {
		return te
	}
	if errors.Is(err, kerr.SaslAuthenticationFailed) {
		return &kafkaError{fmt.Sprintf("kafka brokers %s refused the SASL %s login of user %q: wrong --sasl-user/--sasl-password", list, sec.SASLMechanism, sec.SASLUser), err}
	}
	if errors.Is(err, kerr.UnsupportedSaslMechanism) || errors.Is(err, kerr.IllegalSaslState) {
		return &kafkaError{fmt.Sprintf("kafka brokers %s refused SASL %s for user %q: this listener does not take it (check --sasl-mechanism and the port)", list, sec.SASLMechanism, sec.SASLUser), err}
	}
	if strings.Contains(err.Error(), "speaking to a tls endpoint") {
		// franz-go read a TLS alert where a Kafka response belongs.
		return &kafkaError{fmt.Sprintf("kafka brokers %s answered in TLS: give --tls (and --tls-ca), or their plaintext address", list), err}
	}
	if _, ok := errors.AsType[*kgo.ErrFirstReadEOF](err); ok {
		hint := "a TLS listener? give --tls; a SASL listener? give --sasl-mechanism"
		if sec.TLS || sec.SASLMechanism != "" {
			hint = "check that this port takes --tls and --sasl-mechanism as given"
		}
		return &kafkaError{fmt.Sprintf("kafka brokers %s closed the connection at once: %s", list, hint), err}
	}
	return fmt.Errorf("kafka brokers %s unreachable (connect timeout %v): %w", list, timeout, err)
}

// kafkaError is a message that says what to fix, over the error it
// stands for.
type kafkaError struct {
	msg string
	err error
}

func (e *kafkaError) Error() string { return e.msg }
func (e *kafkaError) Unwrap() error { return e.err }
