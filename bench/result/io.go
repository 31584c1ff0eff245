package result

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3URL splits s3://BUCKET/KEY; ok is false for anything else (a file).
func S3URL(u string) (bucket, key string, ok bool) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, true
}

// LoadResults reads result files: paths, s3://BUCKET/KEY objects, and
// s3://BUCKET/PREFIX/ (ending in /) for every .json object under it. cl may
// be nil when no source is in S3. Each process row records where it came
// from.
func LoadResults(ctx context.Context, cl *s3.Client, srcs []string) ([]*Result, error) {
	var out []*Result
	add := func(src string, b []byte) error {
		r, err := ParseResult(b)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		for i := range r.Processes {
			if r.Processes[i].File == "" {
				r.Processes[i].File = src
			}
		}
		out = append(out, r)
		return nil
	}
	for _, src := range srcs {
		bucket, key, isS3 := S3URL(src)
		if !isS3 {
			b, err := os.ReadFile(src)
			if err != nil {
				return nil, err
			}
			if err := add(src, b); err != nil {
				return nil, err
			}
			continue
		}
		if cl == nil {
			return nil, fmt.Errorf("%s: no S3 client", src)
		}
		keys := []string{key}
		if key == "" || strings.HasSuffix(key, "/") {
			keys = nil
			pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &key})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("list %s: %w", src, err)
				}
				for _, o := range page.Contents {
					if strings.HasSuffix(*o.Key, ".json") {
						keys = append(keys, *o.Key)
					}
				}
			}
			if len(keys) == 0 {
				return nil, fmt.Errorf("%s: no .json results under it", src)
			}
		}
		for _, k := range keys {
			o, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &k})
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, k, err)
			}
			b, err := io.ReadAll(io.LimitReader(o.Body, 256<<20))
			o.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, k, err)
			}
			if err := add("s3://"+bucket+"/"+k, b); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Save writes r as indented JSON to dest: a file, or s3://BUCKET/KEY with
// cl (which may be nil for a file).
func (r *Result) Save(ctx context.Context, dest string, cl *s3.Client) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	bucket, key, isS3 := S3URL(dest)
	if !isS3 {
		if dir := filepath.Dir(dest); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("write result %s: %w", dest, err)
			}
		}
		if err := os.WriteFile(dest, b, 0o644); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("result %q: want s3://BUCKET/KEY naming an object", dest)
	}
	ct := "application/json"
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(b), ContentType: &ct}); err != nil {
		return fmt.Errorf("write result %s: %w", dest, err)
	}
	return nil
}
