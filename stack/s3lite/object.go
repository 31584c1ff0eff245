package s3lite

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	if e := checkKey(req.key); e != nil {
		return e
	}
	cond, e := writeConditions(r.Header)
	if e != nil {
		return e
	}
	// The body is taken before the condition is checked, under the key's
	// lock: answering 412 without reading a body larger than net/http
	// drains (256 KiB) closes the connection under a client still writing.
	tmp, md, d, err := s.receive(r, contentType(r))
	if err != nil {
		return err
	}
	if err := s.commit(tmp, md, cond, req.bucket, req.key); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	h := w.Header()
	h.Set("ETag", quote(md.etag))
	d.echo(h)
	w.WriteHeader(http.StatusOK)
	return nil
}

func contentType(r *http.Request) string {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return defaultContentType
}

// receive stores the request body in a new temporary file, checks it
// against the length and digests declared, and records its metadata. It
// returns the temporary file's path.
func (s *Server) receive(r *http.Request, ctype string) (string, objMeta, *digests, error) {
	p, e := readPayload(r)
	if e != nil {
		return "", objMeta{}, nil, e
	}
	d, e := newDigests(r.Header)
	if e != nil {
		return "", objMeta{}, nil, e
	}
	f, err := s.st.createTemp()
	if err != nil {
		return "", objMeta{}, nil, err
	}
	if err := copyPayload(f, p, d); err != nil {
		discard(f)
		return "", objMeta{}, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		discard(f)
		return "", objMeta{}, nil, err
	}
	md := objMeta{etag: d.etag(), size: fi.Size(), mtime: fi.ModTime().UnixNano(), ctype: ctype}
	s.st.meta.attach(f, md)
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return "", objMeta{}, nil, err
	}
	return f.Name(), md, d, nil
}

// commit renames the temporary file onto the key if cond holds, under the
// key's lock, so that of two racing conditional writes exactly one wins.
func (s *Server) commit(tmp string, md objMeta, cond conditions, bucket, key string) error {
	mu := s.st.keyLocks.of(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	path := s.st.objectPath(bucket, key)
	if err := s.checkWrite(cond, bucket, key, path); err != nil {
		return err
	}
	if err := s.st.place(tmp, bucket, key); err != nil {
		return err
	}
	s.st.meta.placed(path, md)
	return nil
}

// conditions are a write's If-None-Match: * and If-Match.
type conditions struct {
	noneMatch bool
	match     []string // ETags, unquoted; "*" matches any object
}

func writeConditions(h http.Header) (conditions, *apiError) {
	var c conditions
	if v := strings.TrimSpace(h.Get("If-None-Match")); v != "" {
		if v != "*" {
			return c, errNotImplemented("If-None-Match with an ETag on writes (S3 accepts only *)")
		}
		c.noneMatch = true
	}
	if v := h.Get("If-Match"); v != "" {
		c.match = parseETags(v)
	}
	return c, nil
}

// checkWrite evaluates cond against the object at path.
func (s *Server) checkWrite(c conditions, bucket, key, path string) error {
	if c.match == nil {
		if c.noneMatch && isObject(path) {
			return errPrecondition("If-None-Match: * and the key exists")
		}
		return nil
	}
	md, err := s.st.metaOf(path, nil)
	switch {
	case errors.Is(err, errNotObject):
		return errNoSuchKey(bucket, key) // S3 answers a missing If-Match target so
	case err != nil:
		return err
	case c.noneMatch:
		return errPrecondition("If-None-Match: * and the key exists")
	case !etagMatches(c.match, md.etag):
		return errPrecondition("If-Match " + strings.Join(c.match, ",") + " and the ETag is " + md.etag)
	}
	return nil
}

func isObject(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular()
}

func parseETags(v string) []string {
	var tags []string
	for t := range strings.SplitSeq(v, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		tags = append(tags, strings.Trim(t, `"`))
	}
	return tags
}

func etagMatches(tags []string, etag string) bool {
	for _, t := range tags {
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// errNotModified is a 304 answer, which has no error document.
var errNotModified = errors.New("not modified")

// readConditions evaluates GET and HEAD's conditional headers in S3's
// order: If-Match beats If-Unmodified-Since, If-None-Match beats
// If-Modified-Since.
func readConditions(h http.Header, md objMeta) error {
	mtime := time.Unix(0, md.mtime).Truncate(time.Second)
	if v := h.Get("If-Match"); v != "" {
		if !etagMatches(parseETags(v), md.etag) {
			return errPrecondition("If-Match")
		}
	} else if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && mtime.After(t) {
		return errPrecondition("If-Unmodified-Since")
	}
	if v := h.Get("If-None-Match"); v != "" {
		if etagMatches(parseETags(v), md.etag) {
			return errNotModified
		}
	} else if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && !mtime.After(t) {
		return errNotModified
	}
	return nil
}

// getObject answers GetObject and HeadObject.
func (s *Server) getObject(w http.ResponseWriter, r *http.Request, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	if e := checkKey(req.key); e != nil {
		return e
	}
	path := s.st.objectPath(req.bucket, req.key)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return errNoSuchKey(req.bucket, req.key)
		}
		return err
	}
	defer f.Close()
	md, err := s.st.metaOf(path, f)
	if err != nil {
		if errors.Is(err, errNotObject) {
			return errNoSuchKey(req.bucket, req.key)
		}
		return err
	}
	h := w.Header()
	h.Set("ETag", quote(md.etag))
	h.Set("Last-Modified", time.Unix(0, md.mtime).UTC().Format(http.TimeFormat))
	if err := readConditions(r.Header, md); err != nil {
		if err == errNotModified {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return err
	}
	start, n, partial, e := parseRange(r.Header.Get("Range"), md.size)
	if e != nil {
		return e
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", md.ctype)
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(start+n-1, 10)+"/"+strconv.FormatInt(md.size, 10))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if req.op == opHeadObject || n == 0 {
		return nil
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil // the status is out; a short body tells the client
	}
	// Errors here are the client's going away; a short body (net/http
	// closes the connection) tells it otherwise.
	_, _ = io.Copy(w, io.LimitReader(f, n))
	return nil
}

// parseRange interprets a Range header as S3 does: one range of
// "bytes=a-b", "bytes=a-" or "bytes=-n"; a header it cannot parse, or with
// several ranges, is ignored (the whole object, 200); a range that starts
// past the end is 416 InvalidRange.
func parseRange(v string, size int64) (start, n int64, partial bool, e *apiError) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	unsatisfiable := &apiError{status: http.StatusRequestedRangeNotSatisfiable, code: "InvalidRange", message: "The requested range is not satisfiable", rangeSize: size}
	if a == "" {
		suffix, err := strconv.ParseInt(b, 10, 64)
		if err != nil || suffix < 0 {
			return 0, size, false, nil
		}
		if suffix == 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		suffix = min(suffix, size)
		return size - suffix, suffix, true, nil
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, size, false, nil
	}
	last := size - 1
	if b != "" {
		l, err := strconv.ParseInt(b, 10, 64)
		if err != nil || l < first {
			return 0, size, false, nil
		}
		last = min(last, l)
	}
	if first >= size {
		return 0, 0, false, unsatisfiable
	}
	return first, last - first + 1, true, nil
}

func (s *Server) deleteObject(w http.ResponseWriter, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	if e := checkKey(req.key); e != nil {
		return e
	}
	if err := s.removeObject(req.bucket, req.key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent) // also when there was no such key, as S3
	return nil
}

func (s *Server) removeObject(bucket, key string) error {
	mu := s.st.keyLocks.of(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	return s.st.remove(bucket, key)
}

type deleteRequest struct {
	Quiet   bool
	Objects []struct {
		Key string
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedObject `xml:"Deleted"`
	Errors  []deleteError   `xml:"Error"`
}

type deletedObject struct{ Key string }

type deleteError struct{ Key, Code, Message string }

// maxXMLBody bounds the request documents read into memory: 1,000 keys of
// 1 KiB, or 10,000 parts, with room for markup.
const maxXMLBody = 4 << 20

// readXML decodes a small XML request body into v, checking the digests
// the request declares (DeleteObjects must carry one).
func readXML(r *http.Request, v any) error {
	p, e := readPayload(r)
	if e != nil {
		return e
	}
	if p.size > maxXMLBody {
		return errInvalidArgument("The XML body of %d bytes is larger than %d bytes.", p.size, maxXMLBody)
	}
	d, e := newDigests(r.Header)
	if e != nil {
		return e
	}
	var buf bytes.Buffer
	if err := copyPayload(&buf, p, d); err != nil {
		return err
	}
	if err := xml.Unmarshal(buf.Bytes(), v); err != nil {
		return errMalformedXML(err)
	}
	return nil
}

func (s *Server) deleteObjects(w http.ResponseWriter, r *http.Request, bucket string) error {
	if e := s.st.checkBucket(bucket); e != nil {
		return e
	}
	var dr deleteRequest
	if err := readXML(r, &dr); err != nil {
		return err
	}
	if len(dr.Objects) == 0 || len(dr.Objects) > 1000 {
		return errMalformedXML(errors.New("a Delete request names 1 to 1000 objects, this one " + strconv.Itoa(len(dr.Objects))))
	}
	var res deleteResult
	for _, o := range dr.Objects {
		var err error
		if e := checkKey(o.Key); e != nil {
			err = e
		} else {
			err = s.removeObject(bucket, o.Key)
		}
		switch {
		case err == nil && !dr.Quiet:
			res.Deleted = append(res.Deleted, deletedObject{Key: o.Key})
		case err != nil:
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = errInternal(err)
			}
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: ae.code, Message: ae.message})
		}
	}
	return writeXML(w, http.StatusOK, res)
}
