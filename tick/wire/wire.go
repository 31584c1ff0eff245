// Package wire owns the formats a tick takes as a Kafka record value: the
// seed's JSON (package tick's codec, bare), and Avro and Protobuf in the
// Confluent wire format (magic byte 0, the schema's id as 4 bytes big
// endian, for Protobuf the message index, then the payload) with a Schema
// Registry. The schemas are package schema's.
//
// A producer's Encoder registers the format's schema under the topic's
// subject ("<topic>-value", TopicNameStrategy) once, at its start. A sink's
// Decoders look each schema id they meet up once in the Registry (shared,
// cached) and decode only ids that name the tick schema of their format:
// an unknown id, another schema, a wrong magic byte, a truncated frame or
// a bad payload is an error that says which, and the sink sets the record
// aside with it.
package wire

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tickbench/tickbench/tick/schema"
)

// Format is how a tick is laid out as a record value.
type Format uint8

const (
	// JSON is tick.AppendJSON, with no framing: the seed's, the default.
	JSON Format = iota
	// Avro is the binary encoding of schema.Avro, Confluent-framed.
	Avro
	// Protobuf is schema.Proto's Tick, Confluent-framed with message
	// index [0].
	Protobuf
)

// Formats are every Format, in the order the help text names them.
var Formats = []Format{JSON, Avro, Protobuf}

var names = [...]string{JSON: "json", Avro: "avro", Protobuf: "protobuf"}

// String is the format's flag and workload-file name.
func (f Format) String() string {
	if int(f) < len(names) {
		return names[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// allowed lists the names, for error messages.
func allowed() string { return strings.Join(names[:], ", ") }

// Parse reads a format's name.
func Parse(s string) (Format, error) {
	for i, n := range names {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("wire format %q: allowed %s", s, allowed())
}

// MarshalText writes the name, so workload files and results hold "avro".
func (f Format) MarshalText() ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return []byte(f.String()), nil
}

// UnmarshalText is Parse.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	*f = v
	return err
}

// Validate names a format that is none of Formats.
func (f Format) Validate() error {
	if int(f) >= len(names) {
		return fmt.Errorf("wire format %d: allowed %s", uint8(f), allowed())
	}
	return nil
}

// Framed reports whether records carry a Confluent frame and so need a
// Schema Registry: every format but JSON.
func (f Format) Framed() bool { return f != JSON }

// Schema is the format's schema as registered (the zero Schema for JSON).
func (f Format) Schema() sr.Schema {
	switch f {
	case Avro:
		return sr.Schema{Schema: schema.Avro, Type: sr.TypeAvro}
	case Protobuf:
		return sr.Schema{Schema: schema.Proto, Type: sr.TypeProtobuf}
	}
	return sr.Schema{}
}

// Subject is the registry subject of topic's record values
// (TopicNameStrategy).
func Subject(topic string) string { return topic + "-value" }

// Config is how a producer or a sink meets the wire. Start from
// DefaultConfig.
type Config struct {
	// Format of the record values. Default JSON.
	Format Format
	// Registry is the Schema Registry's URL (http://host:port); required
	// unless Format is JSON, ignored for JSON.
	Registry string
	// RegistryOpts are extra pkg/sr client options (TLS, authentication).
	RegistryOpts []sr.ClientOpt
	// Timeout bounds one request to the registry. 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 10 * time.Second

// DefaultConfig returns the documented defaults: JSON, no registry. The
// zero Config is the same.
func DefaultConfig() Config { return Config{Format: JSON, Timeout: DefaultTimeout} }

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// Validate names the first bad field, its value and what is allowed.
func (c Config) Validate() error {
	if err := c.Format.Validate(); err != nil {
		return err
	}
	if !c.Format.Framed() {
		return nil
	}
	switch {
	case c.Registry == "":
		return fmt.Errorf("schema registry: none given for wire format %s (a URL such as http://127.0.0.1:8081)", c.Format)
	case !strings.HasPrefix(c.Registry, "http://") && !strings.HasPrefix(c.Registry, "https://"):
		return fmt.Errorf("schema registry %q: want an http:// or https:// URL", c.Registry)
	case c.Timeout != 0 && (c.Timeout < 100*time.Millisecond || c.Timeout > 5*time.Minute):
		return fmt.Errorf("schema registry timeout %v: allowed 100ms..5m, or 0 for %v", c.Timeout, DefaultTimeout)
	}
	return nil
}

// ErrUnavailable marks a registry that did not answer (or answered with a
// server error): nothing is known about the record then, so a sink must
// not set it aside as bad, but stop and leave it to a replay.
var ErrUnavailable = errors.New("schema registry unavailable")
