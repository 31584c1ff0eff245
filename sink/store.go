package sink

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store is where objects land: the one boundary the sink swaps in tests.
type Store interface {
	Put(ctx context.Context, key string, body []byte, contentType string) error
}

// S3Store puts objects into one bucket with aws-sdk-go-v2.
type S3Store struct {
	Client *s3.Client
	Bucket string
}

// Put uploads body under key. The SDK retries throttling and transient
// errors with backoff; what is still failing after that is returned.
func (s S3Store) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   &contentType,
	})
	if err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}
