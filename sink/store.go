package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store is where objects land: the one boundary the sink swaps in tests.
type Store interface {
	// Put writes body under key. With ifAbsent it must not overwrite: an
	// existing key yields ErrExists and leaves the object as it was.
	Put(ctx context.Context, key string, body []byte, contentType string, ifAbsent bool) error
}

// ErrExists reports that a conditional Put found the key already written.
var ErrExists = errors.New("object already exists")

// S3Store puts objects into one bucket with aws-sdk-go-v2.
type S3Store struct {
	Client *s3.Client
	Bucket string
}

// Put uploads body under key; ifAbsent sends If-None-Match: *, which S3
// answers with 412 when the key exists. The SDK retries throttling and
// transient errors with backoff; what still fails after that is returned.
func (s S3Store) Put(ctx context.Context, key string, body []byte, contentType string, ifAbsent bool) error {
	in := &s3.PutObjectInput{
		Bucket:        &s.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   &contentType,
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if _, err := s.Client.PutObject(ctx, in); err != nil {
		var re *awshttp.ResponseError
		if ifAbsent && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
			return fmt.Errorf("upload s3://%s/%s: %w", s.Bucket, key, ErrExists)
		}
		return fmt.Errorf("upload s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}
