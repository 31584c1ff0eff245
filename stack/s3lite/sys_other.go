//go:build !linux

package s3lite

import (
	"errors"
	"io"
	"os"
)

// Without Linux extended attributes the metadata lives in memory only.

func getxattr(string, []byte) (int, error)    { return 0, errors.ErrUnsupported }
func fgetxattr(*os.File, []byte) (int, error) { return 0, errors.ErrUnsupported }
func fsetxattr(*os.File, []byte) error        { return errors.ErrUnsupported }

// someNames returns the next few entry names of the open directory f.
func someNames(f *os.File, _ []byte) ([]string, error) {
	names, err := f.Readdirnames(16)
	if err == io.EOF {
		err = nil
	}
	return names, err
}
