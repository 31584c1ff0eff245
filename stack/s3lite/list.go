package s3lite

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// listQuery is one page request of ListObjectsV2.
type listQuery struct {
	prefix, delimiter string
	from              string // the least key the page may hold
	maxKeys           int
}

type listPage struct {
	objects   []listedObject
	prefixes  []string
	truncated bool
	next      string // the least key of the next page
}

type listedObject struct {
	key string
	md  objMeta
}

// list reads one page of keys in S3's order (bytes) by walking the bucket's
// directories in that order. It starts with a seek to q.from, reading only
// the directories on the way there, and stops one item past the page, so a
// page costs the size of the page plus the directories it touches (large
// ones read once while they do not change, see dirCache), not the size of
// the bucket. A directory whose keys all roll up into one common prefix is
// not read beyond its first file.
func (s *Server) list(bucket string, q listQuery) (listPage, error) {
	var page listPage
	if q.maxKeys == 0 {
		return page, nil
	}
	w := walker{root: s.st.bucketPath(bucket), prefix: q.prefix, dirs: &s.dirs}
	if q.delimiter != "" {
		w.collapse = func(dirKey string) bool {
			return strings.HasPrefix(dirKey, q.prefix) && strings.Contains(dirKey[len(q.prefix):], q.delimiter)
		}
	}
	w.seek(q.from)
	for {
		key, path, ok := w.next()
		if !ok {
			break
		}
		if len(page.objects)+len(page.prefixes) == q.maxKeys {
			page.truncated = true
			break
		}
		if q.delimiter != "" {
			if i := strings.Index(key[len(q.prefix):], q.delimiter); i >= 0 {
				cp := key[:len(q.prefix)+i+len(q.delimiter)]
				page.prefixes = append(page.prefixes, cp)
				if page.next = successor(cp); page.next == "" {
					break
				}
				w.seek(page.next)
				continue
			}
		}
		md, err := s.st.metaOf(path, nil)
		if errors.Is(err, errNotObject) {
			continue // deleted meanwhile
		}
		if err != nil {
			return page, err
		}
		page.objects = append(page.objects, listedObject{key: key, md: md})
		page.next = key + "\x00"
	}
	return page, w.err
}

// successor returns the least string greater than every string that starts
// with p, or "" if there is none.
func successor(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// walker visits a bucket's files in key order. Within a directory, entries
// sort by their key contribution, a directory's name counting with its
// trailing "/": "a-c" (0x2d) comes before directory "a/" (0x2f) although
// "a" sorts first as a name. Then every directory's keys are contiguous,
// and a depth-first walk yields all keys in byte order.
type walker struct {
	root   string
	prefix string // stop at the first key past the keys with this prefix
	// collapse says whether all keys below a directory (key prefix ending
	// in "/") roll up into one common prefix; next then yields the
	// directory itself, if it holds a file, instead of its keys.
	collapse func(dirKey string) bool
	dirs     *dirCache
	stack    []level
	err      error
}

type level struct {
	path   string   // the directory
	prefix string   // key prefix of its entries: "" for the bucket, "a/b/" below
	names  []string // entry names in key order, directories with a trailing "/"
	i      int
}

func (w *walker) push(path, prefix string) {
	names, err := w.dirs.names(path)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.stack = append(w.stack, level{path: path, prefix: prefix, names: names})
}

// seek positions the walker at the first key not less than from, reusing
// the directories already read on the way.
func (w *walker) seek(from string) {
	for n := len(w.stack); n > 0 && !strings.HasPrefix(from, w.stack[n-1].prefix); n = len(w.stack) {
		w.stack = w.stack[:n-1]
	}
	if len(w.stack) == 0 {
		w.push(w.root, "")
	}
	for {
		l := &w.stack[len(w.stack)-1]
		rest := from[len(l.prefix):]
		i, _ := slices.BinarySearch(l.names, rest)
		// The directory sorting just before rest holds keys >= from when
		// rest starts with it: "a/" < "a/x".
		if i > 0 && isDirName(l.names[i-1]) && strings.HasPrefix(rest, l.names[i-1]) {
			l.i = i - 1
			name := l.names[i-1]
			w.push(l.path+string(os.PathSeparator)+name[:len(name)-1], l.prefix+name)
			continue
		}
		l.i = i
		return
	}
}

// next returns the next key and its file, or a collapsed directory's key
// prefix (ending in "/") and no file.
func (w *walker) next() (key, path string, ok bool) {
	for n := len(w.stack); n > 0; n = len(w.stack) {
		l := &w.stack[n-1]
		if l.i >= len(l.names) {
			w.stack = w.stack[:n-1]
			if n > 1 {
				w.stack[n-2].i++
			}
			continue
		}
		name := l.names[l.i]
		k := l.prefix + name
		if k > w.prefix && !strings.HasPrefix(k, w.prefix) {
			w.stack = w.stack[:0] // all that follows is past the prefix
			break
		}
		if !isDirName(name) {
			l.i++
			return k, l.path + string(os.PathSeparator) + name, true
		}
		p := l.path + string(os.PathSeparator) + name[:len(name)-1]
		if w.collapse != nil && w.collapse(k) {
			l.i++
			if hasFile(p) {
				return k, "", true
			}
			continue
		}
		w.push(p, k) // when exhausted, it advances l.i
	}
	return "", "", false
}

func isDirName(name string) bool { return strings.HasSuffix(name, "/") }

// dirCache keeps the sorted names of large directories between list
// requests. Without it, paging through a directory of N objects reads and
// sorts all N for every page: O(N²) for the whole listing, minutes for a
// million objects in one hour's directory (one object per tick). A
// directory is cached only once its modification time is quietFor in the
// past, and used only while that time is unchanged: a change after the
// read gets a later mtime even with coarse file system clocks, whether it
// came through this server or from other tools (unless a tool sets mtimes
// back, as rsync -t does). So a directory being written to is read afresh
// for every page, and a finished one once.
type dirCache struct {
	mu    sync.Mutex
	max   int // names held at most; 0 disables
	total int
	m     map[string]cachedDir
}

type cachedDir struct {
	mtime int64
	names []string // shared by concurrent listings: read only
}

const (
	quietFor     = 3 * time.Second
	minCachedDir = 1024 // smaller directories are cheap to read again
)

// names returns the directory's entries in key order (see readDirSorted).
func (c *dirCache) names(dir string) ([]string, error) {
	if c.max <= 0 {
		return readDirSorted(dir)
	}
	fi, err := os.Stat(dir) // before reading: a change meanwhile moves mtime on
	if err != nil {
		return readDirSorted(dir) // gone or unreadable: say so the same way
	}
	mtime := fi.ModTime()
	c.mu.Lock()
	e, ok := c.m[dir]
	c.mu.Unlock()
	if ok && e.mtime == mtime.UnixNano() {
		return e.names, nil
	}
	names, err := readDirSorted(dir)
	if err != nil || len(names) < minCachedDir || len(names) > c.max || time.Since(mtime) < quietFor {
		return names, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[dir]; ok {
		c.total -= len(old.names)
		delete(c.m, dir)
	}
	for k, v := range c.m { // evict in no particular order until it fits
		if c.total+len(names) <= c.max {
			break
		}
		c.total -= len(v.names)
		delete(c.m, k)
	}
	if c.m == nil {
		c.m = make(map[string]cachedDir)
	}
	c.m[dir] = cachedDir{mtime: mtime.UnixNano(), names: names}
	c.total += len(names)
	return names, nil
}

func (c *dirCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.total = nil, 0
}

// readDirSorted lists a directory's files and subdirectories in key order;
// symlinks and other special files are no objects. A directory removed
// meanwhile is empty.
func readDirSorted(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		switch t := e.Type(); {
		case t.IsDir():
			names = append(names, e.Name()+"/")
		case t.IsRegular():
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// hasFile reports whether a regular file lies anywhere below dir. It reads
// names a few at a time: usually the first one is a file.
func hasFile(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	var buf [1024]byte
	for {
		names, err := someNames(f, buf[:])
		if err != nil || len(names) == 0 {
			return false
		}
		for _, name := range names {
			p := dir + string(os.PathSeparator) + name
			fi, err := os.Lstat(p)
			switch {
			case err != nil:
			case fi.Mode().IsRegular():
				return true
			case fi.IsDir() && hasFile(p):
				return true
			}
		}
	}
}

func (s *Server) listObjectsV2(w http.ResponseWriter, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	q := req.query
	lq := listQuery{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: 1000}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidArgument("max-keys %q is not an integer from 0 up.", v)
		}
		lq.maxKeys = min(n, 1000)
	}
	encURL := false
	switch v := q.Get("encoding-type"); v {
	case "":
	case "url":
		encURL = true
	default:
		return errInvalidArgument("Invalid Encoding Method specified in Request: %q.", v)
	}
	startAfter, token := q.Get("start-after"), q.Get("continuation-token")
	lq.from = lq.prefix
	if startAfter != "" {
		lq.from = max(lq.from, startAfter+"\x00")
	}
	if token != "" {
		k, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return errInvalidArgument("The continuation token provided is incorrect.")
		}
		lq.from = max(lq.from, string(k))
	}
	page, err := s.list(req.bucket, lq)
	if err != nil {
		return err
	}

	enc := func(v string) string { return v }
	if encURL {
		enc = urlEncode
	}
	b := xmlBufs.Get().(*bytes.Buffer)
	defer xmlBufs.Put(b)
	b.Reset()
	b.WriteString(xml.Header)
	b.WriteString(`<ListBucketResult xmlns="` + xmlns + `">`)
	elem(b, "Name", req.bucket)
	elem(b, "Prefix", enc(lq.prefix))
	if lq.delimiter != "" {
		elem(b, "Delimiter", enc(lq.delimiter))
	}
	elem(b, "MaxKeys", strconv.Itoa(lq.maxKeys))
	elem(b, "KeyCount", strconv.Itoa(len(page.objects)+len(page.prefixes)))
	elem(b, "IsTruncated", strconv.FormatBool(page.truncated))
	if token != "" {
		elem(b, "ContinuationToken", token)
	}
	if page.truncated {
		elem(b, "NextContinuationToken", base64.RawURLEncoding.EncodeToString([]byte(page.next)))
	}
	if startAfter != "" {
		elem(b, "StartAfter", enc(startAfter))
	}
	if encURL {
		elem(b, "EncodingType", "url")
	}
	fetchOwner := q.Get("fetch-owner") == "true"
	for _, o := range page.objects {
		b.WriteString("<Contents>")
		elem(b, "Key", enc(o.key))
		elem(b, "LastModified", isoTime(o.md.mtime))
		elem(b, "ETag", quote(o.md.etag))
		elem(b, "Size", strconv.FormatInt(o.md.size, 10))
		if fetchOwner {
			b.WriteString("<Owner>")
			elem(b, "ID", theOwner.ID)
			elem(b, "DisplayName", theOwner.DisplayName)
			b.WriteString("</Owner>")
		}
		b.WriteString("<StorageClass>STANDARD</StorageClass></Contents>")
	}
	for _, p := range page.prefixes {
		b.WriteString("<CommonPrefixes>")
		elem(b, "Prefix", enc(p))
		b.WriteString("</CommonPrefixes>")
	}
	b.WriteString("</ListBucketResult>")
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
	return nil
}

var xmlBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// elem writes <name>value</name>, escaping value.
func elem(b *bytes.Buffer, name, value string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	if plainXML(value) {
		b.WriteString(value)
	} else {
		_ = xml.EscapeText(b, []byte(value))
	}
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// plainXML reports whether s needs no escaping: printable ASCII without
// markup characters (the common case of keys).
func plainXML(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= utf8.RuneSelf, c == '<', c == '>', c == '&', c == '"', c == '\'':
			return false
		}
	}
	return true
}

// urlEncode is encoding-type=url: query escaping that keeps "/".
func urlEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}
