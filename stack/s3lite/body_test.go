package s3lite

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// encodeChunked frames data as aws-chunked with chunks of size n, every
// other one carrying a chunk signature, and the trailer lines after.
func encodeChunked(data []byte, n int, trailer ...string) []byte {
	var b bytes.Buffer
	for i := 0; len(data) > 0; i++ {
		c := data[:min(n, len(data))]
		data = data[len(c):]
		fmt.Fprintf(&b, "%x", len(c))
		if i%2 == 1 {
			b.WriteString(";chunk-signature=" + strings.Repeat("0", 64))
		}
		b.WriteString("\r\n")
		b.Write(c)
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n")
	for _, t := range trailer {
		b.WriteString(t + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func crc32b64(data []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)))
}

func TestAWSChunkedRaw(t *testing.T) {
	env := start(t, Config{})
	data := []byte(strings.Repeat("0123456789abcdef", 1000)) // 16,000 bytes
	chunked := func(sha, decodedLen string, extra ...string) map[string]string {
		h := map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Content-Sha256": sha}
		if decodedLen != "" {
			h["X-Amz-Decoded-Content-Length"] = decodedLen
		}
		for i := 0; i < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	n := strconv.Itoa(len(data))
	for _, tc := range []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
		code   string
	}{
		{"signed chunks", encodeChunked(data, 4096), chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", n), 200, ""},
		{"unsigned trailer", encodeChunked(data, 5000, "x-amz-checksum-crc32:"+crc32b64(data)),
			chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", n, "X-Amz-Trailer", "x-amz-checksum-crc32"), 200, ""},
		{"signed trailer", encodeChunked(data, 8192, "x-amz-checksum-crc32:"+crc32b64(data), "x-amz-trailer-signature:"+strings.Repeat("0", 64)),
			chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", n, "X-Amz-Trailer", "x-amz-checksum-crc32"), 200, ""},
		{"one chunk", encodeChunked(data, len(data)), chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", n), 200, ""},
		{"empty", encodeChunked(nil, 1), chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "0"), 200, ""},
		{"bad trailer checksum", encodeChunked(data, 5000, "x-amz-checksum-crc32:AAAAAA=="),
			chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", n, "X-Amz-Trailer", "x-amz-checksum-crc32"), 400, "BadDigest"},
		{"trailer missing", encodeChunked(data, 5000),
			chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", n, "X-Amz-Trailer", "x-amz-checksum-crc32"), 400, "InvalidRequest"},
		{"shorter than declared", encodeChunked(data, 4096), chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", strconv.Itoa(len(data)+1)), 400, "IncompleteBody"},
		{"longer than declared", encodeChunked(data, 4096), chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", strconv.Itoa(len(data)-1)), 400, "IncompleteBody"},
		{"cut inside a chunk", encodeChunked(data, 4096)[:5000], chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", n), 400, "IncompleteBody"},
		{"bad size", []byte("zz\r\nhello\r\n0\r\n\r\n"), chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "5"), 400, "InvalidRequest"},
		{"data past size", []byte("3\r\nhello\r\n0\r\n\r\n"), chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "3"), 400, "InvalidRequest"},
		{"no decoded length", encodeChunked(data, 4096), chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", ""), 411, "MissingContentLength"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.raw(t, "PUT", "/"+testBucket+"/chunked", tc.body, tc.hdr)
			if resp.StatusCode != tc.status || tc.code != "" && !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
				t.Fatalf("%d %s; want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if tc.status != 200 {
				return
			}
			want := string(data)
			if tc.hdr["X-Amz-Decoded-Content-Length"] == "0" {
				want = ""
			}
			if got := env.get(t, "chunked"); got != want {
				t.Errorf("stored %d bytes, want %d", len(got), len(want))
			}
			if resp.Header.Get("ETag") != `"`+md5hex(want)+`"` {
				t.Errorf("ETag %s", resp.Header.Get("ETag"))
			}
			if tc.hdr["X-Amz-Trailer"] != "" && resp.Header.Get("X-Amz-Checksum-Crc32") != crc32b64(data) {
				t.Errorf("checksum not echoed: %v", resp.Header)
			}
		})
	}
}

// Over https the SDK's default is aws-chunked with a trailing CRC32
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER); with WhenRequired a plain body
// (UNSIGNED-PAYLOAD). Both, for PutObject and UploadPart.
func TestAWSChunkedSDK(t *testing.T) {
	srv, err := New(Config{Dir: t.TempDir(), MinPartSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen []string // how each PUT with a body came
	)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PUT" && r.ContentLength != 0 {
			mu.Lock()
			seen = append(seen, r.Header.Get("X-Amz-Content-Sha256")+" "+r.Header.Get("Content-Encoding"))
			mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	for _, mode := range []aws.RequestChecksumCalculation{aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		c := newClient(ts.URL, func(o *s3.Options) {
			o.HTTPClient = ts.Client()
			o.RequestChecksumCalculation = mode
		})
		ctx := t.Context()
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil && errStatus(err) != 409 {
			t.Fatal(err)
		}
		env := &testEnv{srv: srv, c: c, ctx: ctx}
		for _, size := range []int{0, 1, 150, 100 << 10, 1 << 20} {
			body := strings.Repeat("x", size)
			out := env.put(t, "k", body)
			if aws.ToString(out.ETag) != `"`+md5hex(body)+`"` {
				t.Errorf("mode %v, %d bytes: ETag %s", mode, size, aws.ToString(out.ETag))
			}
			if got := env.get(t, "k"); got != body {
				t.Errorf("mode %v: stored %d bytes, want %d", mode, len(got), size)
			}
		}
		parts := []string{strings.Repeat("p", 70000), "q"}
		if etag := multipartPut(t, env, "mp", parts); etag != multipartETag(parts) {
			t.Errorf("mode %v: multipart ETag %s", mode, etag)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("s"), Body: strings.NewReader("sha"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
			t.Errorf("mode %v, SHA256: %v", mode, err)
		}
		want := "STREAMING-UNSIGNED-PAYLOAD-TRAILER aws-chunked"
		if mode == aws.RequestChecksumCalculationWhenRequired {
			want = "UNSIGNED-PAYLOAD "
		}
		mu.Lock()
		if len(seen) == 0 || seen[0] != want {
			t.Errorf("mode %v: the SDK sent %q, want %q", mode, seen, want)
		}
		mu.Unlock()
	}
}

func TestCRC64NVME(t *testing.T) {
	// The catalogue's check value of CRC-64/NVME.
	if got := crc64.Checksum([]byte("123456789"), crc64nvme); got != 0xae8b14860a799888 {
		t.Errorf("CRC-64/NVME check = %#x", got)
	}
}

// FuzzChunkReader: any input decodes without panic to no more bytes than
// it holds, and whatever encodeChunked frames decodes back.
func FuzzChunkReader(f *testing.F) {
	f.Add([]byte("hello world"), uint16(3), []byte("5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte{}, uint16(1), []byte("0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"))
	f.Add([]byte(strings.Repeat("z", 5000)), uint16(4096), []byte("10;chunk-signature=ab\r\n0123456789abcdef\r\n0;chunk-signature=cd\r\n\r\n"))
	f.Add([]byte("x"), uint16(0), []byte("fffffffffffffffff\r\n"))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, raw []byte) {
		if len(data) > 64<<10 || len(raw) > 64<<10 {
			t.Skip("long inputs only slow the search down")
		}
		got, _ := io.ReadAll(newChunkReader(bytes.NewReader(raw)))
		if len(got) > len(raw) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(raw))
		}
		enc := encodeChunked(data, int(chunk)%5000+1, "x-amz-checksum-crc32:"+crc32b64(data))
		cr := newChunkReader(bytes.NewReader(enc))
		got, err := io.ReadAll(cr)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip of %d bytes in chunks of %d: %d bytes, %v", len(data), int(chunk)%5000+1, len(got), err)
		}
		if cr.trailer.Get("X-Amz-Checksum-Crc32") != crc32b64(data) {
			t.Fatalf("trailer %v", cr.trailer)
		}
	})
}
