package stack

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tickbench/tickbench/tick/wire"
)

// TestEmbeddedIsLocalAndPerRun: the embedded broker and S3 server listen on
// 127.0.0.1 only, each run has S3 keys of its own, and the server refuses
// any other key.
func TestEmbeddedIsLocalAndPerRun(t *testing.T) {
	ctx := t.Context()
	start := func() *Stack {
		cfg := Default()
		cfg.DataDir = t.TempDir()
		st, err := Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		for _, b := range st.Brokers {
			if !strings.HasPrefix(b, "127.0.0.1:") {
				t.Fatalf("embedded broker listens on %s, want 127.0.0.1 only", b)
			}
		}
		if !strings.HasPrefix(st.S3Endpoint, "http://127.0.0.1:") {
			t.Fatalf("embedded S3 at %s, want 127.0.0.1 only", st.S3Endpoint)
		}
		if !strings.HasPrefix(st.Registry, "http://127.0.0.1:") {
			t.Fatalf("embedded schema registry at %s, want 127.0.0.1 only", st.Registry)
		}
		return st
	}
	a, b := start(), start()
	ka, err := a.S3.Options().Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.S3.Options().Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ka.AccessKeyID == kb.AccessKeyID || ka.SecretAccessKey == kb.SecretAccessKey || len(ka.SecretAccessKey) < 32 {
		t.Fatalf("two runs share S3 keys or they are short: %q / %q", ka.AccessKeyID, kb.AccessKeyID)
	}
	// Run b's keys at run a's server.
	other := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.S3Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(kb.AccessKeyID, kb.SecretAccessKey, "")})
	_, err = other.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(a.Bucket)})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Fatalf("another run's key got %v, want 403", err)
	}
	if _, err := a.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a.Bucket)}); err != nil {
		t.Fatalf("the run's own key: %v", err)
	}
}

// TestServerPIDs: pids of live processes are found under their state
// file's name, a cluster's nodes by number; dead pids and other keys are not.
func TestServerPIDs(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	got := serverPIDs(map[string]map[string]string{
		"kafka": {"KAFKA_PID": self, "KAFKA_PID_2": self, "KAFKA_PIDFILE": self, "KAFKA_BROKERS": "127.0.0.1:9092"},
		"s3":    {"S3_PID": strconv.Itoa(1 << 30), "S3_ENDPOINT": "http://127.0.0.1:1"},
	})
	want := map[string]int{"kafka": os.Getpid(), "kafka-2": os.Getpid()}
	if !maps.Equal(got, want) {
		t.Errorf("serverPIDs = %v, want %v", got, want)
	}
}

// TestEmbeddedRegistry: the embedded stack's Schema Registry serves what
// the framed wire formats need (registration, lookup by id) until Close.
func TestEmbeddedRegistry(t *testing.T) {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	st, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sr.NewClient(sr.URLs(st.Registry))
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.RegisterSchema(t.Context(), "ticks-value", wire.Avro.Schema(), -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := cl.SchemaByID(t.Context(), id); err != nil || s.Schema != wire.Avro.Schema().Schema {
		t.Fatalf("schema %d: %+v, %v", id, s, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SchemaByID(t.Context(), id); err == nil {
		t.Fatal("the registry still answers after Close")
	}
}
