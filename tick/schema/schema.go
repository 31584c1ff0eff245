// Package schema holds the tick's schemas for the binary wire formats, the
// one place they live: tick.avsc (Avro) and tick.proto (Protobuf, with its
// generated Go code in tick.pb.go; `make generate` rebuilds it). Both have
// the fields of tick.Tick under the names of its JSON.
package schema

import _ "embed"

// Avro is tick.avsc, as registered with a Schema Registry.
//
//go:embed tick.avsc
var Avro string

// Proto is tick.proto, as registered with a Schema Registry.
//
//go:embed tick.proto
var Proto string
