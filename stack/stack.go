// Package stack owns the endpoints a run talks to: an embedded in-process
// Kafka (kfake) and S3-compatible server for the zero-setup default, or
// external ones given by flags and the environment. It measures nothing.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack/s3lite"
)

// Config says which endpoints to use; empty fields mean "embedded".
type Config struct {
	// Name labels the stack in results. Empty derives it: "embedded",
	// "external", or "mixed" (one of each); Local sets "local".
	Name string
	// Brokers are external Kafka bootstrap servers; none starts kfake.
	Brokers []string
	// S3Endpoint is an external S3 API URL; empty starts the embedded
	// server (unless AWS is set).
	S3Endpoint string
	// AWS uses real S3 through the default credential chain.
	AWS bool
	// Bucket to land objects in. Default "tickbench".
	Bucket string
	// Region for the S3 client. Default "us-east-1".
	Region string
	// AccessKey and SecretKey for an external endpoint; empty uses the
	// default credential chain.
	AccessKey, SecretKey string
	// DataDir keeps the embedded S3 server's objects, so a run's landed
	// data can be inspected and queried afterwards. Default ".tickbench/s3".
	DataDir string
	// Partitions is the embedded broker's default partition count.
	Partitions int32
	// ConnectTimeout bounds the first contact with external servers, so an
	// unreachable one fails the run early and clearly. Default 15 s.
	ConnectTimeout time.Duration
	// Faults are injected by the embedded S3 server (an error elsewhere).
	Faults s3lite.Faults
	// Security is TLS and SASL for external brokers.
	Security Security
	// SSE asks S3 to encrypt the objects it stores; see sink.S3Store.
	SSE, SSEKMSKeyID string
	// S3CA is a PEM file of the CAs to trust for an https:// S3Endpoint
	// (default: the system's).
	S3CA string
	// Servers are the local stack's server processes (name -> pid, from
	// their state files): a run reports the CPU each used beside its own.
	Servers map[string]int
	// IcebergREST is the Iceberg REST catalog's URL (the local stack's);
	// empty uses an in-process SQL catalog on SQLite beside the embedded
	// S3 server's data, or AWS Glue with AWS.
	IcebergREST string
}

// embeddedSegmentBytes is the embedded broker's segment size.
const embeddedSegmentBytes = 4 << 20

// Default returns the zero-setup embedded stack.
func Default() Config {
	return Config{Bucket: "tickbench", Region: "us-east-1", DataDir: filepath.Join(".tickbench", "s3"), Partitions: 6, ConnectTimeout: 15 * time.Second}
}

// Kind names which servers produced a run's numbers: an embedded broker says
// nothing about broker performance, so results must carry it.
type Kind struct {
	Name  string `json:"name"`  // "embedded", "local", "external" or "mixed"
	Kafka string `json:"kafka"` // "embedded-kfake" or "external"
	S3    string `json:"s3"`    // "embedded-s3lite", "external" or "aws"
}

// Stack is a running set of endpoints.
type Stack struct {
	Kind       Kind
	Brokers    []string
	S3         *s3.Client
	Bucket     string
	S3Endpoint string // empty for AWS
	DataDir    string // embedded S3 only
	// S3Server is the embedded S3 server (nil otherwise), for fault
	// injection.
	S3Server *s3lite.Server
	// KafkaOpts carry Config.Security: every client of the brokers uses them.
	KafkaOpts []kgo.Opt
	// SSE and SSEKMSKeyID are Config's, for the writers of objects.
	SSE, SSEKMSKeyID string
	// Servers are Config's: the server processes on this machine.
	Servers map[string]int
	// Region and the keys of S3 (empty keys: the default credential chain).
	Region, AccessKey, SecretKey string
	// Registry is the URL of the Schema Registry the Avro and Protobuf
	// wire formats use: an in-process one (franz-go's srfake on
	// 127.0.0.1, schemas in memory) in every stack.
	Registry string
	// S3CA is Config's: other clients of S3 (catalogs, engines) must trust
	// it too.
	S3CA string

	icebergREST string
	aws         bool
	catalogMu   sync.Mutex
	catalog     *iceberg.Catalog

	closers []func() error
	retries atomic.Int64
}

// S3Retries is how many S3 requests the SDK has retried so far.
func (st *Stack) S3Retries() int64 { return st.retries.Load() }

// countingRetryer counts the retries of the retryer it wraps.
type countingRetryer struct {
	aws.RetryerV2
	n *atomic.Int64
}

func (r countingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.n.Add(1)
	return r.RetryerV2.RetryDelay(attempt, err)
}

// Start brings up whatever cfg leaves embedded and connects to the rest.
// On error everything already started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = Default().ConnectTimeout
	}
	if err := ValidateSSE(cfg.SSE, cfg.SSEKMSKeyID); err != nil {
		return nil, err
	}
	st := &Stack{Bucket: cfg.Bucket, Kind: Kind{Name: cfg.Name}, SSE: cfg.SSE, SSEKMSKeyID: cfg.SSEKMSKeyID, Servers: cfg.Servers,
		Region: cfg.Region, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, S3CA: cfg.S3CA, icebergREST: cfg.IcebergREST, aws: cfg.AWS}
	defer func() {
		if err != nil {
			err = errors.Join(err, st.Close())
		}
	}()

	if len(cfg.Brokers) == 0 && cfg.Security != (Security{}) {
		return nil, fmt.Errorf("kafka security (%v): only for external brokers (--brokers or --stack local), not the embedded one", cfg.Security)
	}
	if len(cfg.Brokers) == 0 {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(int(cfg.Partitions)),
			// kfake keeps segments in memory and frees only whole segments
			// below the log start that TrimCommitted advances: small
			// segments keep a long run's memory flat (the default 100 MiB
			// per partition held ~600 MB at 200k ticks/s).
			kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(embeddedSegmentBytes)}))
		if err != nil {
			return nil, fmt.Errorf("start embedded kafka: %w", err)
		}
		st.closers = append(st.closers, func() error { c.Close(); return nil })
		st.Brokers = c.ListenAddrs()
		st.Kind.Kafka = "embedded-kfake"
	} else {
		st.Brokers = cfg.Brokers
		st.Kind.Kafka = "external"
		if st.KafkaOpts, err = cfg.Security.Options(); err != nil {
			return nil, err
		}
		if err := Ping(ctx, cfg.Brokers, cfg.ConnectTimeout, st.KafkaOpts, cfg.Security); err != nil {
			return nil, err
		}
	}

	if err := st.startS3(ctx, cfg); err != nil {
		return nil, err
	}
	// Only a listener and a map until a framed run registers a schema.
	reg := srfake.New()
	st.closers = append(st.closers, func() error { reg.Close(); return nil })
	st.Registry = reg.URL()
	if st.Kind.Name == "" {
		kafkaEmbedded, s3Embedded := st.Kind.Kafka == "embedded-kfake", st.Kind.S3 == "embedded-s3lite"
		switch {
		case kafkaEmbedded && s3Embedded:
			st.Kind.Name = "embedded"
		case kafkaEmbedded || s3Embedded:
			st.Kind.Name = "mixed"
		default:
			st.Kind.Name = "external"
		}
	}
	return st, nil
}

// StartS3 is Start for a command that needs only S3 (merging or
// verifying results): no broker is started or contacted.
func StartS3(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = Default().ConnectTimeout
	}
	st := &Stack{Bucket: cfg.Bucket, Kind: Kind{Name: cfg.Name}, S3CA: cfg.S3CA}
	if err := st.startS3(ctx, cfg); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return st, nil
}

func (st *Stack) startS3(ctx context.Context, cfg Config) error {
	if cfg.S3Endpoint == "" && !cfg.AWS {
		return st.startEmbeddedS3(ctx, cfg)
	}
	return st.connectS3(ctx, cfg)
}

func (st *Stack) startEmbeddedS3(ctx context.Context, cfg Config) error {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	// Per-run keys: the server accepts only this run's access key, so no
	// real secret is ever needed or shown, and nothing else on the machine
	// can write into the run's bucket by accident.
	accessKey, secretKey := randomKey(), randomKey()
	endpoint, stop, srv, err := s3lite.Start(s3lite.Config{Dir: dir, Region: cfg.Region, Faults: cfg.Faults, AccessKey: accessKey, SecretKey: secretKey})
	if err != nil {
		return fmt.Errorf("embedded s3 in %s: %w", dir, err)
	}
	st.closers = append(st.closers, stop)
	st.S3Endpoint, st.DataDir, st.S3Server = endpoint, dir, srv
	st.AccessKey, st.SecretKey = accessKey, secretKey
	st.Kind.S3 = "embedded-s3lite"
	st.S3 = st.newClient(aws.Config{
		Region:      cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	}, st.S3Endpoint)
	if _, err := st.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket}); err != nil {
		if _, err := st.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &cfg.Bucket}); err != nil {
			return fmt.Errorf("create embedded bucket %q: %w", cfg.Bucket, err)
		}
	}
	return nil
}

func (st *Stack) connectS3(ctx context.Context, cfg Config) error {
	awsCfg, err := loadAWSConfig(ctx, cfg)
	if err != nil {
		return err
	}
	st.S3Endpoint = cfg.S3Endpoint
	st.Kind.S3 = "external"
	if cfg.AWS && cfg.S3Endpoint == "" {
		st.Kind.S3 = "aws"
	}
	if cfg.Faults != (s3lite.Faults{}) {
		return fmt.Errorf("s3 faults: only the embedded S3 server injects them, not %s", st.endpointName())
	}
	if cfg.S3CA != "" {
		if awsCfg.HTTPClient, err = S3HTTPClient(cfg.S3CA); err != nil {
			return err
		}
	}
	st.S3 = st.newClient(awsCfg, cfg.S3Endpoint)
	hctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if _, err := st.S3.HeadBucket(hctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket}); err != nil {
		var nf *types.NotFound
		if errors.As(err, &nf) {
			return fmt.Errorf("bucket %q does not exist at %s: create it first or pass --bucket", cfg.Bucket, st.endpointName())
		}
		if te, ok := errors.AsType[*TLSError](s3TLSError(err, st.endpointName(), cfg.S3CA)); ok {
			return te
		}
		return fmt.Errorf("bucket %q at %s: %w", cfg.Bucket, st.endpointName(), err)
	}
	return nil
}

func (st *Stack) endpointName() string {
	if st.S3Endpoint == "" {
		return "AWS S3"
	}
	return st.S3Endpoint
}

// newClient builds an S3 client; a custom endpoint gets path-style
// addressing, which every S3-compatible server understands. Retries: up to
// 10 attempts with jittered exponential backoff capped at 5 s (at most
// ~45 s in all, inside the consumer group's 60 s rebalance timeout), and
// no retry quota, which would give up during a burst of 503s; every retry
// is counted.
func (st *Stack) newClient(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.Retryer = countingRetryer{retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.MaxBackoff = 5 * time.Second
			so.RateLimiter = ratelimit.None
			so.Retryables = append([]retry.IsErrorRetryable{noTLSRetry}, so.Retryables...)
		}), &st.retries}
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
			// Checksums only where the API requires them: S3-compatible
			// servers vary in their support of the SDK's default trailers.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
}

// Close stops everything Start started, last first.
func (st *Stack) Close() error {
	var errs []error
	for i := len(st.closers) - 1; i >= 0; i-- {
		errs = append(errs, st.closers[i]())
	}
	st.closers = nil
	return errors.Join(errs...)
}

func randomKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
