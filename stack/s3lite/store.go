package s3lite

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode/utf8"
)

// store is the file system side: where buckets, objects, temporary files and
// multipart parts live, and how an object's metadata is kept.
type store struct {
	dir     string // absolute Config.Dir
	tmp     string // dir/.tmp: temporary files, renamed into place when complete
	uploads string // dir/.tmp/uploads/<id>: multipart parts

	tmpPrefix string        // "put-<pid>-": temp names unique across restarts
	tmpSeq    atomic.Uint64 // and within this process

	meta metaStore

	// Writes to one key (and steps of one multipart upload) serialize on a
	// lock picked by hash, so conditional writes are race-free while writes
	// to different keys rarely share a lock.
	keyLocks, uploadLocks stripes
}

const (
	tmpDirName = ".tmp"
	tmpPrefix  = "put-"
	// defaultContentType is answered for objects stored without one, like
	// files put into Dir by other tools.
	defaultContentType = "application/octet-stream"
)

func openStore(dir string) (*store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st := &store{
		dir:       abs,
		tmp:       filepath.Join(abs, tmpDirName),
		uploads:   filepath.Join(abs, tmpDirName, "uploads"),
		tmpPrefix: tmpPrefix + strconv.Itoa(os.Getpid()) + "-",
	}
	st.keyLocks.seed = maphash.MakeSeed()
	st.uploadLocks.seed = maphash.MakeSeed()
	if err := os.MkdirAll(st.uploads, 0o755); err != nil {
		return nil, err
	}
	// Temp files of a process that died mid-write are garbage; parts of
	// multipart uploads are kept, as S3 keeps unfinished uploads.
	entries, err := os.ReadDir(st.tmp)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(st.tmp, e.Name()))
		}
	}
	st.meta.probe(st)
	return st, nil
}

// createTemp opens a new, empty temporary file. Its name comes from a
// counter: cheaper than os.CreateTemp's random names, and mode 0644 so that
// objects are readable like any other file.
func (st *store) createTemp() (*os.File, error) {
	name := filepath.Join(st.tmp, st.tmpPrefix+strconv.FormatUint(st.tmpSeq.Add(1), 36))
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
}

// discard closes and removes a temporary file that will not be placed.
func discard(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

func (st *store) bucketPath(bucket string) string { return filepath.Join(st.dir, bucket) }

func (st *store) objectPath(bucket, key string) string {
	return filepath.Join(st.dir, bucket, filepath.FromSlash(key))
}

func (st *store) bucketExists(bucket string) bool {
	fi, err := os.Stat(st.bucketPath(bucket))
	return err == nil && fi.IsDir()
}

// checkBucket answers NoSuchBucket unless bucket is a valid bucket name
// with a directory, which also keeps ".." and ".tmp" out.
func (st *store) checkBucket(bucket string) *apiError {
	if !validBucketName(bucket) || !st.bucketExists(bucket) {
		return errNoSuchBucket(bucket)
	}
	return nil
}

// validBucketName follows S3's rules for new buckets: 3 to 63 characters of
// a-z, 0-9, '.' and '-', starting and ending with a letter or digit, no "..".
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '.' && c != '-' || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}

// checkKey rejects keys that cannot be a file below the bucket directory:
// they would escape it, alias another key ("a//b", "./a") or be a directory
// ("a/", S3 consoles' folder markers).
func checkKey(key string) *apiError {
	bad := func(why string) *apiError {
		return errInvalidArgument("Object key %q is not supported by s3lite, which stores objects as files: %s.", key, why)
	}
	switch {
	case len(key) > 1024:
		return newError(http.StatusBadRequest, "KeyTooLongError", "Your key is too long: %d bytes, the limit is 1024.", len(key))
	case !utf8.ValidString(key):
		return bad("it is not valid UTF-8")
	case strings.IndexByte(key, 0) >= 0:
		return bad("it contains a NUL byte")
	case os.PathSeparator != '/' && strings.ContainsRune(key, os.PathSeparator):
		return bad("it contains the path separator of this system")
	case strings.HasPrefix(key, "/"):
		return bad(`it starts with "/"`)
	case strings.HasSuffix(key, "/"):
		return bad(`it ends with "/" (folder markers are not objects here)`)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return bad(`it contains "//"`)
		case seg == "." || seg == "..":
			return bad(`it contains a "." or ".." segment`)
		case len(seg) > 255:
			return newError(http.StatusBadRequest, "KeyTooLongError", "Your key is too long: the segment %.20q... is %d bytes, a file name can have 255.", seg, len(seg))
		}
	}
	return nil
}

func errParentIsFile(bucket, key string) *apiError {
	e := newError(http.StatusConflict, "ObjectParentIsFile", "Object %q cannot be stored: a key that is a prefix of it up to a \"/\" is an object (a file in s3lite's directory tree), so it cannot also be a directory.", key)
	e.bucket, e.key = bucket, key
	return e
}

func errIsDirectory(bucket, key string) *apiError {
	e := newError(http.StatusConflict, "ExistingObjectIsDirectory", "Object %q cannot be stored: other keys start with %q, so it is a directory in s3lite's directory tree.", key, key+"/")
	e.bucket, e.key = bucket, key
	return e
}

// place renames the complete temporary file onto the object's path,
// creating the directories above it. The caller holds the key's lock.
func (st *store) place(tmp, bucket, key string) error {
	dst := st.objectPath(bucket, key)
	for attempt := 0; ; attempt++ {
		err := os.Rename(tmp, dst)
		if err == nil {
			return nil
		}
		if attempt == 10 {
			return err
		}
		switch {
		case errors.Is(err, syscall.ENOENT):
			// A missing parent, or one a concurrent delete pruned.
			if !st.bucketExists(bucket) {
				return errNoSuchBucket(bucket)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
					return errParentIsFile(bucket, key)
				}
				return err
			}
		case errors.Is(err, syscall.ENOTDIR):
			return errParentIsFile(bucket, key)
		case errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EEXIST), errors.Is(err, syscall.ENOTEMPTY):
			// An empty directory left over is no object: replace it.
			if os.Remove(dst) != nil {
				return errIsDirectory(bucket, key)
			}
		case errors.Is(err, syscall.ENAMETOOLONG):
			return newError(http.StatusBadRequest, "KeyTooLongError", "Your key is too long for the file system: %v.", err)
		default:
			return err
		}
	}
}

// remove deletes the object file, if there is one, and the directories this
// leaves empty. The caller holds the key's lock.
func (st *store) remove(bucket, key string) error {
	p := st.objectPath(bucket, key)
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	if !fi.Mode().IsRegular() { // a directory is the prefix of other keys, not an object
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st.meta.forget(p)
	st.prune(st.bucketPath(bucket), filepath.Dir(p))
	return nil
}

// prune removes dir and its parents below top while they are empty, so the
// tree holds no directories without objects.
func (st *store) prune(top, dir string) {
	for len(dir) > len(top) && strings.HasPrefix(dir, top) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// errNotObject says a path holds no object: nothing, or a directory.
var errNotObject = errors.New("no object")

// metaOf returns the metadata of the object file at path, or of f when f is
// not nil (open on that path, so a concurrent PUT cannot mix two objects'
// size and ETag). Metadata missing or stale (a file written by an earlier
// process without extended attributes, or changed by other tools) is
// computed from the bytes, MD5 for the ETag, and recorded for next time.
func (st *store) metaOf(path string, f *os.File) (objMeta, error) {
	if f == nil {
		fi, err := os.Lstat(path)
		if err != nil {
			return objMeta{}, errNotObject
		}
		if !fi.Mode().IsRegular() {
			return objMeta{}, errNotObject
		}
		if md, ok := st.meta.lookup(path, nil, fi.Size(), fi.ModTime().UnixNano()); ok {
			return md, nil
		}
		if f, err = os.Open(path); err != nil {
			return objMeta{}, errNotObject
		}
		defer f.Close()
	}
	fi, err := f.Stat()
	if err != nil {
		return objMeta{}, err
	}
	if !fi.Mode().IsRegular() {
		return objMeta{}, errNotObject
	}
	size, mtime := fi.Size(), fi.ModTime().UnixNano()
	if md, ok := st.meta.lookup(path, f, size, mtime); ok {
		return md, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
		return objMeta{}, err
	}
	md := objMeta{etag: hex.EncodeToString(h.Sum(nil)), size: size, mtime: mtime, ctype: defaultContentType}
	st.meta.attach(f, md)
	st.meta.placed(path, md)
	return md, nil
}

// stripes is a fixed set of mutexes picked by hash: per-key locking without
// a map that grows with the keys.
type stripes struct {
	seed maphash.Seed
	mu   [1024]struct {
		sync.Mutex
		_ [56]byte // one cache line each
	}
}

func (s *stripes) of(a, b string) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	return &s.mu[h.Sum64()%uint64(len(s.mu))].Mutex
}
