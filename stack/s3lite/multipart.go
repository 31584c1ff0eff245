package s3lite

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A multipart upload is the directory Dir/.tmp/uploads/<id> holding
// upload.json (its bucket, key and content type) and one file per part,
// named by its number. Completing concatenates the parts into a temporary
// file (copy_file_range where the file system offers it) and renames it
// into place like any PUT.

type uploadInfo struct {
	Bucket, Key, ContentType string
	Initiated                time.Time
}

const (
	uploadInfoFile = "upload.json"
	maxPartNumber  = 10000
)

func (st *store) uploadDir(id string) string { return filepath.Join(st.uploads, id) }

func (st *store) partPath(id string, n int) string {
	return filepath.Join(st.uploads, id, strconv.Itoa(n))
}

// validUploadID accepts the ids createMultipartUpload makes (32 hex
// digits), which also keeps the id from naming any other path.
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// loadUpload returns the upload id of bucket/key, or NoSuchUpload.
func (st *store) loadUpload(id, bucket, key string) (uploadInfo, error) {
	var info uploadInfo
	if !validUploadID(id) {
		return info, errNoSuchUpload(id)
	}
	b, err := os.ReadFile(filepath.Join(st.uploadDir(id), uploadInfoFile))
	if errors.Is(err, fs.ErrNotExist) {
		return info, errNoSuchUpload(id)
	}
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("upload %s: %w", id, err)
	}
	if info.Bucket != bucket || info.Key != key {
		return info, errNoSuchUpload(id)
	}
	return info, nil
}

// removeUpload deletes an upload's directory and forgets its parts.
func (st *store) removeUpload(id string) error {
	dir := st.uploadDir(id)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		st.meta.forget(filepath.Join(dir, e.Name()))
	}
	return os.RemoveAll(dir)
}

func (s *Server) createMultipartUpload(w http.ResponseWriter, r *http.Request, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	if e := checkKey(req.key); e != nil {
		return e
	}
	var idb [16]byte
	_, _ = rand.Read(idb[:]) // never fails, see crypto/rand.Read
	id := hex.EncodeToString(idb[:])
	info, err := json.Marshal(uploadInfo{Bucket: req.bucket, Key: req.key, ContentType: contentType(r), Initiated: time.Now().UTC()})
	if err != nil {
		return err
	}
	dir := s.st.uploadDir(id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, uploadInfoFile), info, 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	return writeXML(w, http.StatusOK, struct {
		XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{Bucket: req.bucket, Key: req.key, UploadID: id})
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	if e := checkKey(req.key); e != nil {
		return e
	}
	v := req.query.Get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return errInvalidArgument("Part number must be an integer between 1 and %d, inclusive; got %q.", maxPartNumber, v)
	}
	id := req.query.Get("uploadId")
	if _, err := s.st.loadUpload(id, req.bucket, req.key); err != nil {
		return err
	}
	tmp, md, d, err := s.receive(r, defaultContentType)
	if err != nil {
		return err
	}
	mu := s.st.uploadLocks.of(id, "")
	mu.Lock()
	defer mu.Unlock()
	// Completed or aborted while the part was coming in?
	if _, err := s.st.loadUpload(id, req.bucket, req.key); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	path := s.st.partPath(id, n)
	if err := os.Rename(tmp, path); err != nil { // replaces an earlier try of the part
		_ = os.Remove(tmp)
		return err
	}
	s.st.meta.placed(path, md)
	h := w.Header()
	h.Set("ETag", quote(md.etag))
	d.echo(h)
	w.WriteHeader(http.StatusOK)
	return nil
}

type completeRequest struct {
	Parts []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

func (s *Server) completeMultipartUpload(w http.ResponseWriter, r *http.Request, req request) error {
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
	var cr completeRequest
	if err := readXML(r, &cr); err != nil {
		return err
	}
	id := req.query.Get("uploadId")
	mu := s.st.uploadLocks.of(id, "")
	mu.Lock()
	defer mu.Unlock()
	info, err := s.st.loadUpload(id, req.bucket, req.key)
	if err != nil {
		return err
	}
	if len(cr.Parts) == 0 {
		return errMalformedXML(errors.New("you must specify at least one part"))
	}
	// Like S3, a failed condition keeps the upload: the client may abort it.
	if cond.noneMatch && isObject(s.st.objectPath(req.bucket, req.key)) {
		return errPrecondition("If-None-Match: * and the key exists")
	}
	sums := md5.New() // of the parts' binary MD5s: the multipart ETag
	paths := make([]string, len(cr.Parts))
	for i, p := range cr.Parts {
		if i > 0 && p.PartNumber <= cr.Parts[i-1].PartNumber {
			return newError(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order of the part number.")
		}
		invalid := newError(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag: part %d.", p.PartNumber)
		if p.PartNumber < 1 || p.PartNumber > maxPartNumber {
			return invalid
		}
		paths[i] = s.st.partPath(id, p.PartNumber)
		md, err := s.st.metaOf(paths[i], nil)
		if errors.Is(err, errNotObject) {
			return invalid
		}
		if err != nil {
			return err
		}
		if strings.Trim(strings.TrimSpace(p.ETag), `"`) != md.etag {
			return invalid
		}
		if i < len(cr.Parts)-1 && md.size < s.cfg.MinPartSize {
			return newError(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size: part %d has %d bytes, the minimum for all parts but the last is %d.", p.PartNumber, md.size, s.cfg.MinPartSize)
		}
		b, err := hex.DecodeString(md.etag)
		if err != nil {
			return fmt.Errorf("part %d has ETag %q: %w", p.PartNumber, md.etag, err)
		}
		sums.Write(b)
	}
	f, md, err := s.concat(paths)
	if err != nil {
		return err
	}
	md.etag = hex.EncodeToString(sums.Sum(nil)) + "-" + strconv.Itoa(len(paths))
	md.ctype = info.ContentType
	s.st.meta.attach(f, md)
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := s.commit(f.Name(), md, cond, req.bucket, req.key); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := s.st.removeUpload(id); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, struct {
		XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{Location: "http://" + r.Host + "/" + req.bucket + "/" + req.key, Bucket: req.bucket, Key: req.key, ETag: quote(md.etag)})
}

// concat writes the files at paths, in order, into a new temporary file
// and returns it, still open, with its size and mtime.
func (s *Server) concat(paths []string) (*os.File, objMeta, error) {
	f, err := s.st.createTemp()
	if err != nil {
		return nil, objMeta{}, err
	}
	for _, p := range paths {
		pf, err := os.Open(p)
		if err != nil {
			discard(f)
			return nil, objMeta{}, err
		}
		_, err = io.Copy(f, pf)
		pf.Close()
		if err != nil {
			discard(f)
			return nil, objMeta{}, err
		}
	}
	fi, err := f.Stat()
	if err != nil {
		discard(f)
		return nil, objMeta{}, err
	}
	return f, objMeta{size: fi.Size(), mtime: fi.ModTime().UnixNano()}, nil
}

func (s *Server) abortMultipartUpload(w http.ResponseWriter, req request) error {
	if e := s.st.checkBucket(req.bucket); e != nil {
		return e
	}
	id := req.query.Get("uploadId")
	mu := s.st.uploadLocks.of(id, "")
	mu.Lock()
	defer mu.Unlock()
	if _, err := s.st.loadUpload(id, req.bucket, req.key); err != nil {
		return err
	}
	if err := s.st.removeUpload(id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
