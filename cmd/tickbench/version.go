package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release this binary was built as: make dist-bin sets it
// with -ldflags "-X main.version=$(git describe --tags --always --dirty)".
// Other builds leave it empty and report the module version instead
// (v0.1.0 for go install ...@v0.1.0, a pseudo-version or (devel) for a
// build in a checkout).
var version string

func runVersion(_ context.Context, args []string, env environment) error {
	fs := newFlagSet("version", env.stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	printVersion(env.stdout, version, bi)
	return nil
}

// printVersion writes the release, the module and its version, the VCS
// commit the binary was built from and the Go toolchain. bi may be nil
// (a binary built without module support). Go stamps the commit only in
// a checkout whose .git is a folder, so a build in a git worktree has none:
// the stamped release (git describe) still names it.
func printVersion(w io.Writer, stamped string, bi *debug.BuildInfo) {
	module, modVersion, goVersion := "github.com/tickbench/tickbench", "unknown", runtime.Version()
	var rev, when, modified string
	if bi != nil {
		if bi.Main.Path != "" {
			module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			modVersion = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	release := stamped
	if release == "" {
		release = modVersion
	}
	fmt.Fprintf(w, "tickbench  %s\n", release)
	fmt.Fprintf(w, "module     %s %s\n", module, modVersion)
	switch {
	case rev == "":
		fmt.Fprintln(w, "commit     not in the build info (built outside a git checkout, as by go install, or in a git worktree)")
	default:
		line := rev
		if when != "" {
			line += " (" + when + ")"
		}
		switch modified {
		case "true":
			line += ", with local changes"
		case "false":
			line += ", clean"
		}
		fmt.Fprintf(w, "commit     %s\n", line)
	}
	fmt.Fprintf(w, "go         %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
}
