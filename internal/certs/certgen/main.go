// Command certgen writes the local stack's TLS material (package certs)
// into -dir and prints the files as KEY=VALUE lines for a state file.
// scripts/certs.sh runs it with `go run`; it is no tickbench subcommand on
// purpose: the stack's scripts need it before any tickbench is built.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tickbench/tickbench/internal/certs"
)

func main() {
	dir := flag.String("dir", "", "directory to write the PEM files into (created)")
	lifetime := flag.Duration("lifetime", 7*24*time.Hour, "validity of the CA and the good certificates")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: certgen -dir DIR [-lifetime 168h]")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err == nil {
		var f certs.Files
		if f, err = certs.Generate(abs, time.Now(), *lifetime); err == nil {
			fmt.Println(strings.Join(f.Env(), "\n"))
			return
		}
	}
	fmt.Fprintln(os.Stderr, "certgen:", err)
	os.Exit(1)
}
