package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// testIfAbsent: a conditional put of an existing key reports ErrExists and
// leaves the first object untouched, for a single PUT and for a multipart
// upload; Same recognises the object's bytes by their ETag.
func testIfAbsent(t *testing.T, sc stack.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tt := range []struct {
		name         string
		size         int
		wantRequests int
	}{
		{"single PUT", 100, 1},
		{"multipart", 11 << 20, 5}, // create + 3 parts of 5 MiB, 5 MiB, 1 MiB + complete
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := sink.S3Store{Client: st.S3, Bucket: st.Bucket, MultipartAbove: 6 << 20, PartSize: 5 << 20}
			body := func(fill byte) []byte { return bytes.Repeat([]byte{fill}, tt.size) }
			key := "test/ifabsent-" + randomHex(4)
			n, err := store.Put(ctx, key, body('a'), "text/plain", true)
			if err != nil || n != tt.wantRequests {
				t.Fatalf("first put: %d requests, %v; want %d", n, err, tt.wantRequests)
			}
			if _, err = store.Put(ctx, key, body('b'), "text/plain", true); !errors.Is(err, sink.ErrExists) {
				t.Fatalf("second conditional put = %v, want ErrExists", err)
			}
			out, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &st.Bucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			defer out.Body.Close()
			if b, _ := io.ReadAll(out.Body); !bytes.Equal(b, body('a')) {
				t.Fatalf("object changed after a refused put (%d bytes)", len(b))
			}
			for fill, want := range map[byte]bool{'a': true, 'b': false} {
				if same, err := store.Same(ctx, key, body(fill)); err != nil || same != want {
					t.Fatalf("Same(%c...) = %v, %v; want %v", fill, same, err, want)
				}
			}
			if _, err := store.Put(ctx, key, body('c'), "text/plain", false); err != nil {
				t.Fatalf("unconditional overwrite: %v", err)
			}
		})
	}
}

func TestS3StoreIfAbsentEmbedded(t *testing.T) {
	sc := stack.Default()
	sc.DataDir = t.TempDir()
	testIfAbsent(t, sc)
}

func TestLocalS3StoreIfAbsent(t *testing.T) {
	testIfAbsent(t, localConfig(t).Stack)
}
