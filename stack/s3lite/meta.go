package s3lite

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// objMeta is what S3 reports about an object besides its bytes.
type objMeta struct {
	etag  string // unquoted: MD5 hex, or for multipart MD5 hex of the part MD5s + "-N"
	size  int64
	mtime int64 // Unix ns, the file's modification time
	ctype string
}

// metaStore keeps objMeta with the object file, in the extended attribute
// "user.s3lite" (one attribute, set on the temporary file before it is
// renamed into place): it survives restarts, costs no memory per object, and
// a directory of millions of objects stays plain files. The value records the
// size and modification time it describes, so a file changed by other tools
// is noticed and its ETag recomputed. Where the file system has no user
// extended attributes (tmpfs before Linux 6.6, other systems) the metadata is
// kept in memory instead, for the life of the process; files found without
// it get their ETag computed (MD5) when first asked and cached.
type metaStore struct {
	mem *sync.Map // path -> objMeta; nil when extended attributes work
}

// probe picks extended attributes when a temporary file accepts one.
func (m *metaStore) probe(st *store) {
	m.mem = new(sync.Map)
	f, err := st.createTemp()
	if err != nil {
		return
	}
	defer discard(f)
	if fsetxattr(f, []byte("probe")) == nil {
		m.mem = nil
	}
}

// attach records md on the open file f; with extended attributes only.
// Failure (a read-only tree, say) just means computing the ETag again.
func (m *metaStore) attach(f *os.File, md objMeta) {
	if m.mem == nil {
		_ = fsetxattr(f, md.encode(make([]byte, 0, 128)))
	}
}

// placed records md for the file now at path; in memory mode only, after
// the rename, so a failed rename leaves the previous entry alone.
func (m *metaStore) placed(path string, md objMeta) {
	if m.mem != nil {
		m.mem.Store(path, md)
	}
}

func (m *metaStore) forget(path string) {
	if m.mem != nil {
		m.mem.Delete(path)
	}
}

// lookup returns the metadata recorded for the file at path (or the open
// f, if not nil) if it still describes a file of that size and mtime.
func (m *metaStore) lookup(path string, f *os.File, size, mtime int64) (objMeta, bool) {
	var md objMeta
	if m.mem != nil {
		v, ok := m.mem.Load(path)
		if !ok {
			return md, false
		}
		md = v.(objMeta)
	} else {
		var arr [256]byte
		buf := arr[:]
		for {
			var n int
			var err error
			if f != nil {
				n, err = fgetxattr(f, buf)
			} else {
				n, err = getxattr(path, buf)
			}
			if errors.Is(err, syscall.ERANGE) && len(buf) < 64<<10 {
				buf = make([]byte, 64<<10)
				continue
			}
			if err != nil {
				return md, false
			}
			buf = buf[:n]
			break
		}
		var ok bool
		if md, ok = decodeMeta(buf); !ok {
			return md, false
		}
	}
	return md, md.size == size && md.mtime == mtime
}

// encode appends "etag size mtime content-type" to b.
func (md objMeta) encode(b []byte) []byte {
	b = append(b, md.etag...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, md.size, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, md.mtime, 10)
	b = append(b, ' ')
	return append(b, md.ctype...)
}

func decodeMeta(b []byte) (objMeta, bool) {
	var md objMeta
	var f [3][]byte
	for i := range f {
		j := bytes.IndexByte(b, ' ')
		if j < 0 {
			return md, false
		}
		f[i], b = b[:j], b[j+1:]
	}
	var err1, err2 error
	md.etag = string(f[0])
	md.size, err1 = strconv.ParseInt(string(f[1]), 10, 64)
	md.mtime, err2 = strconv.ParseInt(string(f[2]), 10, 64)
	md.ctype = string(b)
	return md, err1 == nil && err2 == nil && md.etag != ""
}
