package s3lite

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const testBucket = "ticks"

// testEnv is a running server with an SDK client and a bucket.
type testEnv struct {
	srv      *Server
	c        *s3.Client
	endpoint string
	dir      string
	ctx      context.Context
}

// start serves cfg (Dir defaults to a temp dir) on 127.0.0.1 and creates
// testBucket. The client does not retry, so every answer is seen as sent.
func start(t testing.TB, cfg Config, opts ...func(*s3.Options)) *testEnv {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	endpoint, stop, srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	env := &testEnv{srv: srv, c: newClient(endpoint, opts...), endpoint: endpoint, dir: cfg.Dir, ctx: t.Context()}
	if _, err := env.c.CreateBucket(env.ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	return env
}

func newClient(endpoint string, opts ...func(*s3.Options)) *s3.Client {
	o := []func(*s3.Options){func(o *s3.Options) { o.Retryer = aws.NopRetryer{} }}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, append(o, opts...)...)
}

func (e *testEnv) put(t testing.TB, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return out
}

func (e *testEnv) get(t testing.TB, key string) string {
	t.Helper()
	out, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// raw sends a hand-made request, for what the SDK will not send.
func (e *testEnv) raw(t testing.TB, method, path string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// errCode and errStatus read an SDK error without importing smithy.
func errCode(err error) string {
	var ce interface{ ErrorCode() string }
	if errors.As(err, &ce) {
		return ce.ErrorCode()
	}
	return ""
}

func errStatus(err error) int {
	var se interface{ HTTPStatusCode() int }
	if errors.As(err, &se) {
		return se.HTTPStatusCode()
	}
	return 0
}

// wantErr fails unless err is an S3 error with code and status.
func wantErr(t testing.TB, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (%d), got success", code, status)
	}
	if errCode(err) != code || errStatus(err) != status {
		t.Fatalf("want %s (%d), got %s (%d): %v", code, status, errCode(err), errStatus(err), err)
	}
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// writeFile puts a file into the data dir as another tool would.
func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	t0 := time.Now()
	f()
	return time.Since(t0)
}
