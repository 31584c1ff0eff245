package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/stack"
)

// TestLocalSecretsStayHidden runs bench, produce, inject and sink against
// the real broker's SCRAM listener and the real S3 server, with their real
// secrets (the per-start SCRAM password, given by state file, by env and on
// the command line; the S3 secret key), plus a wrong password, and greps
// everything they printed and wrote: no secret may appear.
func TestLocalSecretsStayHidden(t *testing.T) {
	if os.Getenv("TICKBENCH_LOCAL_STACK") == "" {
		t.Skip("needs the real local stack: run `make test`, or `make up` and set TICKBENCH_LOCAL_STACK=1")
	}
	t.Chdir(testrepo.Root(t)) // --stack local reads .tickbench/run
	_, sec, err := stack.LocalSCRAM(stack.LocalStateDir)
	if err != nil {
		t.Fatal(err)
	}
	local, err := stack.Local(stack.LocalStateDir)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "wrong-pw-" + fmt.Sprint(time.Now().UnixNano())
	secrets := map[string]string{"SCRAM password": sec.SASLPassword, "S3 secret key": local.SecretKey, "wrong password": wrong}

	out := t.TempDir()
	var printed bytes.Buffer
	id := fmt.Sprint(time.Now().UnixNano())
	topic := "secrets-" + id
	runCmd := func(wantErr bool, env map[string]string, args ...string) error {
		t.Helper()
		var stdout, stderr bytes.Buffer
		e := environment{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := run(ctx, args, e)
		if (err != nil) != wantErr {
			t.Fatalf("tickbench %s: err = %v (want error %v)\nstdout:\n%s\nstderr:\n%s", args[0], err, wantErr, &stdout, &stderr)
		}
		printed.Write(stdout.Bytes())
		printed.Write(stderr.Bytes())
		if err != nil {
			printed.WriteString(err.Error())
		}
		return err
	}
	scram := []string{"--stack", "local", "--sasl-mechanism", "scram-sha-512"}
	runCmd(false, nil, append([]string{"bench", "--rate", "1000", "--duration", "2s", "--out", out, "--topic", "bench-" + topic}, scram...)...)
	runCmd(false, nil, append([]string{"produce", "--count", "2000", "--topic", topic}, scram...)...)
	runCmd(false, nil, append([]string{"inject", "--count", "1000", "--topic", topic}, scram...)...)
	runCmd(false, map[string]string{"TICKBENCH_SASL_PASSWORD": sec.SASLPassword},
		append([]string{"sink", "--topic", topic, "--group", "g-" + id, "--prefix", "secrets/" + id + "/", "--until-caught-up", "--sasl-user", sec.SASLUser}, scram...)...)
	runCmd(false, nil, append([]string{"produce", "--count", "10", "--topic", topic, "--sasl-user", sec.SASLUser, "--sasl-password", sec.SASLPassword}, scram...)...)
	if err := runCmd(true, nil, append([]string{"produce", "--count", "10", "--topic", topic, "--sasl-user", sec.SASLUser, "--sasl-password", wrong}, scram...)...); !strings.Contains(err.Error(), "SASL") {
		t.Fatalf("wrong password: %v, want a SASL error", err)
	}

	texts := map[string][]byte{"printed output": printed.Bytes()}
	files := 0
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		texts[path] = b
		files++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 || !strings.Contains(printed.String(), "consumed 3000") {
		t.Fatalf("%d result files; printed:\n%s\nwant the bench's files and the sink's line", files, &printed)
	}
	for what, secret := range secrets {
		for where, b := range texts {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the %s appears in %s", what, where)
			}
		}
	}
}
