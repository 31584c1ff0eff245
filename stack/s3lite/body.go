package s3lite

import (
	"bufio"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// payload is a request body seen as the object's bytes.
type payload struct {
	r    io.Reader
	size int64 // the object's size as the request declares it
	// chunked decodes an aws-chunked body and holds its trailer after EOF;
	// nil for plain bodies.
	chunked *chunkReader
}

// readPayload accepts a plain body with a Content-Length, which is what
// aws-sdk-go-v2 sends over http, and an aws-chunked one (Content-Encoding:
// aws-chunked, x-amz-content-sha256: STREAMING-...), which it sends over
// https with its default checksums (STREAMING-UNSIGNED-PAYLOAD-TRAILER) and
// other clients send signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). Chunk
// signatures are not verified, like every other signature.
func readPayload(r *http.Request) (payload, *apiError) {
	if hasToken(r.Header.Get("Content-Encoding"), "aws-chunked") || strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		v := r.Header.Get("X-Amz-Decoded-Content-Length")
		if v == "" {
			return payload{}, newError(http.StatusLengthRequired, "MissingContentLength", "An aws-chunked upload must send x-amz-decoded-content-length.")
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return payload{}, errInvalidArgument("x-amz-decoded-content-length %q is not a size.", v)
		}
		if n > maxObjectSize {
			return payload{}, errTooLarge(n)
		}
		c := newChunkReader(r.Body)
		return payload{r: c, size: n, chunked: c}, nil
	}
	if r.ContentLength < 0 {
		return payload{}, newError(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	if r.ContentLength > maxObjectSize {
		return payload{}, errTooLarge(r.ContentLength)
	}
	return payload{r: r.Body, size: r.ContentLength}, nil
}

func errTooLarge(n int64) *apiError {
	return newError(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload of %d bytes exceeds the maximum allowed object size of %d bytes.", n, int64(maxObjectSize))
}

func hasToken(list, token string) bool {
	for t := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// copyPayload copies p to dst through d and checks the length and the
// digests the request declared.
func copyPayload(dst io.Writer, p payload, d *digests) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	for {
		k, err := p.r.Read(buf)
		if k > 0 {
			n += int64(k)
			if n > p.size {
				return errIncompleteBody("The body holds more than the %d bytes declared.", p.size)
			}
			d.write(buf[:k])
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				return ae
			}
			return errIncompleteBody("Reading the body after %d of %d bytes: %v.", n, p.size, err)
		}
	}
	if n != p.size {
		return errIncompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header: got %d of %d.", n, p.size)
	}
	var trailer http.Header
	if p.chunked != nil {
		trailer = p.chunked.trailer
	}
	if e := d.verify(trailer); e != nil {
		return e
	}
	return nil
}

// chunkReader decodes aws-chunked framing:
//
//	hex-size[;chunk-signature=...]\r\n data \r\n ... 0[;...]\r\n [name:value\r\n]... \r\n
type chunkReader struct {
	br      *bufio.Reader
	left    int64 // bytes left in the current chunk
	started bool  // a chunk has been read, so a CRLF precedes the next size line
	done    bool
	trailer http.Header
	err     error
}

func newChunkReader(r io.Reader) *chunkReader {
	return &chunkReader{br: bufio.NewReaderSize(r, 4096), trailer: http.Header{}}
}

const maxTrailerLines = 64

func errChunk(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidRequest", "Malformed aws-chunked body: "+format, args...)
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.err == nil && c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		c.err = c.nextChunk()
	}
	if c.err != nil {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if err == io.EOF {
		err = errIncompleteBody("The aws-chunked body ended inside a chunk.")
	}
	c.err = err
	return n, err
}

func (c *chunkReader) nextChunk() error {
	if c.started { // the CRLF that ends the previous chunk's data
		line, err := c.line()
		if err != nil {
			return err
		}
		if line != "" {
			return errChunk("chunk data longer than its size")
		}
	}
	c.started = true
	line, err := c.line()
	if err != nil {
		return err
	}
	sizeHex, _, _ := strings.Cut(line, ";") // extensions: chunk-signature
	size, err := strconv.ParseUint(strings.TrimSpace(sizeHex), 16, 63)
	if err != nil || size > maxObjectSize {
		return errChunk("bad chunk size line %.40q", line)
	}
	if size > 0 {
		c.left = int64(size)
		return nil
	}
	for range maxTrailerLines {
		line, err := c.line()
		if err != nil || line == "" {
			// Tolerate a body that ends without the final empty line.
			if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
				c.done = true
				return nil
			}
			return err
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return errChunk("bad trailer line %.60q", line)
		}
		c.trailer.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return errChunk("more than %d trailer lines", maxTrailerLines)
}

// line reads one CRLF-terminated line, without the CRLF.
func (c *chunkReader) line() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", errChunk("line longer than %d bytes", c.br.Size())
	case err == io.EOF && len(b) == 0:
		return "", io.ErrUnexpectedEOF
	case err == io.EOF:
		return "", errIncompleteBody("The aws-chunked body ended inside a line.")
	case err != nil:
		return "", err
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return string(b), nil
}

// digests hashes a body as it is stored: MD5 always (the ETag), and every
// checksum the request declares, in headers or announced for the trailer.
type digests struct {
	md5     hash.Hash
	md5Want []byte // Content-MD5, decoded
	list    []digest
}

type digest struct {
	header string // x-amz-checksum-crc32, ..., or x-amz-content-sha256
	h      hash.Hash
	want   string // as sent: base64, or hex for x-amz-content-sha256; "" until the trailer
}

var (
	crc32c    = crc32.MakeTable(crc32.Castagnoli)
	crc64nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5) // CRC-64/NVME, reflected polynomial

	checksumHeaders = map[string]func() hash.Hash{
		"X-Amz-Checksum-Crc32":     func() hash.Hash { return crc32.NewIEEE() },
		"X-Amz-Checksum-Crc32c":    func() hash.Hash { return crc32.New(crc32c) },
		"X-Amz-Checksum-Crc64nvme": func() hash.Hash { return crc64.New(crc64nvme) },
		"X-Amz-Checksum-Sha1":      sha1.New,
		"X-Amz-Checksum-Sha256":    sha256.New,
	}
)

const contentSHA256 = "X-Amz-Content-Sha256"

func newDigests(h http.Header) (*digests, *apiError) {
	d := &digests{md5: md5.New()}
	if v := h.Get("Content-Md5"); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != md5.Size {
			return nil, newError(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified %q is not valid.", v)
		}
		d.md5Want = b
	}
	for name, newHash := range checksumHeaders {
		if v := h.Get(name); v != "" {
			d.list = append(d.list, digest{header: name, h: newHash(), want: v})
		}
	}
	for t := range strings.SplitSeq(h.Get("X-Amz-Trailer"), ",") {
		name := http.CanonicalHeaderKey(strings.TrimSpace(t))
		if newHash, ok := checksumHeaders[name]; ok && h.Get(name) == "" {
			d.list = append(d.list, digest{header: name, h: newHash()})
		}
	}
	// A hex SHA-256 means a signed payload (the SDK over http); other
	// values are UNSIGNED-PAYLOAD and STREAMING-*.
	if v := h.Get(contentSHA256); len(v) == 2*sha256.Size {
		if _, err := hex.DecodeString(v); err == nil {
			d.list = append(d.list, digest{header: contentSHA256, h: sha256.New(), want: strings.ToLower(v)})
		}
	}
	return d, nil
}

func (d *digests) write(p []byte) {
	d.md5.Write(p)
	for _, x := range d.list {
		x.h.Write(p)
	}
}

// verify compares the sums with what the request declared, trailer
// included.
func (d *digests) verify(trailer http.Header) *apiError {
	if d.md5Want != nil && string(d.md5.Sum(nil)) != string(d.md5Want) {
		return newError(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	for i := range d.list {
		x := &d.list[i]
		if x.want == "" {
			if x.want = trailer.Get(x.header); x.want == "" {
				return errChunk("x-amz-trailer announces %s but the trailer does not hold it", x.header)
			}
		}
		if x.header == contentSHA256 {
			if hex.EncodeToString(x.h.Sum(nil)) != x.want {
				return newError(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
			}
			continue
		}
		if base64.StdEncoding.EncodeToString(x.h.Sum(nil)) != x.want {
			alg := strings.ToUpper(strings.TrimPrefix(x.header, "X-Amz-Checksum-"))
			return newError(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", alg)
		}
	}
	return nil
}

// echo sets the verified checksums on the response, as S3 does.
func (d *digests) echo(h http.Header) {
	for _, x := range d.list {
		if x.header != contentSHA256 {
			h.Set(x.header, x.want)
		}
	}
}

func (d *digests) etag() string { return hex.EncodeToString(d.md5.Sum(nil)) }
