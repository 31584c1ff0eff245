package sink

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/stack/s3lite"
)

// headerLog records the headers of every request the SDK sends.
type headerLog struct {
	mu   sync.Mutex
	reqs []*http.Request
	next http.RoundTripper
}

func (h *headerLog) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.reqs = append(h.reqs, r.Clone(context.Background()))
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

// TestS3StoreSSE: the encryption settings go out on PutObject and on
// CreateMultipartUpload, where S3 takes them for a multipart object.
func TestS3StoreSSE(t *testing.T) {
	endpoint, stop, _, err := s3lite.Start(s3lite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	log := &headerLog{next: http.DefaultTransport}
	cl := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: log})
	ctx := t.Context()
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ticks")}); err != nil {
		t.Fatal(err)
	}
	store := S3Store{Client: cl, Bucket: "ticks", MultipartAbove: 1 << 10, SSE: "aws:kms", SSEKMSKeyID: "alias/ticks"}
	if _, err := store.Put(ctx, "small", []byte("x"), "text/plain", true); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(ctx, "large", bytes.Repeat([]byte("y"), 4<<10), "text/plain", true); err != nil {
		t.Fatal(err)
	}
	var sawPut, sawCreate bool
	for _, r := range log.reqs {
		put := r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/small")
		create := r.Method == http.MethodPost && r.URL.Query().Has("uploads")
		if !put && !create {
			continue
		}
		if r.Header.Get("X-Amz-Server-Side-Encryption") != "aws:kms" || r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != "alias/ticks" {
			t.Fatalf("%s %s went out with headers %v", r.Method, r.URL, r.Header)
		}
		sawPut, sawCreate = sawPut || put, sawCreate || create
	}
	if !sawPut || !sawCreate {
		t.Fatalf("saw PutObject %v, CreateMultipartUpload %v; want both", sawPut, sawCreate)
	}
}
