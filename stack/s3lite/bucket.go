package s3lite

import (
	"encoding/xml"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
)

func (s *Server) createBucket(w http.ResponseWriter, bucket string) error {
	if !validBucketName(bucket) {
		return newError(http.StatusBadRequest, "InvalidBucketName", "The specified bucket %q is not valid: 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit.", bucket)
	}
	// A CreateBucketConfiguration body (the location) is ignored.
	if err := os.Mkdir(s.st.bucketPath(bucket), 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			e := newError(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
			e.bucket = bucket
			return e
		}
		return err
	}
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) headBucket(w http.ResponseWriter, bucket string) error {
	if e := s.st.checkBucket(bucket); e != nil {
		return e
	}
	w.Header().Set("X-Amz-Bucket-Region", s.cfg.Region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketLocation(w http.ResponseWriter, bucket string) error {
	if e := s.st.checkBucket(bucket); e != nil {
		return e
	}
	loc := s.cfg.Region
	if loc == "us-east-1" {
		loc = "" // S3's historic answer for us-east-1
	}
	return writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		Region  string   `xml:",chardata"`
	}{Region: loc})
}

// deleteBucket removes a bucket that holds no objects. Directories left
// without objects do not count; a file landing meanwhile makes it fail.
func (s *Server) deleteBucket(w http.ResponseWriter, bucket string) error {
	if e := s.st.checkBucket(bucket); e != nil {
		return e
	}
	empty, err := removeEmptyTree(s.st.bucketPath(bucket))
	if err != nil {
		return err
	}
	if !empty {
		e := newError(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
		e.bucket = bucket
		return e
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeEmptyTree removes dir if it holds nothing but directories.
func removeEmptyTree(dir string) (bool, error) {
	err := os.Remove(dir)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
		return false, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			return false, nil
		}
		if empty, err := removeEmptyTree(filepath.Join(dir, e.Name())); !empty || err != nil {
			return false, err
		}
	}
	err = os.Remove(dir)
	if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
		return false, nil
	}
	return err == nil, err
}

type listBucketsResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   owner
	Buckets []bucketEntry `xml:"Buckets>Bucket"`
}

type owner struct{ ID, DisplayName string }

var theOwner = owner{ID: "s3lite", DisplayName: "s3lite"}

type bucketEntry struct {
	Name string
	// CreationDate is the directory's modification time: the file system
	// keeps no creation time that is portable to read.
	CreationDate string
}

func (s *Server) listBuckets(w http.ResponseWriter) error {
	entries, err := os.ReadDir(s.st.dir) // sorted by name, as S3 lists
	if err != nil {
		return err
	}
	res := listBucketsResult{Owner: theOwner, Buckets: []bucketEntry{}}
	for _, e := range entries {
		if !e.IsDir() || !validBucketName(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		res.Buckets = append(res.Buckets, bucketEntry{Name: e.Name(), CreationDate: isoTime(fi.ModTime().UnixNano())})
	}
	return writeXML(w, http.StatusOK, res)
}
