package s3lite

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// item is one entry of a listing: a key or a common prefix.
type item struct {
	key    string
	prefix bool
}

func (it item) String() string {
	if it.prefix {
		return "P:" + it.key
	}
	return it.key
}

// modelList is what S3 answers, over all pages: the keys after startAfter
// with prefix, in byte order, those with the delimiter after the prefix
// rolled up into common prefixes.
func modelList(sorted []string, prefix, delim, startAfter string) []item {
	var out []item
	for _, k := range sorted {
		if !strings.HasPrefix(k, prefix) || k <= startAfter {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := item{key: k[:len(prefix)+i+len(delim)], prefix: true}
				if len(out) == 0 || out[len(out)-1] != cp {
					out = append(out, cp)
				}
				continue
			}
		}
		out = append(out, item{key: k})
	}
	return out
}

type listCase struct {
	prefix, delim, startAfter string
	maxKeys                   int32
}

// listAll pages through a listing with the SDK, checks every page's
// bookkeeping and each object's size and ETag (the body of every object in
// these tests is its key), and returns all items in order.
func listAll(t *testing.T, env *testEnv, lc listCase) []item {
	t.Helper()
	in := &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(lc.prefix), MaxKeys: aws.Int32(lc.maxKeys)}
	if lc.delim != "" {
		in.Delimiter = aws.String(lc.delim)
	}
	if lc.startAfter != "" {
		in.StartAfter = aws.String(lc.startAfter)
	}
	var all []item
	for page := 0; ; page++ {
		out, err := env.c.ListObjectsV2(env.ctx, in)
		if err != nil {
			t.Fatalf("%+v page %d: %v", lc, page, err)
		}
		var items []item
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			if aws.ToInt64(o.Size) != int64(len(k)) || aws.ToString(o.ETag) != `"`+md5hex(k)+`"` || o.LastModified == nil || o.StorageClass != types.ObjectStorageClassStandard {
				t.Errorf("%+v: object %q size %d etag %s", lc, k, aws.ToInt64(o.Size), aws.ToString(o.ETag))
			}
			items = append(items, item{key: k})
		}
		for _, p := range out.CommonPrefixes {
			items = append(items, item{key: aws.ToString(p.Prefix), prefix: true})
		}
		slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.key, b.key) })
		n := int32(len(items))
		if aws.ToInt32(out.KeyCount) != n || n > lc.maxKeys || aws.ToInt32(out.MaxKeys) != lc.maxKeys {
			t.Fatalf("%+v page %d: KeyCount %d, %d items, MaxKeys %d", lc, page, aws.ToInt32(out.KeyCount), n, aws.ToInt32(out.MaxKeys))
		}
		truncated := aws.ToBool(out.IsTruncated)
		if truncated != (out.NextContinuationToken != nil) || truncated && n != lc.maxKeys {
			t.Fatalf("%+v page %d: IsTruncated %v, token %v, %d items", lc, page, truncated, out.NextContinuationToken, n)
		}
		all = append(all, items...)
		if !truncated {
			return all
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

func checkListing(t *testing.T, env *testEnv, sorted []string, lc listCase) {
	t.Helper()
	got := listAll(t, env, lc)
	want := modelList(sorted, lc.prefix, lc.delim, lc.startAfter)
	if !slices.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%+v: %d items, want %d; first difference at %d: got %v, want %v", lc, len(got), len(want), i, at(got, i), at(want, i))
	}
}

func at(items []item, i int) string {
	if i < len(items) {
		return items[i].String()
	}
	return "(end)"
}

// ~5,000 keys in a Hive-style tree plus keys whose byte order differs from
// a naive directory walk ("a-c" < "a/b" < "a0").
func TestListObjectsV2(t *testing.T) {
	env := start(t, Config{})
	var keys []string
	for d := 1; d <= 4; d++ {
		for h := range 24 {
			for i := range 50 {
				keys = append(keys, fmt.Sprintf("dt=2024-01-%02d/hour=%02d/ticks+%d+%020d.json", d, h, i%3, i*1000))
			}
		}
	}
	tricky := []string{
		"a-c", "a/b", "a/b-c/d", "a/b.c", "a/bb/c", "a.b/c", "a0", "b", "dt=2024-01-01x", "dt=2024-01-01/hour=00x",
		"space key/x y", "ü/x", "ü-", "plus+sign", "x=y/z=w/v", "errors/bad-1", "errors/2024/x", "~tilde", "A", "Z/z",
		"q&a/<tag>", `quote"s/'single'`, "dt=2024-01-01/hour=01/ticks+0+/inner",
	}
	// Bulk files are written directly (their ETags computed when listed);
	// the tricky ones go through the server.
	for _, k := range keys {
		writeFile(t, filepath.Join(env.dir, testBucket, filepath.FromSlash(k)), k)
	}
	for _, k := range tricky {
		env.put(t, k, k)
	}
	keys = append(keys, tricky...)
	slices.Sort(keys)
	// An empty directory is no common prefix; a symlink no object.
	if err := os.MkdirAll(filepath.Join(env.dir, testBucket, "empty", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(env.dir, testBucket, "link")); err != nil {
		t.Fatal(err)
	}

	for _, lc := range []listCase{
		{maxKeys: 1000},
		{delim: "/", maxKeys: 1000},
		{delim: "/", maxKeys: 1},
		{prefix: "dt=2024-01-0", delim: "/", maxKeys: 3},
		{prefix: "dt=2024-01-01/", delim: "/", maxKeys: 7},
		{prefix: "dt=2024-01-01/hour=0", delim: "/", maxKeys: 5},
		{prefix: "dt=2024-01-01/hour=00/", maxKeys: 13},
		{prefix: "dt=2024-01-01/hour=00/ticks+1", maxKeys: 1000},
		{prefix: "dt=2024-01-01/hour=01/ticks+0+", delim: "/", maxKeys: 1000},
		{prefix: "dt=", delim: "=", maxKeys: 4},
		{delim: "+", maxKeys: 500},
		{delim: "hour", maxKeys: 10},
		{prefix: "a", delim: "/", maxKeys: 2},
		{prefix: "a", maxKeys: 1},
		{startAfter: "dt=2024-01-03/hour=12/ticks+0+00000000000000007000.json", maxKeys: 999},
		{prefix: "dt=2024-01-02/", startAfter: "dt=2024-01-02/hour=05", maxKeys: 250},
		{delim: "/", startAfter: "a/", maxKeys: 3},
		{delim: "/", startAfter: "dt=2024-01-02/hour=05/x", maxKeys: 3},
		{startAfter: "zzz", maxKeys: 10},
		{prefix: "nothing", delim: "/", maxKeys: 10},
		{prefix: "empty/", maxKeys: 10},
		{prefix: "ü", delim: "/", maxKeys: 1},
	} {
		t.Run(fmt.Sprintf("%s|%s|%s|%d", lc.prefix, lc.delim, lc.startAfter, lc.maxKeys), func(t *testing.T) {
			checkListing(t, env, keys, lc)
		})
	}
}

func TestListParams(t *testing.T) {
	env := start(t, Config{})
	env.put(t, "a b/c", "a b/c")
	env.put(t, "d", "d")
	out, err := env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) {
		t.Errorf("max-keys 0: %v %+v", err, out)
	}
	out, err = env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), MaxKeys: aws.Int32(5000)})
	if err != nil || aws.ToInt32(out.MaxKeys) != 1000 {
		t.Errorf("max-keys 5000: %v, MaxKeys %d, want the cap 1000", err, aws.ToInt32(out.MaxKeys))
	}
	out, err = env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), EncodingType: types.EncodingTypeUrl, Delimiter: aws.String("/"), FetchOwner: aws.Bool(true)})
	if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "a+b/" || out.Contents[0].Owner == nil || out.EncodingType != types.EncodingTypeUrl {
		t.Errorf("encoding-type url: %v %+v", err, out)
	}
	_, err = env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), ContinuationToken: aws.String("!!")})
	wantErr(t, err, "InvalidArgument", 400)
	_, err = env.c.ListObjectsV2(env.ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nobucket")})
	wantErr(t, err, "NoSuchBucket", 404)
	resp, _ := env.raw(t, "GET", "/"+testBucket+"?list-type=2&max-keys=x", nil, nil)
	if resp.StatusCode != 400 {
		t.Errorf("max-keys=x: %d", resp.StatusCode)
	}
	// The SDK paginator.
	p := s3.NewListObjectsV2Paginator(env.c, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), MaxKeys: aws.Int32(1)})
	var keys []string
	for p.HasMorePages() {
		out, err := p.NextPage(env.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if strings.Join(keys, ",") != "a b/c,d" {
		t.Errorf("paginator: %q", keys)
	}
}

// A seeded random walk of puts and deletes over a small alphabet, so that
// keys share prefixes in every way, each listing compared with the model.
func TestListRandomized(t *testing.T) {
	env := start(t, Config{})
	rng := rand.New(rand.NewPCG(7, 11))
	const alphabet = "ab-.0=/"
	randString := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	model := map[string]bool{}
	conflicts := func(k string) bool {
		for e := range model {
			if strings.HasPrefix(k, e+"/") || strings.HasPrefix(e, k+"/") {
				return true
			}
		}
		return false
	}
	for round := range 4 {
		for range 120 {
			k := randString(1 + rng.IntN(8))
			if checkKey(k) != nil || model[k] || conflicts(k) {
				continue
			}
			env.put(t, k, k)
			model[k] = true
		}
		for k := range model {
			if rng.IntN(5) == 0 {
				if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k)}); err != nil {
					t.Fatal(err)
				}
				delete(model, k)
			}
		}
		var sorted []string
		for k := range model {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		for range 25 {
			lc := listCase{maxKeys: int32(1 + rng.IntN(40))}
			if rng.IntN(4) == 0 {
				lc.maxKeys = 1000
			}
			if len(sorted) > 0 && rng.IntN(3) > 0 {
				k := sorted[rng.IntN(len(sorted))]
				lc.prefix = k[:rng.IntN(len(k)+1)]
			} else if rng.IntN(2) == 0 {
				lc.prefix = randString(rng.IntN(3))
			}
			lc.delim = []string{"", "", "/", "/", "-", ".", "a", "/a", "=0"}[rng.IntN(9)]
			switch rng.IntN(3) {
			case 0:
				if len(sorted) > 0 {
					lc.startAfter = sorted[rng.IntN(len(sorted))]
				}
			case 1:
				lc.startAfter = randString(1 + rng.IntN(3))
			}
			t.Logf("round %d: %d keys, %+v", round, len(sorted), lc)
			checkListing(t, env, sorted, lc)
		}
	}
}

func TestSuccessor(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a/", "a0"}, {"a", "b"}, {"a\xff", "b"}, {"\xff\xff", ""}, {"", ""},
	} {
		if got := successor(tc.in); got != tc.want {
			t.Errorf("successor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Listings of a large directory are cached between pages once it is
// quiet, and a change, through the server or not, is seen at once.
func TestListCache(t *testing.T) {
	env := start(t, Config{})
	dir := filepath.Join(env.dir, testBucket, "hour=00")
	var keys []string
	for i := range 2 * minCachedDir {
		k := fmt.Sprintf("hour=00/%05d", i)
		writeFile(t, filepath.Join(env.dir, testBucket, filepath.FromSlash(k)), k)
		keys = append(keys, k)
	}
	quiet := func() { // as if written quietFor ago
		old := time.Now().Add(-2 * quietFor)
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}
	quiet()
	lc := listCase{prefix: "hour=00/", maxKeys: 100}
	checkListing(t, env, keys, lc)
	if env.srv.dirs.total != len(keys) {
		t.Fatalf("cache holds %d names, want %d", env.srv.dirs.total, len(keys))
	}
	env.put(t, "hour=00/00100x", "hour=00/00100x")
	keys = append(keys, "hour=00/00100x")
	slices.Sort(keys)
	checkListing(t, env, keys, lc)
	writeFile(t, filepath.Join(dir, "zzz"), "hour=00/zzz") // another tool
	keys = append(keys, "hour=00/zzz")
	quiet()
	checkListing(t, env, keys, lc)
	if _, err := env.c.DeleteObject(env.ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("hour=00/00007")}); err != nil {
		t.Fatal(err)
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == "hour=00/00007" })
	checkListing(t, env, keys, lc)

	// Bounded: a directory larger than the bound is not kept.
	env.srv.dirs.clear()
	env.srv.dirs.max = minCachedDir
	quiet()
	checkListing(t, env, keys, lc)
	if env.srv.dirs.total != 0 {
		t.Errorf("cache holds %d names over its bound", env.srv.dirs.total)
	}
}
