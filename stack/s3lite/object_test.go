package s3lite

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestPutGetHead(t *testing.T) {
	env := start(t, Config{})
	body := `{"sym":"ACME","px":101.5}` + "\n"
	before := time.Now().Add(-time.Second)
	out, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("dt=2024-01-02/hour=03/t.jsonl"),
		Body: strings.NewReader(body), ContentType: aws.String("application/x-ndjson"),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantETag := `"` + md5hex(body) + `"`
	if aws.ToString(out.ETag) != wantETag {
		t.Errorf("PUT ETag %s, want %s", aws.ToString(out.ETag), wantETag)
	}

	onDisk, err := os.ReadFile(filepath.Join(env.dir, testBucket, "dt=2024-01-02", "hour=03", "t.jsonl"))
	if err != nil || string(onDisk) != body {
		t.Fatalf("file on disk = %q, %v; want the object's bytes", onDisk, err)
	}

	g, err := env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dt=2024-01-02/hour=03/t.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != body || aws.ToString(g.ETag) != wantETag || aws.ToInt64(g.ContentLength) != int64(len(body)) ||
		aws.ToString(g.ContentType) != "application/x-ndjson" || g.LastModified.Before(before) {
		t.Errorf("GET = %q etag %s len %d type %s mod %v", got, aws.ToString(g.ETag), aws.ToInt64(g.ContentLength), aws.ToString(g.ContentType), g.LastModified)
	}

	h, err := env.c.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dt=2024-01-02/hour=03/t.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ETag) != wantETag || aws.ToInt64(h.ContentLength) != int64(len(body)) || !h.LastModified.Equal(*g.LastModified) {
		t.Errorf("HEAD etag %s len %d mod %v", aws.ToString(h.ETag), aws.ToInt64(h.ContentLength), h.LastModified)
	}

	// Overwrite, then an empty object.
	env.put(t, "dt=2024-01-02/hour=03/t.jsonl", "v2")
	if got := env.get(t, "dt=2024-01-02/hour=03/t.jsonl"); got != "v2" {
		t.Errorf("after overwrite GET = %q", got)
	}
	if out := env.put(t, "empty", ""); aws.ToString(out.ETag) != `"`+md5hex("")+`"` {
		t.Errorf("empty ETag %s", aws.ToString(out.ETag))
	}
	if got := env.get(t, "empty"); got != "" {
		t.Errorf("empty GET = %q", got)
	}
}

func TestMissing(t *testing.T) {
	env := start(t, Config{})
	_, err := env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("nope")})
	wantErr(t, err, "NoSuchKey", 404)
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GET missing key: %T, want *types.NoSuchKey", err)
	}
	_, err = env.c.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HEAD missing key: %v, want NotFound", err)
	}
	_, err = env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String("no-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantErr(t, err, "NoSuchBucket", 404)
	_, err = env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String("no-bucket"), Key: aws.String("k")})
	wantErr(t, err, "NoSuchBucket", 404)

	// A directory (the prefix of other keys) is no object.
	env.put(t, "dir/file", "x")
	_, err = env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir")})
	wantErr(t, err, "NoSuchKey", 404)
	// Nor is a key below a file.
	_, err = env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/file/x")})
	wantErr(t, err, "NoSuchKey", 404)
}

func TestBadKeys(t *testing.T) {
	env := start(t, Config{})
	outside := filepath.Join(filepath.Dir(env.dir), "escaped")
	for _, key := range []string{
		"../escaped", "a/../../escaped", "a/../b", "/abs", "a//b", "./a", "a/./b", "a/", "a/b/",
		"nul\x00byte", strings.Repeat("x", 256), "..",
	} {
		_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader("x")})
		code := errCode(err)
		if errStatus(err) != 400 || code != "InvalidArgument" && code != "KeyTooLongError" {
			t.Errorf("PUT %q: %v, want 400 InvalidArgument or KeyTooLongError", key, err)
		}
		_, err = env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
		if errStatus(err) != 400 {
			t.Errorf("GET %q: %v, want 400", key, err)
		}
	}
	_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(strings.Repeat("k/", 600)), Body: strings.NewReader("x")})
	wantErr(t, err, "KeyTooLongError", 400)

	// Escapes the SDK would encode: percent-encoded dots and slashes, and a
	// bucket name that is a path.
	for _, p := range []string{"/" + testBucket + "/%2e%2e/escaped", "/" + testBucket + "/a%2f..%2f..%2fescaped", "/../escaped", "/.tmp/x", "/%2e%2e/" + filepath.Base(env.dir) + "/x"} {
		resp, body := env.raw(t, "PUT", p, []byte("x"), nil)
		if resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Errorf("PUT %s: %d %s, want 400 or 404", p, resp.StatusCode, body)
		}
	}
	if _, err := os.Stat(outside); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists: a key escaped the data dir", outside)
	}
	entries, _ := os.ReadDir(filepath.Join(env.dir, testBucket))
	if len(entries) != 0 {
		t.Errorf("bucket dir holds %d entries after rejected writes", len(entries))
	}
}

func TestKeyConflicts(t *testing.T) {
	env := start(t, Config{})
	env.put(t, "a/b", "1")
	_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a"), Body: strings.NewReader("2")})
	wantErr(t, err, "ExistingObjectIsDirectory", 409)

	env.put(t, "x", "1")
	_, err = env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x/y"), Body: strings.NewReader("2")})
	wantErr(t, err, "ObjectParentIsFile", 409)
	_, err = env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x/y/z"), Body: strings.NewReader("2")})
	wantErr(t, err, "ObjectParentIsFile", 409)

	// Deleting a/b prunes directory a, so object a can exist now.
	if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/b")}); err != nil {
		t.Fatal(err)
	}
	env.put(t, "a", "3")
	if got := env.get(t, "a"); got != "3" {
		t.Errorf("a = %q", got)
	}
	// An empty directory left by other tools does not block a key either.
	if err := os.MkdirAll(filepath.Join(env.dir, testBucket, "e", "f"), 0o755); err != nil {
		t.Fatal(err)
	}
	env.put(t, "e/f", "4")
}

func TestConditionalPut(t *testing.T) {
	env := start(t, Config{})
	in := func(key, body string) *s3.PutObjectInput {
		return &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(body)}
	}
	first := in("k", "one")
	first.IfNoneMatch = aws.String("*")
	out, err := env.c.PutObject(env.ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	again := in("k", "two")
	again.IfNoneMatch = aws.String("*")
	_, err = env.c.PutObject(env.ctx, again)
	wantErr(t, err, "PreconditionFailed", 412)
	if got := env.get(t, "k"); got != "one" {
		t.Errorf("after failed conditional PUT: %q", got)
	}

	wrong := in("k", "three")
	wrong.IfMatch = aws.String(`"0123"`)
	_, err = env.c.PutObject(env.ctx, wrong)
	wantErr(t, err, "PreconditionFailed", 412)
	right := in("k", "four")
	right.IfMatch = out.ETag
	if _, err := env.c.PutObject(env.ctx, right); err != nil {
		t.Fatalf("If-Match with the current ETag: %v", err)
	}
	if got := env.get(t, "k"); got != "four" {
		t.Errorf("after If-Match PUT: %q", got)
	}
	missing := in("none", "x")
	missing.IfMatch = out.ETag
	_, err = env.c.PutObject(env.ctx, missing)
	wantErr(t, err, "NoSuchKey", 404)

	// If-None-Match with an ETag is not something S3 does on writes.
	resp, _ := env.raw(t, "PUT", "/"+testBucket+"/k2", []byte("x"), map[string]string{"If-None-Match": `"abc"`})
	if resp.StatusCode != 501 {
		t.Errorf("If-None-Match with an ETag: %d, want 501", resp.StatusCode)
	}
}

// Two writers race with If-None-Match: * on every key: exactly one wins.
func TestConditionalPutRace(t *testing.T) {
	env := start(t, Config{})
	const keys = 200
	type result struct {
		ok, failed int
		winner     string
	}
	var mu sync.Mutex
	results := make(map[string]*result)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range keys {
				key := fmt.Sprintf("race/%03d", i)
				body := fmt.Sprintf("writer %d", w)
				_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{
					Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(body), IfNoneMatch: aws.String("*"),
				})
				mu.Lock()
				r := results[key]
				if r == nil {
					r = &result{}
					results[key] = r
				}
				switch {
				case err == nil:
					r.ok++
					r.winner = body
				case errStatus(err) == 412:
					r.failed++
				default:
					t.Errorf("%s: %v", key, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := range keys {
		key := fmt.Sprintf("race/%03d", i)
		r := results[key]
		if r.ok != 1 || r.failed != 1 {
			t.Errorf("%s: %d won, %d got 412; want 1 and 1", key, r.ok, r.failed)
			continue
		}
		if got := env.get(t, key); got != r.winner {
			t.Errorf("%s holds %q, the winner wrote %q", key, got, r.winner)
		}
	}
}

func TestRange(t *testing.T) {
	env := start(t, Config{})
	const body = "0123456789"
	env.put(t, "r", body)
	env.put(t, "empty", "")
	for _, tc := range []struct {
		key, rng     string
		want         string // body returned
		contentRange string // "" for a 200
		status       int    // error status; 0 for success
	}{
		{"r", "bytes=0-4", "01234", "bytes 0-4/10", 0},
		{"r", "bytes=5-", "56789", "bytes 5-9/10", 0},
		{"r", "bytes=-3", "789", "bytes 7-9/10", 0},
		{"r", "bytes=-100", body, "bytes 0-9/10", 0},
		{"r", "bytes=3-1000", "3456789", "bytes 3-9/10", 0},
		{"r", "bytes=9-9", "9", "bytes 9-9/10", 0},
		{"r", "bytes=10-", "", "", 416},
		{"r", "bytes=100-200", "", "", 416},
		{"r", "bytes=-0", "", "", 416},
		{"r", "bytes=5-2", body, "", 0},     // invalid: ignored
		{"r", "items=0-1", body, "", 0},     // other unit: ignored
		{"r", "bytes=0-1,3-4", body, "", 0}, // several ranges: ignored, as S3
		{"r", "bytes=x-", body, "", 0},
		{"empty", "bytes=0-", "", "", 416},
		{"empty", "bytes=-1", "", "", 416},
	} {
		t.Run(tc.key+" "+tc.rng, func(t *testing.T) {
			out, err := env.c.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.key), Range: aws.String(tc.rng)})
			if tc.status != 0 {
				wantErr(t, err, "InvalidRange", tc.status)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(got) != tc.want || aws.ToString(out.ContentRange) != tc.contentRange || aws.ToInt64(out.ContentLength) != int64(len(tc.want)) {
				t.Errorf("got %q range %q len %d; want %q range %q", got, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength), tc.want, tc.contentRange)
			}
		})
	}
	// 416 carries the size, as S3's does.
	resp, _ := env.raw(t, "GET", "/"+testBucket+"/r", nil, map[string]string{"Range": "bytes=20-"})
	if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */10" {
		t.Errorf("416: %d Content-Range %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	// HEAD honours Range too.
	h, err := env.c.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("r"), Range: aws.String("bytes=2-3")})
	if err != nil || aws.ToInt64(h.ContentLength) != 2 || aws.ToString(h.ContentRange) != "bytes 2-3/10" {
		t.Errorf("HEAD range: %v len %d range %q", err, aws.ToInt64(h.ContentLength), aws.ToString(h.ContentRange))
	}
}

func TestGetConditional(t *testing.T) {
	env := start(t, Config{})
	out := env.put(t, "k", "v")
	get := func(in *s3.GetObjectInput) error {
		in.Bucket, in.Key = aws.String(testBucket), aws.String("k")
		o, err := env.c.GetObject(env.ctx, in)
		if err == nil {
			o.Body.Close()
		}
		return err
	}
	if err := get(&s3.GetObjectInput{IfMatch: out.ETag}); err != nil {
		t.Errorf("If-Match current: %v", err)
	}
	wantErr(t, get(&s3.GetObjectInput{IfMatch: aws.String(`"x"`)}), "PreconditionFailed", 412)
	if err := get(&s3.GetObjectInput{IfNoneMatch: out.ETag}); errStatus(err) != 304 {
		t.Errorf("If-None-Match current: %v, want 304", err)
	}
	if err := get(&s3.GetObjectInput{IfNoneMatch: aws.String(`"x"`)}); err != nil {
		t.Errorf("If-None-Match other: %v", err)
	}
	future := time.Now().Add(time.Hour)
	if err := get(&s3.GetObjectInput{IfModifiedSince: &future}); errStatus(err) != 304 {
		t.Errorf("If-Modified-Since future: %v, want 304", err)
	}
	past := time.Now().Add(-time.Hour)
	wantErr(t, get(&s3.GetObjectInput{IfUnmodifiedSince: &past}), "PreconditionFailed", 412)
}

func TestDelete(t *testing.T) {
	env := start(t, Config{})
	env.put(t, "d/e/f", "1")
	env.put(t, "d/g", "2")
	for _, key := range []string{"d/e/f", "d/e/f", "never"} { // absent keys: 204 too
		if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)}); err != nil {
			t.Fatalf("delete %s: %v", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(env.dir, testBucket, "d", "e")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory d/e left behind: %v", err)
	}
	if got := env.get(t, "d/g"); got != "2" {
		t.Errorf("d/g = %q", got)
	}
	// Deleting a directory's name deletes nothing.
	if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	if got := env.get(t, "d/g"); got != "2" {
		t.Errorf("d/g after deleting d = %q", got)
	}
}

func TestDeleteObjects(t *testing.T) {
	env := start(t, Config{})
	for i := range 5 {
		env.put(t, fmt.Sprintf("m/%d", i), "x")
	}
	ids := func(keys ...string) []types.ObjectIdentifier {
		var o []types.ObjectIdentifier
		for _, k := range keys {
			o = append(o, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return o
	}
	out, err := env.c.DeleteObjects(env.ctx, &s3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{Objects: ids("m/0", "m/1", "absent", "../up")}})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	if strings.Join(deleted, ",") != "m/0,m/1,absent" || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "../up" || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
		t.Errorf("deleted %v, errors %+v", deleted, out.Errors)
	}
	out, err = env.c.DeleteObjects(env.ctx, &s3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{Objects: ids("m/2", "m/3"), Quiet: aws.Bool(true)}})
	if err != nil || len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Errorf("quiet: %v, %d deleted, %d errors listed; want none listed", err, len(out.Deleted), len(out.Errors))
	}
	l, err := env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil || len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "m/4" {
		t.Errorf("left after deletes: %v %+v", err, l)
	}
	_, err = env.c.DeleteObjects(env.ctx, &s3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{Objects: ids(make([]string, 1001)...)}})
	wantErr(t, err, "MalformedXML", 400)

	resp, body := env.raw(t, "POST", "/"+testBucket+"?delete", []byte("<Delete><Object>"), nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "MalformedXML") {
		t.Errorf("broken XML: %d %s", resp.StatusCode, body)
	}
}

// The SDK's checksum settings over http: by default a CRC32 header and a
// signed SHA-256 payload hash; with WhenRequired only the SHA-256.
func TestSDKChecksums(t *testing.T) {
	for _, mode := range []aws.RequestChecksumCalculation{aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired} {
		env := start(t, Config{}, func(o *s3.Options) {
			o.RequestChecksumCalculation = mode
			o.ResponseChecksumValidation = aws.ResponseChecksumValidation(mode)
		})
		body := strings.Repeat("tick,", 1000)
		out, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if mode == aws.RequestChecksumCalculationWhenSupported && out.ChecksumCRC32 == nil {
			t.Errorf("default mode: no CRC32 echoed")
		}
		if got := env.get(t, "k"); got != body {
			t.Errorf("mode %v: read back %d bytes", mode, len(got))
		}
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
			_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader(body), ChecksumAlgorithm: alg})
			if err != nil {
				t.Errorf("mode %v, %s: %v", mode, alg, err)
			}
		}
		sum := md5.Sum([]byte(body))
		if _, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader(body), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))}); err != nil {
			t.Errorf("mode %v, Content-MD5: %v", mode, err)
		}
	}
}

func TestBadDigests(t *testing.T) {
	env := start(t, Config{})
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		code string
	}{
		{"content-md5", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(make([]byte, 16))}, "BadDigest"},
		{"content-md5 malformed", map[string]string{"Content-MD5": "nope"}, "InvalidDigest"},
		{"crc32", map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, "BadDigest"},
		{"sha256 checksum", map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(make([]byte, 32))}, "BadDigest"},
		{"content sha256", map[string]string{"x-amz-content-sha256": strings.Repeat("ab", 32)}, "XAmzContentSHA256Mismatch"},
	} {
		resp, body := env.raw(t, "PUT", "/"+testBucket+"/bad", []byte("hello"), tc.hdr)
		if resp.StatusCode != 400 || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, resp.StatusCode, body, tc.code)
		}
	}
	if _, err := os.Stat(filepath.Join(env.dir, testBucket, "bad")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an object with a bad digest was stored")
	}
	// The right checksums pass.
	nvme := crc64.Checksum([]byte("hello"), crc64nvme)
	resp, body := env.raw(t, "PUT", "/"+testBucket+"/good", []byte("hello"), map[string]string{
		"x-amz-checksum-crc32":     "NhCmhg==",
		"x-amz-checksum-crc64nvme": base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, nvme)),
	})
	if resp.StatusCode != 200 {
		t.Errorf("right checksums: %d %s", resp.StatusCode, body)
	}
}

func TestMissingContentLength(t *testing.T) {
	env := start(t, Config{})
	req, _ := http.NewRequestWithContext(env.ctx, "PUT", env.endpoint+"/"+testBucket+"/k", io.NopCloser(strings.NewReader("x"))) // chunked
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 411 {
		t.Errorf("chunked PUT without length: %d, want 411", resp.StatusCode)
	}
}

// Files put into the data dir by other tools, or left by an earlier process
// without metadata, get their ETag computed when first asked for.
func TestForeignFiles(t *testing.T) {
	env := start(t, Config{})
	p := filepath.Join(env.dir, testBucket, "ext", "f.csv")
	writeFile(t, p, "a,b\n")
	h, err := env.c.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("ext/f.csv")})
	if err != nil || aws.ToString(h.ETag) != `"`+md5hex("a,b\n")+`"` || aws.ToString(h.ContentType) != defaultContentType {
		t.Fatalf("HEAD foreign file: %v etag %s type %s", err, aws.ToString(h.ETag), aws.ToString(h.ContentType))
	}
	// Changed by another tool: the ETag follows.
	writeFile(t, p, "a,b\n1,2\n")
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	l, err := env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("ext/")})
	if err != nil || len(l.Contents) != 1 || aws.ToString(l.Contents[0].ETag) != `"`+md5hex("a,b\n1,2\n")+`"` || aws.ToInt64(l.Contents[0].Size) != 8 {
		t.Fatalf("list after change: %v %+v", err, l.Contents)
	}
	if got := env.get(t, "ext/f.csv"); got != "a,b\n1,2\n" {
		t.Errorf("GET = %q", got)
	}
}

// Metadata (a multipart ETag, the content type) survives a restart.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	env := start(t, Config{Dir: dir, MinPartSize: 1})
	_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("t"), Body: strings.NewReader("x"), ContentType: aws.String("text/csv")})
	if err != nil {
		t.Fatal(err)
	}
	etag := multipartPut(t, env, "mp", []string{"a", "b"})

	env2 := newClient(start2(t, dir))
	h, err := env2.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("mp")})
	if err != nil || aws.ToString(h.ETag) != etag {
		t.Errorf("multipart ETag after restart: %v %s, want %s", err, aws.ToString(h.ETag), etag)
	}
	h, err = env2.HeadObject(env.ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("t")})
	if err != nil || aws.ToString(h.ContentType) != "text/csv" {
		t.Errorf("content type after restart: %v %s", err, aws.ToString(h.ContentType))
	}
}

// start2 serves a second server on dir, without creating a bucket.
func start2(t *testing.T, dir string) string {
	endpoint, stop, _, err := Start(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	return endpoint
}

// Without extended attributes, metadata lives in memory: same answers.
func TestMemoryMetadata(t *testing.T) {
	env := start(t, Config{MinPartSize: 1})
	env.srv.st.meta.mem = new(sync.Map)
	out := env.put(t, "a/b", "hello")
	if aws.ToString(out.ETag) != `"`+md5hex("hello")+`"` {
		t.Errorf("ETag %s", aws.ToString(out.ETag))
	}
	etag := multipartPut(t, env, "mp", []string{"a", "b"})
	l, err := env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil || len(l.Contents) != 2 || aws.ToString(l.Contents[0].ETag) != aws.ToString(out.ETag) || aws.ToString(l.Contents[1].ETag) != etag {
		t.Errorf("list: %v %+v", err, l.Contents)
	}
	if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/b")}); err != nil {
		t.Fatal(err)
	}
	n := 0
	env.srv.st.meta.mem.Range(func(k, v any) bool {
		if !strings.HasSuffix(k.(string), "mp") {
			t.Errorf("memory metadata left for %v", k)
		}
		n++
		return true
	})
	if n != 1 {
		t.Errorf("%d memory entries, want 1 (mp)", n)
	}
}

func TestUnsupported(t *testing.T) {
	env := start(t, Config{})
	for _, p := range []struct{ method, path string }{
		{"GET", "/" + testBucket + "?versioning"},
		{"GET", "/" + testBucket}, // ListObjects v1
		{"GET", "/" + testBucket + "?uploads"},
		{"PUT", "/" + testBucket + "/k?tagging"},
		{"GET", "/" + testBucket + "/k?versionId=3"},
		{"POST", "/" + testBucket + "/k"},
	} {
		resp, body := env.raw(t, p.method, p.path, nil, nil)
		if resp.StatusCode != 501 || !strings.Contains(body, "NotImplemented") {
			t.Errorf("%s %s: %d %s", p.method, p.path, resp.StatusCode, body)
		}
	}
	_, err := env.c.CopyObject(env.ctx, &s3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("b"), CopySource: aws.String(testBucket + "/a")})
	wantErr(t, err, "NotImplemented", 501)
	if got := env.srv.Stats().Requests["Unsupported"]; got != 7 {
		t.Errorf("Stats counts %d unsupported requests, want 7", got)
	}
}

func TestAccessKey(t *testing.T) {
	env := start(t, Config{AccessKey: "AKIDTEST", SecretKey: "whatever"})
	env.put(t, "k", "v") // the test client signs with AKIDTEST; the secret is not checked
	other := newClient(env.endpoint, func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("OTHER", "x", "")
	})
	_, err := other.HeadBucket(env.ctx, &s3.HeadBucketInput{Bucket: aws.String(testBucket)})
	if errStatus(err) != 403 {
		t.Errorf("HEAD with another key: %v, want 403", err)
	}
	_, err = other.GetObject(env.ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	wantErr(t, err, "InvalidAccessKeyId", 403)
	resp, body := env.raw(t, "GET", "/"+testBucket+"/k", nil, nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("unsigned: %d %s", resp.StatusCode, body)
	}
	resp, _ = env.raw(t, "GET", "/"+testBucket+"/k?X-Amz-Credential=AKIDTEST%2F20260101%2Fus-east-1%2Fs3%2Faws4_request", nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("presigned with the right key: %d", resp.StatusCode)
	}
}
