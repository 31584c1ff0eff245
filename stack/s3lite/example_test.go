package s3lite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/stack/s3lite"
)

// Start a server, write an object with the SDK (If-None-Match: * as an
// exactly-once sink does), and find it as a plain file.
func ExampleStart() {
	dir, err := os.MkdirTemp("", "s3lite")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	endpoint, stop, srv, err := s3lite.Start(s3lite.Config{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("any", "any", ""),
	})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ticks")}); err != nil {
		log.Fatal(err)
	}
	put := &s3.PutObjectInput{
		Bucket:      aws.String("ticks"),
		Key:         aws.String("dt=2024-01-02/hour=03/ticks+0+00000000000000000042.jsonl"),
		Body:        strings.NewReader(`{"sym":"ACME","px":101.5}` + "\n"),
		IfNoneMatch: aws.String("*"),
	}
	if _, err := c.PutObject(ctx, put); err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "ticks", "dt=2024-01-02", "hour=03", "ticks+0+00000000000000000042.jsonl"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))

	put.Body = strings.NewReader("a replay\n")
	_, err = c.PutObject(ctx, put)
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		fmt.Println("replay:", ae.ErrorCode())
	}
	fmt.Println("PutObject requests:", srv.Stats().Requests["PutObject"])
	// Output:
	// {"sym":"ACME","px":101.5}
	// replay: PreconditionFailed
	// PutObject requests: 2
}

// Make every request fail with 503 SlowDown, as a throttled S3 prefix
// would, and count what was injected.
func ExampleServer_SetFaults() {
	dir, err := os.MkdirTemp("", "s3lite")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	endpoint, stop, srv, err := s3lite.Start(s3lite.Config{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	if err := srv.SetFaults(s3lite.Faults{Seed: 1, ErrorRate503: 1}); err != nil {
		log.Fatal(err)
	}
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("any", "any", ""),
		Retryer:      aws.NopRetryer{},
	})
	_, err = c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		fmt.Println(ae.ErrorCode())
	}
	fmt.Println("injected 503s:", srv.Stats().Injected503)
	// Output:
	// SlowDown
	// injected 503s: 1
}
