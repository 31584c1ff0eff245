package main

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestPrintVersion: the release is the stamped version, else the module's;
// the commit line says whether the tree had local changes, or that there
// was no checkout (go install from the module proxy).
func TestPrintVersion(t *testing.T) {
	checkout := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/tickbench/tickbench", Version: "v0.1.1-0.20261207145224-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-07T14:52:24Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/tickbench/tickbench", Version: "v0.1.0"}}
	platform := " " + runtime.GOOS + "/" + runtime.GOARCH
	for _, tt := range []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want          []string
	}{
		{"dist-bin", "v0.1.0-3-g0123456-dirty", checkout, []string{
			"tickbench  v0.1.0-3-g0123456-dirty",
			"module     github.com/tickbench/tickbench v0.1.1-0.20261207145224-0123456789ab+dirty",
			"commit     0123456789abcdef0123456789abcdef01234567 (2026-12-07T14:52:24Z), with local changes",
			"go         go1.26.0" + platform,
		}},
		{"go install @v0.1.0", "", installed, []string{
			"tickbench  v0.1.0",
			"module     github.com/tickbench/tickbench v0.1.0",
			"commit     not in the build info (built outside a git checkout, as by go install, or in a git worktree)",
			"go         go1.26.0" + platform,
		}},
		{"no build info", "", nil, []string{
			"tickbench  unknown",
			"module     github.com/tickbench/tickbench unknown",
			"commit     not in the build info (built outside a git checkout, as by go install, or in a git worktree)",
			"go         " + runtime.Version() + platform,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printVersion(&b, tt.stamped, tt.bi)
			if got, want := b.String(), strings.Join(tt.want, "\n")+"\n"; got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	clean := *checkout
	clean.Settings = []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}
	var b bytes.Buffer
	printVersion(&b, "", &clean)
	if !strings.Contains(b.String(), "commit     abc, clean\n") {
		t.Errorf("clean tree: got\n%s", b.String())
	}
}

// TestVersionCommand: tickbench version prints this binary's Go version
// and takes no arguments.
func TestVersionCommand(t *testing.T) {
	env, out, _ := testEnv()
	if err := run(context.Background(), []string{"version"}, env); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "tickbench  ") || !strings.HasPrefix(lines[1], "module     github.com/tickbench/tickbench ") {
		t.Errorf("got\n%s", out)
	}
	if want := "go         " + runtime.Version() + " "; !strings.HasPrefix(lines[len(lines)-1], want) {
		t.Errorf("last line %q, want it to start %q", lines[len(lines)-1], want)
	}
	env, _, _ = testEnv()
	var u usageError
	if err := run(context.Background(), []string{"version", "extra"}, env); !errors.As(err, &u) {
		t.Errorf("version extra: %v, want a usage error", err)
	}
}
