// Package s3lite owns tickbench's embedded S3-compatible server: a small
// http.Handler that speaks the S3 REST API (path-style addressing, as
// aws-sdk-go-v2 uses it with UsePathStyle) and keeps every object as a plain
// file, so a run's landed data can be inspected and queried with ordinary
// tools afterwards. It also injects faults (errors, resets, latency, stalls,
// per-prefix throttling) so that clients can be tested against S3's bad days.
//
// Layout: bucket B is the directory Dir/B, object "a/b/c.jsonl" the file
// Dir/B/a/b/c.jsonl. Writes go to a temporary file in Dir/.tmp and are renamed
// into place, so readers never see half an object; writes to different keys
// share no lock. Metadata (ETag, content type) sits in an extended attribute
// of the file, see metaStore. Because keys are paths, keys that are not
// paths ("a//b", "../x", "a/") are rejected, and so are keys that collide
// with the tree: "a" while "a/b" exists, and the reverse.
//
// ETags are MD5 hex (multipart: MD5 of the part MD5s, "-N"), computed while
// the body streams in. Files that lack recorded metadata (put there by other
// tools, or by an earlier process on a file system without extended
// attributes) get theirs computed from the bytes when first listed or read.
// Objects are not fsynced: a process crash loses nothing acknowledged, a
// machine crash may; this is a store for benchmarks and tests.
//
// Operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, ListObjectsV2, PutObject (If-None-Match: *, If-Match),
// GetObject and HeadObject (Range, conditional headers), DeleteObject,
// DeleteObjects, and multipart uploads (create, upload part, complete with
// If-None-Match, abort). Everything else is answered 501 NotImplemented.
// Signatures are not verified; see Config.AccessKey.
package s3lite

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an S3-compatible http.Handler. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  Config
	st   *store
	dirs dirCache

	faults     atomic.Pointer[faultState]
	stallUntil atomic.Int64 // Unix ns at which the window Stall opened ends
	closed     chan struct{}
	closeOnce  sync.Once

	reqSeq   atomic.Uint64
	ops      [numOps]atomic.Int64
	injected injectedCounts
}

// New opens (creating if needed) cfg.Dir and returns a server for it. The
// caller serves it, e.g. with http.Server on a listener of its own; Start
// does that on 127.0.0.1.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("s3lite: open data dir %s: %w", cfg.Dir, err)
	}
	s := &Server{cfg: cfg, st: st, closed: make(chan struct{})}
	s.dirs.max = max(cfg.ListCacheNames, 0)
	s.faults.Store(newFaultState(cfg.Faults, time.Now()))
	return s, nil
}

// Close ends any stall and injected latency early, so that a caller's
// http.Server.Shutdown does not wait for them (later requests are no longer
// delayed), and drops the directory listings kept in memory. It stops
// nothing else: the caller owns the listener. Always nil.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.dirs.clear()
	return nil
}

// Start serves a new Server for cfg on 127.0.0.1 at a free port. It returns
// the endpoint URL ("http://127.0.0.1:PORT") and a stop function that
// closes the server, the listener and every connection at once: call it
// when the clients are done. (A graceful http.Server.Shutdown would wait
// 5 s for each connection a client dialed but never used.)
func Start(cfg Config) (endpoint string, stop func() error, srv *Server, err error) {
	srv, err = New(cfg)
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, fmt.Errorf("s3lite: listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Shutdown
	stop = sync.OnceValue(func() error {
		srv.Close()
		return hs.Close()
	})
	return "http://" + ln.Addr().String(), stop, srv, nil
}

// op is an S3 operation, as counted in Stats.
type op uint8

const (
	opUnsupported op = iota
	opListBuckets
	opCreateBucket
	opHeadBucket
	opDeleteBucket
	opGetBucketLocation
	opListObjectsV2
	opDeleteObjects
	opPutObject
	opGetObject
	opHeadObject
	opDeleteObject
	opCreateMultipartUpload
	opUploadPart
	opCompleteMultipartUpload
	opAbortMultipartUpload
	numOps
)

var opNames = [numOps]string{
	"Unsupported", "ListBuckets", "CreateBucket", "HeadBucket", "DeleteBucket", "GetBucketLocation",
	"ListObjectsV2", "DeleteObjects", "PutObject", "GetObject", "HeadObject", "DeleteObject",
	"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload",
}

// isWrite reports the operations PutsPerSecond limits.
func (o op) isWrite() bool {
	switch o {
	case opPutObject, opDeleteObject, opDeleteObjects, opCreateMultipartUpload, opUploadPart, opCompleteMultipartUpload, opAbortMultipartUpload:
		return true
	}
	return false
}

type request struct {
	op          op
	bucket, key string
	query       url.Values
	unsupported string // what an opUnsupported request asked for
}

// subresources are query parameters naming S3 APIs s3lite lacks; a request
// carrying one must not be mistaken for a plain object or bucket request.
var subresources = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering",
	"inventory", "legal-hold", "lifecycle", "logging", "metrics", "notification", "object-lock",
	"ownershipControls", "partNumber", "policy", "policyStatus", "publicAccessBlock", "replication",
	"requestPayment", "restore", "retention", "select", "tagging", "torrent", "uploadId", "uploads",
	"versioning", "versions", "website",
}

// route names the operation of a path-style request: /bucket or /bucket/key.
func route(r *http.Request) request {
	q := r.URL.Query()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	req := request{bucket: bucket, key: key, query: q}
	has := func(k string) bool { _, ok := q[k]; return ok }
	if v := q.Get("versionId"); v != "" && v != "null" {
		req.unsupported = "object versions"
		return req
	}
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			req.op = opListBuckets
		}
	case key == "":
		switch {
		case r.Method == http.MethodGet && has("location"):
			req.op = opGetBucketLocation
		case r.Method == http.MethodPost && has("delete"):
			req.op = opDeleteObjects
		case hasSubresource(q):
		case r.Method == http.MethodPut:
			req.op = opCreateBucket
		case r.Method == http.MethodHead:
			req.op = opHeadBucket
		case r.Method == http.MethodDelete:
			req.op = opDeleteBucket
		case r.Method == http.MethodGet && q.Get("list-type") == "2":
			req.op = opListObjectsV2
		case r.Method == http.MethodGet:
			req.unsupported = "ListObjects (version 1); use ListObjectsV2"
		}
	default:
		switch {
		case r.Header.Get("X-Amz-Copy-Source") != "":
			req.unsupported = "CopyObject and UploadPartCopy"
		case r.Method == http.MethodPut && has("uploadId") && has("partNumber"):
			req.op = opUploadPart
		case r.Method == http.MethodPost && has("uploads"):
			req.op = opCreateMultipartUpload
		case r.Method == http.MethodPost && has("uploadId"):
			req.op = opCompleteMultipartUpload
		case r.Method == http.MethodDelete && has("uploadId"):
			req.op = opAbortMultipartUpload
		case hasSubresource(q):
		case r.Method == http.MethodPut:
			req.op = opPutObject
		case r.Method == http.MethodGet:
			req.op = opGetObject
		case r.Method == http.MethodHead:
			req.op = opHeadObject
		case r.Method == http.MethodDelete:
			req.op = opDeleteObject
		}
	}
	if req.op == opUnsupported && req.unsupported == "" {
		req.unsupported = fmt.Sprintf("%s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
	}
	return req
}

func hasSubresource(q url.Values) bool {
	for _, k := range subresources {
		if _, ok := q[k]; ok {
			return true
		}
	}
	return false
}

const (
	hdrRequestID = "X-Amz-Request-Id"
	hostID       = "s3lite"
	xmlns        = "http://s3.amazonaws.com/doc/2006-03-01/"
)

// ServeHTTP answers one S3 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := route(r)
	s.ops[req.op].Add(1)
	h := w.Header()
	h.Set(hdrRequestID, fmt.Sprintf("%016X", s.reqSeq.Add(1)))
	h.Set("X-Amz-Id-2", hostID)
	h.Set("Server", "s3lite")
	v := s.inject(w, r, req)
	switch v.kind {
	case answered:
		return
	case resetAfter:
		s.serve(discardWriter{h: h.Clone()}, r, req)
		s.sleepUntil(r.Context(), v.deadline)
		resetConn(w)
		return
	}
	if !v.deadline.IsZero() {
		w = &delayedWriter{ResponseWriter: w, s: s, ctx: r.Context(), deadline: v.deadline}
	}
	s.serve(w, r, req)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, req request) {
	err := s.authorize(r)
	if err == nil {
		err = s.handle(w, r, req)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errInternal(err)
		}
		writeError(w, r, ae)
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, req request) error {
	switch req.op {
	case opListBuckets:
		return s.listBuckets(w)
	case opCreateBucket:
		return s.createBucket(w, req.bucket)
	case opHeadBucket:
		return s.headBucket(w, req.bucket)
	case opDeleteBucket:
		return s.deleteBucket(w, req.bucket)
	case opGetBucketLocation:
		return s.getBucketLocation(w, req.bucket)
	case opListObjectsV2:
		return s.listObjectsV2(w, req)
	case opDeleteObjects:
		return s.deleteObjects(w, r, req.bucket)
	case opPutObject:
		return s.putObject(w, r, req)
	case opGetObject, opHeadObject:
		return s.getObject(w, r, req)
	case opDeleteObject:
		return s.deleteObject(w, req)
	case opCreateMultipartUpload:
		return s.createMultipartUpload(w, r, req)
	case opUploadPart:
		return s.uploadPart(w, r, req)
	case opCompleteMultipartUpload:
		return s.completeMultipartUpload(w, r, req)
	case opAbortMultipartUpload:
		return s.abortMultipartUpload(w, req)
	}
	return errNotImplemented(req.unsupported)
}

// authorize checks the access key id only; see Config.AccessKey.
func (s *Server) authorize(r *http.Request) error {
	if s.cfg.AccessKey == "" {
		return nil
	}
	id, ok := accessKeyID(r)
	switch {
	case !ok:
		return newError(http.StatusForbidden, "AccessDenied", "Access Denied: the request is not signed.")
	case id != s.cfg.AccessKey:
		return newError(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided (%s) does not exist in our records.", id)
	}
	return nil
}

// accessKeyID finds the access key id a request is signed with: SigV4 or
// SigV2, in the Authorization header or presigned in the query.
func accessKeyID(r *http.Request) (string, bool) {
	a := r.Header.Get("Authorization")
	if rest, ok := strings.CutPrefix(a, "AWS4-HMAC-SHA256 "); ok {
		for part := range strings.SplitSeq(rest, ",") {
			if cred, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				id, _, _ := strings.Cut(cred, "/")
				return id, true
			}
		}
		return "", true
	}
	if rest, ok := strings.CutPrefix(a, "AWS "); ok {
		id, _, _ := strings.Cut(rest, ":")
		return id, true
	}
	q := r.URL.Query()
	if cred := q.Get("X-Amz-Credential"); cred != "" {
		id, _, _ := strings.Cut(cred, "/")
		return id, true
	}
	if id := q.Get("AWSAccessKeyId"); id != "" {
		return id, true
	}
	return "", false
}

// writeXML answers status with v as an XML document.
func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
	return nil
}

func quote(etag string) string { return `"` + etag + `"` }

const iso8601 = "2006-01-02T15:04:05.000Z"

func isoTime(unixNano int64) string { return time.Unix(0, unixNano).UTC().Format(iso8601) }

// discardWriter takes an answer nobody will receive: ResetAfterRate.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}
