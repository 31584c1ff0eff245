// Package testrepo helps tests find the repository they run in.
package testrepo

import (
	"os"
	"path/filepath"
	"testing"
)

// Root walks up from the test's package directory to the folder holding
// go.mod, where scripts/ and .tickbench/ live.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
