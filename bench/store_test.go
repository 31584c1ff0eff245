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
// leaves the first object untouched.
func testIfAbsent(t *testing.T, sc stack.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	store := sink.S3Store{Client: st.S3, Bucket: st.Bucket}
	key := "test/ifabsent-" + randomHex(4) + ".json"
	if err := store.Put(ctx, key, []byte("first"), "text/plain", true); err != nil {
		t.Fatalf("first put: %v", err)
	}
	err = store.Put(ctx, key, []byte("second"), "text/plain", true)
	if !errors.Is(err, sink.ErrExists) {
		t.Fatalf("second conditional put = %v, want ErrExists", err)
	}
	out, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &st.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if b, _ := io.ReadAll(out.Body); !bytes.Equal(b, []byte("first")) {
		t.Fatalf("object = %q after a refused put, want %q", b, "first")
	}
	for body, want := range map[string]bool{"first": true, "second": false} {
		if same, err := store.Same(ctx, key, []byte(body)); err != nil || same != want {
			t.Fatalf("Same(%q) = %v, %v; want %v", body, same, err, want)
		}
	}
	if err := store.Put(ctx, key, []byte("third"), "text/plain", false); err != nil {
		t.Fatalf("unconditional overwrite: %v", err)
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
