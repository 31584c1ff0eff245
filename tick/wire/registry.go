package wire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tickbench/tickbench/tick/schema"
)

// Registry is a Schema Registry as tickbench uses it: registration of the
// tick schema for producers, and for sinks the check of each schema id
// met, once (the answers are kept). Safe for concurrent use.
type Registry struct {
	cfg Config
	cl  *sr.Client

	mu     sync.Mutex
	checks map[int]error // id -> nil (the tick schema of its format) or why not
}

// maxChecks bounds the answers kept: records with random ids cannot grow
// the cache without bound (past it, unknown ids are asked again).
const maxChecks = 4096

// NewRegistry validates cfg and makes a client of cfg.Registry.
func NewRegistry(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Format.Framed() {
		return nil, fmt.Errorf("wire format %s: no schema registry needed", cfg.Format)
	}
	cl, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(cfg.Registry)}, cfg.RegistryOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("schema registry %s: %w", cfg.Registry, err)
	}
	return &Registry{cfg: cfg, cl: cl, checks: map[int]error{}}, nil
}

// Register registers the format's tick schema under topic's subject and
// returns its id. Registering an equal schema again returns the id it has.
func (r *Registry) Register(ctx context.Context, topic string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout())
	defer cancel()
	subject := Subject(topic)
	id, err := r.cl.RegisterSchema(ctx, subject, r.cfg.Format.Schema(), -1, -1)
	if err != nil {
		return 0, fmt.Errorf("register the %s tick schema under %s at %s: %w", r.cfg.Format, subject, r.cfg.Registry, err)
	}
	return id, nil
}

// check says whether id names the tick schema of the registry's format:
// nil if it does, an error saying why not, or one wrapping ErrUnavailable
// if the registry did not answer (not kept: the next record asks again).
func (r *Registry) check(id int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err, ok := r.checks[id]; ok {
		return err
	}
	// One lookup at a time: every partition meets the same few ids.
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.timeout())
	defer cancel()
	s, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		var re *sr.ResponseError
		// Only "not found" says something of the record; anything else
		// (refused, 401, 500) is the registry's trouble.
		if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
			return fmt.Errorf("%w: look up schema id %d at %s: %w", ErrUnavailable, id, r.cfg.Registry, err)
		}
		err = fmt.Errorf("schema id %d: not in the registry at %s (%w)", id, r.cfg.Registry, err)
	} else {
		err = sameSchema(id, r.cfg.Format, s)
	}
	if err == nil || len(r.checks) < maxChecks {
		r.checks[id] = err
	}
	return err
}

// sameSchema says whether s, registered as id, is f's tick schema: for
// Avro the same Parsing Canonical Form (so a registry's reformatting does
// not matter), for Protobuf the same text but for comments and spacing.
func sameSchema(id int, f Format, s sr.Schema) error {
	if s.Type != f.Schema().Type {
		return fmt.Errorf("schema id %d is a %s schema: this decoder reads %s ticks", id, s.Type, f)
	}
	switch f {
	case Avro:
		got, err := avro.ParseWithCache(s.Schema, "", &avro.SchemaCache{})
		if err != nil {
			return fmt.Errorf("schema id %d: not a valid Avro schema: %w", id, err)
		}
		if got.Fingerprint() != avroTick.Fingerprint() {
			return fmt.Errorf("schema id %d is not the tick schema: %.200s", id, got.String())
		}
	case Protobuf:
		if protoTokens(s.Schema) != protoTick {
			return fmt.Errorf("schema id %d is not the tick schema: %.200q", id, s.Schema)
		}
	}
	return nil
}

var (
	avroTick  = avro.MustParse(schema.Avro)
	protoTick = protoTokens(schema.Proto)
)

// protoTokens is a .proto text without comments, one space between tokens
// and none around punctuation.
func protoTokens(src string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			space = true
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
			space = true
		case c < 0x80 && unicode.IsSpace(rune(c)):
			space = true
		default:
			word := c == '_' || c == '.' || c == '"' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
			if space && b.Len() > 0 && word && isWordEnd(b.String()) {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isWordEnd reports whether s ends in a word (not punctuation).
func isWordEnd(s string) bool {
	c := s[len(s)-1]
	return c == '_' || c == '.' || c == '"' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
}
