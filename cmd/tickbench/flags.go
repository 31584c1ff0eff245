package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick/wire"
)

// newFlagSet returns a flag set whose parse errors name the flag, the value
// and what is allowed, and that prints usage only when asked.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tickbench "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tickbench %s [flags]\n\nflags:\n", name)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// flagsParsed, when set, is called with a command's flag set as soon as
// its command line parsed, before the command checks or uses the values;
// an error it returns ends the command. docs_test.go sets it to parse the
// documented command lines without running them.
var flagsParsed func(fs *flag.FlagSet) error

func parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package prints usage on every error; only -h should.
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))}
	}
	if flagsParsed != nil {
		return flagsParsed(fs)
	}
	return nil
}

// durationValue is a flag.Value whose error says what a duration looks like
// and, when rng is set, the allowed range.
type durationValue struct {
	d   *time.Duration
	rng string
}

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		msg := "not a duration: use a number with a unit, e.g. 30s, 5m, 1h30m"
		if v.rng != "" {
			msg += "; allowed " + v.rng
		}
		return errors.New(msg)
	}
	*v.d = d
	return nil
}

// durationsValue is a comma-separated list of durations; the first is
// also the single value.
type durationsValue struct {
	first *time.Duration
	all   *[]time.Duration
	rng   string
}

func (v durationsValue) String() string {
	if v.first == nil {
		return ""
	}
	if v.all == nil || len(*v.all) < 2 {
		return v.first.String()
	}
	var parts []string
	for _, d := range *v.all {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, ",")
}

func (v durationsValue) Set(s string) error {
	var ds []time.Duration
	for _, part := range strings.Split(s, ",") {
		var d time.Duration
		if err := (durationValue{&d, v.rng}).Set(strings.TrimSpace(part)); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
		ds = append(ds, d)
	}
	*v.first = ds[0]
	if v.all != nil {
		*v.all = nil
		if len(ds) > 1 {
			*v.all = ds
		}
	} else if len(ds) > 1 {
		return errors.New("one duration only here")
	}
	return nil
}

// floatValue and intValue give plain "not a number" errors instead of
// strconv's internals.
type floatValue struct{ f *float64 }

func (v floatValue) String() string {
	if v.f == nil {
		return ""
	}
	return strconv.FormatFloat(*v.f, 'g', -1, 64)
}

func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return errors.New("not a number")
	}
	*v.f = f
	return nil
}

type intValue struct{ i *int }

func (v intValue) String() string {
	if v.i == nil {
		return ""
	}
	return strconv.Itoa(*v.i)
}

func (v intValue) Set(s string) error {
	i, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil {
		return errors.New("not a whole number")
	}
	*v.i = i
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// modelFlags registers the tick model's flags.
func modelFlags(fs *flag.FlagSet, m *gen.ModelConfig) {
	fs.Var(intValue{&m.Symbols}, "symbols", "number of symbols, 1..456976")
	fs.Uint64Var(&m.Seed, "seed", m.Seed, "seed of the tick model; the same seed gives the same ticks")
}

// clientFlags registers the producer's Kafka settings.
func clientFlags(fs *flag.FlagSet, c *gen.ClientConfig) {
	fs.StringVar(&c.Acks, "acks", c.Acks, "producer acks: all, leader, none")
	fs.StringVar(&c.Compression, "compression", c.Compression, "producer compression: snappy, lz4, zstd, gzip, none")
	fs.Var(durationValue{&c.Linger, "0..1m"}, "linger", "producer linger per partition batch, 0..1m")
}

// layoutValue parses --layout.
type layoutValue struct{ l *sink.Layout }

func (v layoutValue) String() string {
	if v.l == nil {
		return ""
	}
	return string(*v.l)
}

func (v layoutValue) Set(s string) error {
	l, err := sink.ParseLayout(s)
	if err != nil {
		return errors.New("allowed none, dt-hour, dt-symbol")
	}
	*v.l = l
	return nil
}

// policyFlags registers the sink's flush policy and key layout.
func policyFlags(fs *flag.FlagSet, p *sink.Policy, l *sink.Layout) {
	fs.Var(layoutValue{l}, "layout", "object key layout: none, dt-hour (dt=YYYY-MM-DD/hour=HH/) or dt-symbol (dt=YYYY-MM-DD/symbol=SYM/)")
	fs.Var(intValue{&p.Records}, "flush-records", "flush a partition's batch at this many ticks, 1..10000000")
	fs.Var(intValue{&p.Bytes}, "flush-bytes", "flush a batch when its object reaches this many bytes, 1024..5368709120")
	fs.Var(durationValue{&p.Interval, "1ms..1h"}, "flush-interval", "flush when a batch spans this much event time, 1ms..1h")
	fs.Var(durationValue{&p.MaxAge, "0..1h"}, "max-age", "also flush a batch this long (wall clock) after its first record arrived, for idle partitions; makes the sink at-least-once (0: off)")
}

// commitFlags registers the table strategies' commit policy; with sweep
// set, --commit-interval takes a list (one run of each table strategy per
// interval).
func commitFlags(fs *flag.FlagSet, interval *time.Duration, sweep *[]time.Duration, files *int) {
	usage := "table strategies (iceberg-*): commit what landed this often, 100ms..1h (the Iceberg Kafka Connect sink's default: 60s)"
	if sweep != nil {
		usage += "; a comma-separated list runs each table strategy once per interval, side by side (e.g. 5s,30s,120s)"
	}
	fs.Var(durationsValue{interval, sweep, "100ms..1h"}, "commit-interval", usage)
	fs.Var(intValue{files}, "commit-files", "table strategies: also commit as soon as this many objects wait, 0 (off)..100000")
}

// stackFlags registers where a command's Kafka and S3 are; resolveStack
// applies them after parsing.
func stackFlags(fs *flag.FlagSet, sc *stack.Config, env environment) (stackName, brokers *string) {
	stackName = fs.String("stack", "", "embedded (in-process Kafka and S3), local (the real servers of make up), external (--brokers/--s3-endpoint) or aws (--brokers, e.g. MSK, and AWS S3 through the default credential chain); default: embedded unless --brokers or --s3-endpoint is given")
	brokers = fs.String("brokers", env.getenv("TICKBENCH_BROKERS"), "Kafka bootstrap servers, comma-separated (env TICKBENCH_BROKERS); empty starts an embedded broker")
	fs.StringVar(&sc.S3Endpoint, "s3-endpoint", env.getenv("AWS_ENDPOINT_URL_S3"), "S3 API endpoint (env AWS_ENDPOINT_URL_S3); empty starts an embedded S3 server")
	fs.StringVar(&sc.S3CA, "s3-ca", env.getenv("AWS_CA_BUNDLE"), "PEM file of the CAs to trust for an https:// --s3-endpoint (env AWS_CA_BUNDLE); empty: the system's")
	fs.StringVar(&sc.Bucket, "bucket", sc.Bucket, "S3 bucket")
	if r := env.getenv("AWS_REGION"); r != "" {
		sc.Region = r
	}
	fs.StringVar(&sc.Region, "region", sc.Region, "AWS region (env AWS_REGION)")
	fs.Var(durationValue{&sc.ConnectTimeout, ""}, "connect-timeout", "give up on an unreachable external broker or S3 endpoint after this long")
	fs.StringVar(&sc.SSE, "s3-sse", "", "S3 server-side encryption of the objects written: AES256 (SSE-S3) or aws:kms (SSE-KMS); empty: the bucket's default")
	fs.StringVar(&sc.SSEKMSKeyID, "s3-sse-kms-key-id", "", "KMS key id or ARN for --s3-sse aws:kms (empty: the account's aws/s3 key)")
	securityFlags(fs, &sc.Security, env)
	return stackName, brokers
}

// securityFlags registers Kafka TLS and SASL. The password is best given
// in the environment, so it is not in the process list or shell history.
func securityFlags(fs *flag.FlagSet, s *stack.Security, env environment) {
	fs.BoolVar(&s.TLS, "tls", false, "connect to the brokers with TLS")
	fs.StringVar(&s.TLSCA, "tls-ca", "", "PEM file of the CAs to trust for --tls (default: the system's)")
	fs.StringVar(&s.TLSCert, "tls-cert", "", "client certificate PEM file for mutual TLS (with --tls-key)")
	fs.StringVar(&s.TLSKey, "tls-key", "", "client private key PEM file for mutual TLS (with --tls-cert)")
	fs.BoolVar(&s.TLSInsecureSkipVerify, "tls-insecure-skip-verify", false, "trust any broker certificate (tests only)")
	fs.StringVar(&s.SASLMechanism, "sasl-mechanism", "", "SASL: plain, scram-sha-256, scram-sha-512 or aws-msk-iam (AWS credential chain); empty: none")
	fs.StringVar(&s.SASLUser, "sasl-user", "", "SASL user name")
	s.SASLPassword = env.getenv("TICKBENCH_SASL_PASSWORD")
	fs.Func("sasl-password", "SASL password (better: env TICKBENCH_SASL_PASSWORD)", func(v string) error {
		s.SASLPassword = v
		return nil
	})
}

// resolveStack turns --stack and --brokers into sc. needBroker rejects the
// embedded broker (a sink on its own would consume an empty one).
func resolveStack(name, brokers string, sc *stack.Config, needBroker bool, env environment) error {
	sc.Brokers = splitList(brokers)
	// AWS_CA_BUNDLE is for https:// endpoints, as the SDK takes it: set
	// machine-wide, it must not fail a run on an http:// or embedded S3.
	if ca := env.getenv("AWS_CA_BUNDLE"); ca != "" && sc.S3CA == ca && !strings.HasPrefix(sc.S3Endpoint, "https://") {
		sc.S3CA = ""
	}
	switch name {
	case "", "embedded", "external":
		if name == "embedded" && (len(sc.Brokers) > 0 || sc.S3Endpoint != "") {
			return usageError{fmt.Errorf("--stack embedded: conflicts with --brokers %q / --s3-endpoint %q (or their env vars)", brokers, sc.S3Endpoint)}
		}
		if (name == "external" || needBroker) && len(sc.Brokers) == 0 {
			return usageError{fmt.Errorf("--brokers: none given (or TICKBENCH_BROKERS, or --stack local)")}
		}
	case "aws":
		if len(sc.Brokers) == 0 {
			return usageError{fmt.Errorf("--stack aws: needs --brokers (or TICKBENCH_BROKERS), e.g. the MSK cluster's bootstrap servers")}
		}
		sc.Name, sc.AWS = "aws", true
	case "local":
		local, err := stack.Local(stack.LocalStateDir)
		if err != nil {
			return err
		}
		local.Partitions, local.DataDir, local.ConnectTimeout = sc.Partitions, sc.DataDir, sc.ConnectTimeout
		local.SSE, local.SSEKMSKeyID = sc.SSE, sc.SSEKMSKeyID
		local.Security = sc.Security
		tl, err := localListener(&local.Brokers, &local.Security)
		if err != nil {
			return err
		}
		if tl != nil {
			// --tls on the local stack: S3 over HTTPS too.
			local.S3Endpoint, local.S3CA = tl.S3Endpoint, cmp.Or(sc.S3CA, tl.CA)
		}
		*sc = local
	default:
		return usageError{fmt.Errorf("--stack %q: allowed embedded, local, external, aws", name)}
	}
	if err := sc.Security.Validate(); err != nil {
		return usageError{err}
	}
	if len(sc.Brokers) == 0 && sc.Security != (stack.Security{}) {
		return usageError{fmt.Errorf("--tls/--sasl-*: only for external brokers (--brokers or --stack local), not the embedded one")}
	}
	if err := stack.ValidateSSE(sc.SSE, sc.SSEKMSKeyID); err != nil {
		return usageError{err}
	}
	return nil
}

// localListener switches a local-stack command given --tls to the TLS
// listener of what its security asks for (stack.LocalTLS.Listener) and
// returns the TLS stack's files and endpoints; without --tls it is
// localSCRAM.
func localListener(brokers *[]string, sec *stack.Security) (*stack.LocalTLS, error) {
	if !sec.TLS {
		return nil, localSCRAM(brokers, sec)
	}
	tl, err := stack.ReadLocalTLS(stack.LocalStateDir)
	if err != nil {
		return nil, fmt.Errorf("--stack local --tls: %w", err)
	}
	*brokers, *sec = tl.Listener(*sec)
	return &tl, nil
}

// localSCRAM switches a local-stack command given --sasl-mechanism
// scram-sha-512 to the local broker's SCRAM listener, with the user and
// password of this start unless given.
func localSCRAM(brokers *[]string, sec *stack.Security) error {
	if sec.SASLMechanism != "scram-sha-512" {
		return nil
	}
	b, local, err := stack.LocalSCRAM(stack.LocalStateDir)
	if err != nil {
		return err
	}
	*brokers = b
	if sec.SASLUser == "" {
		sec.SASLUser, sec.SASLPassword = local.SASLUser, local.SASLPassword
	}
	return nil
}

// flagValue finds --name VALUE or --name=VALUE in args before parsing.
func flagValue(args []string, name string) string {
	for i, a := range args {
		for _, prefix := range []string{"-" + name, "--" + name} {
			if a == prefix && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, prefix+"="); ok {
				return v
			}
		}
		if a == "--" {
			break
		}
	}
	return ""
}

// profileValue parses --rate-profile into a shape.
type profileValue struct{ s *gen.Shape }

func (v profileValue) String() string {
	if v.s == nil || *v.s == nil {
		return ""
	}
	return (*v.s).String()
}

func (v profileValue) Set(s string) error {
	shape, err := gen.ParseProfile(s)
	if err != nil {
		return err
	}
	*v.s = shape
	return nil
}

// rateFlags registers the generator's --rate-profile and --gen-workers
// (--rate and --duration differ between bench and produce); checkRateFlags
// applies them after parsing.
func rateFlags(fs *flag.FlagSet, profile *gen.Shape, workers *int) {
	fs.Var(profileValue{profile}, "rate-profile", "shape the rate instead of --rate and --duration: "+gen.ProfileSyntax)
	fs.Var(intValue{workers}, "gen-workers", fmt.Sprintf("generator goroutines, each sending every k-th tick, 0..%d (0: 1 up to a peak rate of %d ticks/s, else one per core)", gen.MaxWorkers, gen.OneWorkerRate))
}

// checkRateFlags: --rate-profile sets the rate and the duration, so it
// excludes --rate and --duration; --rate replaces a workload file's
// profile, --duration alone cannot.
func checkRateFlags(fs *flag.FlagSet, profile *gen.Shape, workers int) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case workers < 0 || workers > gen.MaxWorkers:
		return usageError{fmt.Errorf("--gen-workers %d: allowed 0 (automatic) or 1..%d", workers, gen.MaxWorkers)}
	case set["rate-profile"] && (set["rate"] || set["duration"]):
		return usageError{errors.New("--rate-profile sets the rate and the duration: give it without --rate and --duration")}
	case *profile != nil && set["rate"]:
		*profile = nil
	case *profile != nil && set["duration"]:
		return usageError{errors.New("--duration: the workload's rate_profile sets the duration; give --rate-profile instead, or --rate to replace the profile")}
	}
	return nil
}

// wireFlags are a process's --wire and --registry: one format, and the
// Schema Registry that every process of the run shares.
func wireFlags(fs *flag.FlagSet, w *wire.Config) *string {
	fs.StringVar(&w.Registry, "registry", w.Registry, "Schema Registry URL, required for avro and protobuf: the one the run's producers and sinks share")
	return fs.String("wire", w.Format.String(), "format of the ticks on Kafka: json (the seed's), avro or protobuf (Confluent wire format through --registry)")
}

// applyWire sets the format --wire named.
func applyWire(name string, w *wire.Config) error {
	f, err := wire.Parse(name)
	if err != nil {
		return usageError{err}
	}
	w.Format = f
	return nil
}
