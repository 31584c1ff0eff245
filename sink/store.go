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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Store is where objects land: the one boundary the sink swaps in tests.
type Store interface {
	// Put writes body under key and says how many requests that took
	// (more than one for a multipart upload). With ifAbsent it must not
	// overwrite: an existing key yields ErrExists and leaves the object as
	// it was.
	Put(ctx context.Context, key string, body []byte, contentType string, ifAbsent bool) (requests int, err error)
	// Same reports whether key holds exactly body.
	Same(ctx context.Context, key string, body []byte) (bool, error)
}

// ErrExists reports that a conditional Put found the key already written.
var ErrExists = errors.New("object already exists")

// S3Store puts objects into one bucket with aws-sdk-go-v2.
type S3Store struct {
	Client *s3.Client
	Bucket string
	// MultipartAbove sends objects larger than this as multipart uploads
	// of PartSize parts, up to Parallel at once. Defaults: 32 MiB, 8 MiB, 4.
	MultipartAbove, PartSize, Parallel int
	// SSE is the server-side encryption asked for on every write:
	// "AES256" (SSE-S3), "aws:kms" (SSE-KMS, with SSEKMSKeyID or the
	// account's aws/s3 key) or "" for the bucket's default.
	SSE, SSEKMSKeyID string
}

// sse returns the encryption parameters of a write.
func (s S3Store) sse() (types.ServerSideEncryption, *string) {
	var key *string
	if s.SSEKMSKeyID != "" {
		key = aws.String(s.SSEKMSKeyID)
	}
	return types.ServerSideEncryption(s.SSE), key
}

func (s S3Store) multipart() (above, part, parallel int) {
	above, part, parallel = s.MultipartAbove, s.PartSize, s.Parallel
	if above <= 0 {
		above = 32 << 20
	}
	if part < 5<<20 {
		part = 8 << 20 // S3's minimum part is 5 MiB
	}
	if parallel <= 0 {
		parallel = 4
	}
	return above, part, parallel
}

// Put uploads body under key; ifAbsent sends If-None-Match: *, which S3
// answers with 412 when the key exists (on the completion of a multipart
// upload too). The SDK retries throttling and transient errors with
// backoff; what still fails after that is returned. Every read of the body
// counts as progress for the sink's upload watchdog.
func (s S3Store) Put(ctx context.Context, key string, body []byte, contentType string, ifAbsent bool) (int, error) {
	var ifNoneMatch *string
	if ifAbsent {
		ifNoneMatch = aws.String("*")
	}
	requests, err := 1, error(nil)
	if above, part, parallel := s.multipart(); len(body) > above {
		requests, err = s.putMultipart(ctx, key, body, contentType, ifNoneMatch, part, parallel)
	} else {
		sse, kmsKey := s.sse()
		_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.Bucket, Key: &key, Body: &progressReader{bytes.NewReader(body), ctx},
			ContentLength: aws.Int64(int64(len(body))), ContentType: &contentType, IfNoneMatch: ifNoneMatch,
			ServerSideEncryption: sse, SSEKMSKeyId: kmsKey,
		})
	}
	if err != nil {
		var re *awshttp.ResponseError
		if ifAbsent && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
			return requests, fmt.Errorf("upload s3://%s/%s: %w", s.Bucket, key, ErrExists)
		}
		return requests, fmt.Errorf("upload s3://%s/%s: %w", s.Bucket, key, err)
	}
	return requests, nil
}

// putMultipart uploads body in parts, parallel, and completes it under the
// condition; a failed upload is aborted so no parts are left billed.
func (s S3Store) putMultipart(ctx context.Context, key string, body []byte, contentType string, ifNoneMatch *string, partSize, parallel int) (int, error) {
	sse, kmsKey := s.sse()
	up, err := s.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.Bucket, Key: &key, ContentType: &contentType,
		ServerSideEncryption: sse, SSEKMSKeyId: kmsKey})
	if err != nil {
		return 1, err
	}
	n := (len(body) + partSize - 1) / partSize
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i := range n {
		g.Go(func() error {
			chunk := body[i*partSize : min(len(body), (i+1)*partSize)]
			out, err := s.Client.UploadPart(gctx, &s3.UploadPartInput{
				Bucket: &s.Bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				Body: &progressReader{bytes.NewReader(chunk), gctx}, ContentLength: aws.Int64(int64(len(chunk))),
			})
			if err != nil {
				return fmt.Errorf("part %d of %d: %w", i+1, n, err)
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))}
			return nil
		})
	}
	err = g.Wait()
	if err == nil {
		_, err = s.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &s.Bucket, Key: &key, UploadId: up.UploadId, IfNoneMatch: ifNoneMatch,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
	}
	if err != nil {
		// Best effort, on a context of its own: ctx may be what failed.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		s.Client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.Bucket, Key: &key, UploadId: up.UploadId}) //nolint:errcheck
	}
	return n + 2, err
}

// ETag returns the ETag S3 gives body as written by Put: the MD5 for one
// PutObject, or the MD5 of the parts' MD5s and the part count for a
// multipart upload.
func (s S3Store) ETag(body []byte) string {
	above, part, _ := s.multipart()
	if len(body) <= above {
		sum := md5.Sum(body)
		return hex.EncodeToString(sum[:])
	}
	var sums []byte
	n := 0
	for off := 0; off < len(body); off += part {
		sum := md5.Sum(body[off:min(len(body), off+part)])
		sums = append(sums, sum[:]...)
		n++
	}
	sum := md5.Sum(sums)
	return fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:]), n)
}

// Same compares key's ETag with the one Put would give body.
func (s S3Store) Same(ctx context.Context, key string, body []byte) (bool, error) {
	out, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		return false, fmt.Errorf("head s3://%s/%s: %w", s.Bucket, key, err)
	}
	return out.ETag != nil && strings.Trim(*out.ETag, `"`) == s.ETag(body), nil
}
