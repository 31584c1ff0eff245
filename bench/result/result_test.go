package result

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestThisMachine: a result names the machine and the versions of what
// produced its numbers.
func TestThisMachine(t *testing.T) {
	if m := ThisMachine(); runtime.GOOS == "linux" && (m.CPUModel == "" || m.Memory < 1<<20) {
		t.Errorf("linux machine without cpu model or memory: %+v", m)
	}
	// Test binaries carry no dependency list, so the reading is tested on
	// a build info like a release binary's.
	rev, mods := buildVersions(&debug.BuildInfo{
		Main: debug.Module{Path: "github.com/tickbench/tickbench", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/twmb/franz-go", Version: "v1.22.3"},
			{Path: "golang.org/x/sync", Version: "v0.25.0"},
		},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}},
	})
	if rev != "abc123+dirty" || len(mods) != 1 || mods["github.com/twmb/franz-go"] != "v1.22.3" {
		t.Errorf("build versions: %q %v; want abc123+dirty and only franz-go v1.22.3", rev, mods)
	}
}
