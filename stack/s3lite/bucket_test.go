package s3lite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBuckets(t *testing.T) {
	env := start(t, Config{Region: "eu-west-1"}) // creates testBucket
	_, err := env.c.CreateBucket(env.ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) || errStatus(err) != 409 {
		t.Errorf("create twice: %v, want 409 BucketAlreadyOwnedByYou", err)
	}
	for _, bad := range []string{"ab", "Upper", "-lead", "trail-", "a..b", "under_score", ".tmp"} {
		_, err := env.c.CreateBucket(env.ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)})
		wantErr(t, err, "InvalidBucketName", 400)
	}
	if _, err := env.c.CreateBucket(env.ctx, &s3.CreateBucketInput{Bucket: aws.String("second.bucket-2")}); err != nil {
		t.Fatal(err)
	}
	h, err := env.c.HeadBucket(env.ctx, &s3.HeadBucketInput{Bucket: aws.String(testBucket)})
	if err != nil || aws.ToString(h.BucketRegion) != "eu-west-1" {
		t.Errorf("HEAD bucket: %v region %q", err, aws.ToString(h.BucketRegion))
	}
	loc, err := env.c.GetBucketLocation(env.ctx, &s3.GetBucketLocationInput{Bucket: aws.String(testBucket)})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Errorf("location: %v %q", err, loc.LocationConstraint)
	}
	_, err = env.c.HeadBucket(env.ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HEAD missing bucket: %v, want NotFound", err)
	}

	// A stray file or directory in Dir is no bucket.
	writeFile(t, filepath.Join(env.dir, "stray.txt"), "x")
	if err := os.Mkdir(filepath.Join(env.dir, "Not_A_Bucket"), 0o755); err != nil {
		t.Fatal(err)
	}
	lb, err := env.c.ListBuckets(env.ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil || b.CreationDate.IsZero() {
			t.Errorf("bucket %s without a creation date", aws.ToString(b.Name))
		}
	}
	if len(names) != 2 || names[0] != "second.bucket-2" || names[1] != testBucket {
		t.Errorf("ListBuckets = %v", names)
	}

	env.put(t, "a/b/c", "x")
	_, err = env.c.DeleteBucket(env.ctx, &s3.DeleteBucketInput{Bucket: aws.String(testBucket)})
	wantErr(t, err, "BucketNotEmpty", 409)
	if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/b/c")}); err != nil {
		t.Fatal(err)
	}
	// Empty directories (left by other tools) do not keep a bucket.
	if err := os.MkdirAll(filepath.Join(env.dir, testBucket, "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.DeleteBucket(env.ctx, &s3.DeleteBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("delete empty bucket: %v", err)
	}
	_, err = env.c.HeadBucket(env.ctx, &s3.HeadBucketInput{Bucket: aws.String(testBucket)})
	if !errors.As(err, &nf) {
		t.Errorf("HEAD deleted bucket: %v", err)
	}
	_, err = env.c.DeleteBucket(env.ctx, &s3.DeleteBucketInput{Bucket: aws.String(testBucket)})
	wantErr(t, err, "NoSuchBucket", 404)
}
