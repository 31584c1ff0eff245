package s3lite

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// multipartPut uploads parts as one object and returns its ETag.
func multipartPut(t testing.TB, env *testEnv, key string, parts []string) string {
	t.Helper()
	id, done := uploadParts(t, env, key, parts)
	out, err := env.c.CompleteMultipartUpload(env.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		t.Fatalf("complete %s: %v", key, err)
	}
	return aws.ToString(out.ETag)
}

// uploadParts starts an upload of key and uploads parts, numbered from 1.
func uploadParts(t testing.TB, env *testEnv, key string, parts []string) (string, []types.CompletedPart) {
	t.Helper()
	cr, err := env.c.CreateMultipartUpload(env.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(key), ContentType: aws.String("application/vnd.apache.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		up, err := env.c.UploadPart(env.ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: n, Body: strings.NewReader(p)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{PartNumber: n, ETag: up.ETag})
	}
	return aws.ToString(cr.UploadId), done
}

// multipartETag is S3's: MD5 of the parts' binary MD5s, "-", their count.
func multipartETag(parts []string) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum([]byte(p))
		h.Write(s[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

func TestMultipart(t *testing.T) {
	env := start(t, Config{MinPartSize: 1024})
	parts := []string{strings.Repeat("a", 1024), strings.Repeat("b", 2000), "tail"}
	etag := multipartPut(t, env, "dt=2024-01-01/big.parquet", parts)
	if want := multipartETag(parts); etag != want {
		t.Errorf("ETag %s, want %s", etag, want)
	}
	if got := env.get(t, "dt=2024-01-01/big.parquet"); got != strings.Join(parts, "") {
		t.Errorf("content: %d bytes", len(got))
	}
	h, err := env.c.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dt=2024-01-01/big.parquet")})
	if err != nil || aws.ToString(h.ETag) != etag || aws.ToString(h.ContentType) != "application/vnd.apache.parquet" {
		t.Errorf("HEAD: %v etag %s type %s", err, aws.ToString(h.ETag), aws.ToString(h.ContentType))
	}
	if entries, _ := os.ReadDir(filepath.Join(env.dir, ".tmp", "uploads")); len(entries) != 0 {
		t.Errorf("%d upload dirs left after complete", len(entries))
	}
	// One part is fine; a part may be uploaded again.
	id, done := uploadParts(t, env, "one", []string{"first try"})
	up, err := env.c.UploadPart(env.ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("one"), UploadId: aws.String(id), PartNumber: aws.Int32(1), Body: strings.NewReader("second")})
	if err != nil {
		t.Fatal(err)
	}
	done[0].ETag = up.ETag
	if _, err := env.c.CompleteMultipartUpload(env.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("one"), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	if got := env.get(t, "one"); got != "second" {
		t.Errorf("re-uploaded part: %q", got)
	}
}

func TestMultipartErrors(t *testing.T) {
	env := start(t, Config{MinPartSize: 100})
	complete := func(key, id string, parts []types.CompletedPart) error {
		_, err := env.c.CompleteMultipartUpload(env.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	id, parts := uploadParts(t, env, "k", []string{"small", strings.Repeat("x", 100), "end"})

	wantErr(t, complete("k", id, parts), "EntityTooSmall", 400)
	wantErr(t, complete("k", id, []types.CompletedPart{parts[1], parts[0]}), "InvalidPartOrder", 400)
	wantErr(t, complete("k", id, []types.CompletedPart{{PartNumber: aws.Int32(7), ETag: parts[0].ETag}}), "InvalidPart", 400)
	wantErr(t, complete("k", id, []types.CompletedPart{{PartNumber: aws.Int32(2), ETag: parts[0].ETag}}), "InvalidPart", 400)
	wantErr(t, complete("k", id, nil), "MalformedXML", 400) // SDK sends an empty list
	wantErr(t, complete("other-key", id, parts[1:]), "NoSuchUpload", 404)
	wantErr(t, complete("k", "0123456789abcdef0123456789abcdef", parts[1:]), "NoSuchUpload", 404)
	wantErr(t, complete("k", "../../../etc", parts[1:]), "NoSuchUpload", 404)
	// The failures above left the upload usable.
	if err := complete("k", id, parts[1:]); err != nil {
		t.Fatal(err)
	}
	wantErr(t, complete("k", id, parts[1:]), "NoSuchUpload", 404)

	_, err := env.c.UploadPart(env.ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("k"), UploadId: aws.String(id), PartNumber: aws.Int32(1), Body: strings.NewReader("late")})
	wantErr(t, err, "NoSuchUpload", 404)
	id2, _ := uploadParts(t, env, "k2", nil)
	_, err = env.c.UploadPart(env.ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("k2"), UploadId: aws.String(id2), PartNumber: aws.Int32(10001), Body: strings.NewReader("x")})
	wantErr(t, err, "InvalidArgument", 400)

	// Abort removes the parts.
	id3, _ := uploadParts(t, env, "k3", []string{"a", "b"})
	if _, err := env.c.AbortMultipartUpload(env.ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("k3"), UploadId: aws.String(id3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(env.dir, ".tmp", "uploads", id3)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("aborted upload's parts left: %v", err)
	}
	_, err = env.c.AbortMultipartUpload(env.ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("k3"), UploadId: aws.String(id3)})
	wantErr(t, err, "NoSuchUpload", 404)
	_, err = env.c.CreateMultipartUpload(env.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("nobucket"), Key: aws.String("k")})
	wantErr(t, err, "NoSuchBucket", 404)
}

// CompleteMultipartUpload honours If-None-Match: *, also racing itself.
func TestMultipartIfNoneMatch(t *testing.T) {
	env := start(t, Config{MinPartSize: 1})
	env.put(t, "exists", "v")
	id, parts := uploadParts(t, env, "exists", []string{"a", "b"})
	_, err := env.c.CompleteMultipartUpload(env.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(testBucket), Key: aws.String("exists"), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfNoneMatch: aws.String("*"),
	})
	wantErr(t, err, "PreconditionFailed", 412)
	if got := env.get(t, "exists"); got != "v" {
		t.Errorf("object replaced: %q", got)
	}
	// The upload is kept, as by S3: it can still be aborted.
	if _, err := env.c.AbortMultipartUpload(env.ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("exists"), UploadId: aws.String(id)}); err != nil {
		t.Errorf("abort after 412: %v", err)
	}

	for round := range 10 {
		key := fmt.Sprintf("race/%d", round)
		var ids [2]string
		var ps [2][]types.CompletedPart
		for i := range 2 {
			ids[i], ps[i] = uploadParts(t, env, key, []string{fmt.Sprintf("upload %d", i)})
		}
		var wg sync.WaitGroup
		var errs [2]error
		for i := range 2 {
			wg.Go(func() {
				_, errs[i] = env.c.CompleteMultipartUpload(env.ctx, &s3.CompleteMultipartUploadInput{
					Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: aws.String(ids[i]),
					MultipartUpload: &types.CompletedMultipartUpload{Parts: ps[i]}, IfNoneMatch: aws.String("*"),
				})
			})
		}
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				if got := env.get(t, key); got != fmt.Sprintf("upload %d", i) {
					t.Errorf("%s holds %q, winner was upload %d", key, got, i)
				}
			case errStatus(err) != 412:
				t.Errorf("%s: %v", key, err)
			}
		}
		if winners != 1 {
			t.Errorf("%s: %d completions won, want 1", key, winners)
		}
	}
}
