package sink

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store is where objects land: the one boundary the sink swaps in tests.
type Store interface {
	// Put writes body under key. With ifAbsent it must not overwrite: an
	// existing key yields ErrExists and leaves the object as it was.
	Put(ctx context.Context, key string, body []byte, contentType string, ifAbsent bool) error
	// Same reports whether key holds exactly body.
	Same(ctx context.Context, key string, body []byte) (bool, error)
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

// Same compares key's ETag with body's MD5, which is the ETag S3 gives an
// object written by one PutObject.
func (s S3Store) Same(ctx context.Context, key string, body []byte) (bool, error) {
	out, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		return false, fmt.Errorf("head s3://%s/%s: %w", s.Bucket, key, err)
	}
	sum := md5.Sum(body)
	return out.ETag != nil && strings.Trim(*out.ETag, `"`) == hex.EncodeToString(sum[:]), nil
}
