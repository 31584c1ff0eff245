package s3lite

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// tickBody is one tick as a JSON line: the seed's one-object-per-tick size.
var tickBody = bytes.Repeat([]byte("x"), 150)

// BenchmarkPutSmall: one 150-byte PutObject per op through the SDK over
// http (default checksums: CRC32 header, signed SHA-256), one key after
// the other in one hour directory as one object per tick lands them.
// "handler" calls ServeHTTP directly: the server's share of the cost.
// Allocations include the SDK client's.
func BenchmarkPutSmall(b *testing.B) {
	key := func(i int64) string { return fmt.Sprintf("dt=2024-01-01/hour=00/ticks+0+%020d.json", i) }
	b.Run("serial", func(b *testing.B) {
		env := start(b, Config{})
		b.ReportAllocs()
		var i int64
		for b.Loop() {
			i++
			if _, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key(i)), Body: bytes.NewReader(tickBody)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
	})
	b.Run("parallel", func(b *testing.B) {
		env := start(b, Config{})
		b.ReportAllocs()
		b.SetParallelism(4) // 4 x GOMAXPROCS clients: I/O-bound requests
		var seq atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key(seq.Add(1))), Body: bytes.NewReader(tickBody)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
	})
	b.Run("handler", func(b *testing.B) {
		srv, err := New(Config{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.Mkdir(srv.st.bucketPath(testBucket), 0o755); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var i int64
		for b.Loop() {
			i++
			r := httptest.NewRequest("PUT", "/"+testBucket+"/"+key(i), bytes.NewReader(tickBody))
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
	})
}

var (
	benchObjects = flag.Int("s3lite.objects", 100_000, "objects BenchmarkListObjects lists")
	benchPerDir  = flag.Int("s3lite.perdir", 1000, "objects per directory in BenchmarkListObjects")
)

// listFixture is a server holding -s3lite.objects objects, made once per
// process: "dt=2024-01-01/hour=HHHH/ticks+0+<offset>.json", -s3lite.perdir
// to a directory, written through the store (metadata included).
var listFixture = sync.OnceValues(func() (*testEnv, error) {
	dir, err := os.MkdirTemp("", "s3lite-bench")
	if err != nil {
		return nil, err
	}
	fixtureDir = dir
	endpoint, _, srv, err := Start(Config{Dir: dir}) // lives as long as the process
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(srv.st.bucketPath(testBucket), 0o755); err != nil {
		return nil, err
	}
	for i := range *benchObjects {
		key := fmt.Sprintf("dt=2024-01-01/hour=%04d/ticks+0+%020d.json", i / *benchPerDir, i)
		if err := seedObject(srv, key, tickBody); err != nil {
			return nil, err
		}
	}
	time.Sleep(quietFor) // as after a run: directories cacheable (see dirCache)
	return &testEnv{srv: srv, c: newClient(endpoint), endpoint: endpoint, dir: dir}, nil
})

// fixtureDir is removed by TestMain: a million objects are gigabytes.
var fixtureDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// seedObject stores an object the way PutObject does, minus HTTP.
func seedObject(srv *Server, key string, body []byte) error {
	f, err := srv.st.createTemp()
	if err != nil {
		return err
	}
	d, _ := newDigests(http.Header{})
	if err := copyPayload(f, payload{r: bytes.NewReader(body), size: int64(len(body))}, d); err != nil {
		discard(f)
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		discard(f)
		return err
	}
	md := objMeta{etag: d.etag(), size: fi.Size(), mtime: fi.ModTime().UnixNano(), ctype: defaultContentType}
	srv.st.meta.attach(f, md)
	f.Close()
	return srv.commit(f.Name(), md, conditions{}, testBucket, key)
}

// BenchmarkListObjects pages through the fixture with the SDK, 1,000 keys a
// page, one page per op ("pages"); lists one hour's directories as common
// prefixes ("delimiter"); and asks for the page after a key deep inside
// ("seek").
func BenchmarkListObjects(b *testing.B) {
	env, err := listFixture()
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.Run("pages", func(b *testing.B) {
		b.ReportAllocs()
		in := &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("dt=2024-01-01/")}
		keys := 0
		for b.Loop() {
			out, err := env.c.ListObjectsV2(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			keys += len(out.Contents)
			in.ContinuationToken = out.NextContinuationToken // nil: start over
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		b.ReportMetric(float64(keys)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("pages-handler", func(b *testing.B) { // the server's share
		b.ReportAllocs()
		token := ""
		for b.Loop() {
			path := "/" + testBucket + "?list-type=2&prefix=dt%3D2024-01-01%2F"
			if token != "" {
				path += "&continuation-token=" + token
			}
			w := httptest.NewRecorder()
			env.srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body)
			}
			token = ""
			if _, rest, ok := strings.Cut(w.Body.String(), "<NextContinuationToken>"); ok {
				token, _, _ = strings.Cut(rest, "<")
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("delimiter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := env.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("dt=2024-01-01/"), Delimiter: aws.String("/")})
			if err != nil || len(out.CommonPrefixes) == 0 {
				b.Fatal(err, len(out.CommonPrefixes))
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("seek", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i = (i + 7919) % *benchObjects
			after := fmt.Sprintf("dt=2024-01-01/hour=%04d/ticks+0+%020d.json", i / *benchPerDir, i)
			out, err := env.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), StartAfter: aws.String(after), MaxKeys: aws.Int32(100)})
			if err != nil || len(out.Contents) == 0 || !strings.HasPrefix(aws.ToString(out.Contents[0].Key), "dt=") {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}
