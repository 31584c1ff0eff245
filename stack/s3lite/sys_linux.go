package s3lite

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// xattrName is the extended attribute holding an object's metadata.
const xattrName = "user.s3lite"

var xattrNamePtr = func() *byte {
	p, err := syscall.BytePtrFromString(xattrName)
	if err != nil {
		panic(err)
	}
	return p
}()

func getxattr(path string, buf []byte) (int, error) {
	return syscall.Getxattr(path, xattrName, buf)
}

// fgetxattr and fsetxattr work on an open file, so the metadata read or
// written belongs to the very file being served even if a PUT replaces the
// path meanwhile. The syscall package has no wrappers for them.
func fgetxattr(f *os.File, buf []byte) (int, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	n, _, errno := syscall.Syscall6(syscall.SYS_FGETXATTR, f.Fd(), uintptr(unsafe.Pointer(xattrNamePtr)), uintptr(p), uintptr(len(buf)), 0, 0)
	runtime.KeepAlive(f)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func fsetxattr(f *os.File, val []byte) error {
	var p unsafe.Pointer
	if len(val) > 0 {
		p = unsafe.Pointer(&val[0])
	}
	_, _, errno := syscall.Syscall6(syscall.SYS_FSETXATTR, f.Fd(), uintptr(unsafe.Pointer(xattrNamePtr)), uintptr(p), uintptr(len(val)), 0, 0)
	runtime.KeepAlive(f)
	if errno != 0 {
		return errno
	}
	return nil
}

// someNames returns the next few entry names of the open directory f, with
// one getdents into buf: os.File.ReadDir always reads 8 KiB of entries,
// which is most of the cost of asking whether a directory holds anything.
// No names means the end.
func someNames(f *os.File, buf []byte) ([]string, error) {
	for {
		n, err := syscall.Getdents(int(f.Fd()), buf)
		runtime.KeepAlive(f)
		if err != nil || n <= 0 {
			return nil, err
		}
		if _, _, names := syscall.ParseDirent(buf[:n], -1, nil); len(names) > 0 {
			return names, nil
		}
		// Only "." and "..": read on.
	}
}
