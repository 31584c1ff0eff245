package s3lite

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an S3 error answer: an HTTP status and the <Error> document.
type apiError struct {
	status  int
	code    string
	message string
	bucket  string
	key     string
	// rangeSize is the object size a 416 InvalidRange reports.
	rangeSize int64
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

type errorDoc struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string
	Message          string
	BucketName       string `xml:",omitempty"`
	Key              string `xml:",omitempty"`
	ActualObjectSize string `xml:",omitempty"`
	RequestID        string `xml:"RequestId"`
	HostID           string `xml:"HostId"`
}

// writeError answers with e; HEAD answers carry no body, as S3's don't.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	h := w.Header()
	if e.status == http.StatusRequestedRangeNotSatisfiable {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(e.rangeSize, 10))
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	doc := errorDoc{Code: e.code, Message: e.message, BucketName: e.bucket, Key: e.key, RequestID: h.Get(hdrRequestID), HostID: hostID}
	if e.status == http.StatusRequestedRangeNotSatisfiable {
		doc.ActualObjectSize = strconv.FormatInt(e.rangeSize, 10)
	}
	body, err := xml.Marshal(doc)
	if err != nil { // only strings: cannot happen
		panic(err)
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func errNoSuchBucket(bucket string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchBucket", message: "The specified bucket does not exist.", bucket: bucket}
}

func errNoSuchKey(bucket, key string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchKey", message: "The specified key does not exist.", bucket: bucket, key: key}
}

func errNoSuchUpload(id string) *apiError {
	return newError(http.StatusNotFound, "NoSuchUpload", "The specified multipart upload %q does not exist: it may have been aborted or completed.", id)
}

func errPrecondition(why string) *apiError {
	return newError(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold: %s.", why)
}

func errInvalidArgument(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidArgument", format, args...)
}

func errMalformedXML(err error) *apiError {
	return newError(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: %v.", err)
}

func errIncompleteBody(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "IncompleteBody", format, args...)
}

func errSlowDown() *apiError {
	return newError(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
}

func errInternal(err error) *apiError {
	return newError(http.StatusInternalServerError, "InternalError", "We encountered an internal error, please try again: %v", err)
}

func errNotImplemented(what string) *apiError {
	return newError(http.StatusNotImplemented, "NotImplemented", "s3lite does not implement %s.", what)
}
