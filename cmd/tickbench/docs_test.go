package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/tickbench/tickbench/internal/testrepo"
)

// The checks of README.md and docs/: a user's README without the project's
// own history in it, and documented commands that tickbench and the
// Makefile accept.

const readmeMaxLines = 130

var (
	// A commit hash in prose: 7 to 40 hex digits with a digit and a letter
	// (all-digit counts and all-letter words are not hashes).
	hexWord = regexp.MustCompile(`\b[0-9a-f]{7,40}\b`)
	// Words of the project's own work, not of the tool.
	processWord = regexp.MustCompile(`(?i)\b(issues?|sessions?|bars?)\b|\bthe build before\b|\bbefore this change\b`)
	// A heading that dates a diary entry: a day and month, a time of day,
	// an ISO date.
	diaryHeading = regexp.MustCompile(`(?i)\b\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}\b|\b(morning|afternoon|evening|yesterday|today)\b|\b\d{4}-\d{2}-\d{2}\b`)
	mdLink       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	inlineCode   = regexp.MustCompile("`([^`]+)`")
	docShellVar  = regexp.MustCompile(`\$[A-Za-z_({]`)
	makeTarget   = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_.-]*(?:[ \t]+[A-Za-z0-9][A-Za-z0-9_.-]*)*)[ \t]*:([^=]|$)`)
	makeVarName  = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	commandWord  = regexp.MustCompile(`^[a-z]+$`)
)

// proseProblems: commit hashes, dated headings (outside fenced blocks,
// where # starts a comment) and, in the README, process words and more
// than readmeMaxLines lines.
func proseProblems(name, text string, readme bool) []string {
	var out []string
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if readme && len(lines) > readmeMaxLines {
		out = append(out, fmt.Sprintf("%s: %d lines, more than %d", name, len(lines), readmeMaxLines))
	}
	fenced := false
	for i, line := range lines {
		at := fmt.Sprintf("%s:%d", name, i+1)
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		for _, w := range hexWord.FindAllString(line, -1) {
			if strings.ContainsAny(w, "0123456789") && strings.ContainsAny(w, "abcdef") {
				out = append(out, fmt.Sprintf("%s: %q looks like a commit hash", at, w))
			}
		}
		if !fenced && strings.HasPrefix(line, "#") {
			if m := diaryHeading.FindString(line); m != "" {
				out = append(out, fmt.Sprintf("%s: heading %q is dated (%q)", at, line, m))
			}
		}
		if readme {
			if m := processWord.FindString(line); m != "" {
				out = append(out, fmt.Sprintf("%s: %q is about the project's work, not the tool", at, m))
			}
		}
	}
	return out
}

// docCommand is a command line of a doc: in a fenced block (checked in
// full) or an inline code span (its flag names and make targets checked).
type docCommand struct {
	at     string
	line   string
	inline bool
}

// docCommands finds the lines of fenced blocks that start with tickbench or
// make (after an optional "$ " prompt, continuation lines joined), and the
// inline code spans that do, outside fenced blocks (a paragraph's lines
// joined, since a span may wrap; a table row is a paragraph of its own).
func docCommands(name, text string) []docCommand {
	var out []docCommand
	lines := strings.Split(text, "\n")
	fenced := false
	var para []string
	paraAt := ""
	endPara := func() {
		for _, m := range inlineCode.FindAllStringSubmatch(strings.Join(para, " "), -1) {
			if isCommand(m[1]) {
				out = append(out, docCommand{at: paraAt, line: m[1], inline: true})
			}
		}
		para = nil
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		at := fmt.Sprintf("%s:%d", name, i+1)
		if strings.HasPrefix(line, "```") {
			endPara()
			fenced = !fenced
			continue
		}
		if !fenced {
			if line == "" || strings.HasPrefix(line, "|") || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "- ") {
				endPara()
			}
			if line != "" {
				if len(para) == 0 {
					paraAt = at
				}
				para = append(para, line)
			}
			if strings.HasPrefix(line, "|") || strings.HasPrefix(line, "#") {
				endPara()
			}
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if isCommand(line) || strings.Contains(line, "&& make ") || strings.Contains(line, "&& tickbench ") {
			out = append(out, docCommand{at: at, line: line})
		}
	}
	endPara()
	return out
}

func isCommand(s string) bool {
	for _, p := range []string{"tickbench ", "./bin/tickbench ", "bin/tickbench ", "make "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return s == "make"
}

// splitCommandLine splits a command line as a shell would into simple commands
// (at unquoted &&, ||, ;, |) of words, dropping an unquoted # comment.
func splitCommandLine(line string) ([][]string, error) {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed %c", c)
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds, nil
		case c == ';' || c == '|' || c == '&':
			endCmd()
			if i+1 < len(line) && (line[i+1] == '|' || line[i+1] == '&') {
				i++
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}

func isCommandName(name string) bool {
	for _, c := range commands {
		if c.name == name {
			return true
		}
	}
	return false
}

// errParsed stops a command once its flags parsed.
var errParsed = errors.New("flags parsed")

// commandFlags is the flag set a tickbench command builds, or nil for an
// unknown command.
func commandFlags(name string) *flag.FlagSet {
	var got *flag.FlagSet
	defer func(old func(*flag.FlagSet) error) { flagsParsed = old }(flagsParsed)
	flagsParsed = func(fs *flag.FlagSet) error { got = fs; return errParsed }
	env, _, _ := testEnv()
	args := []string{name}
	if name == "query" {
		args = append(args, "SELECT 1") // query wants its SQL before parsing
	}
	if err := run(context.Background(), args, env); !errors.Is(err, errParsed) {
		return nil
	}
	return got
}

// parseCommand parses a whole tickbench command line with its command's
// own flags and stops before it runs.
func parseCommand(args []string) error {
	defer func(old func(*flag.FlagSet) error) { flagsParsed = old }(flagsParsed)
	flagsParsed = func(*flag.FlagSet) error { return errParsed }
	env, _, _ := testEnv()
	err := run(context.Background(), args, env)
	if errors.Is(err, errParsed) || errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("ran instead of stopping after its flags parsed")
	}
	return err
}

// flagNames checks that every -flag or --flag word of words is a flag of
// the command: the check for lines with placeholders or shell variables,
// whose values cannot parse.
func flagNames(cmd string, words []string) error {
	fs := commandFlags(cmd)
	if fs == nil {
		return fmt.Errorf("tickbench %s: no such command", cmd)
	}
	for _, w := range words {
		parts := []string{w}
		if strings.HasPrefix(w, "-") && strings.Contains(w, "/-") {
			parts = strings.Split(w, "/") // --flush-records/--flush-bytes
		}
		for _, part := range parts {
			part = strings.Trim(part, "[](),…")
			name, _, _ := strings.Cut(strings.TrimLeft(part, "-"), "=")
			if !strings.HasPrefix(part, "-") || name == "" || unicode.IsDigit(rune(name[0])) || name == "h" || name == "help" {
				continue // not a flag, a negative number, or -h
			}
			if fs.Lookup(name) == nil {
				return fmt.Errorf("tickbench %s: no flag --%s", cmd, name)
			}
		}
	}
	return nil
}

// makefile is what the docs may use of the Makefile: its targets, and the
// variables a make command line may set (those the Makefile or the scripts
// it runs read).
type makefile struct {
	targets map[string]bool
	text    string // the Makefile and scripts/*.sh, for variable names
}

func readMakefile(t *testing.T, root string) makefile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mf := makefile{targets: map[string]bool{}, text: string(b)}
	for _, line := range strings.Split(string(b), "\n") {
		if m := makeTarget.FindStringSubmatch(line); m != nil {
			for _, name := range strings.Fields(m[1]) {
				mf.targets[name] = true
			}
		}
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		mf.text += string(b)
	}
	return mf
}

// makeArgsCommand is the tickbench command a target passes ARGS to.
var makeArgsCommand = map[string]string{"bench": "bench", "bench-matrix": "bench", "ceiling": "ceiling", "query": "query", "ddl": "catalog"}

func (mf makefile) check(words []string) error {
	var targets []string
	vars := map[string]string{}
	for _, w := range words[1:] {
		w = strings.Trim(w, "[]") // [VAR=value]: optional
		if strings.HasPrefix(w, "-") || strings.ToUpper(w) == w && !strings.Contains(w, "=") {
			continue // make's own flags; a placeholder (make TARGET)
		}
		if name, val, isVar := strings.Cut(w, "="); isVar {
			vars[name] = val
		} else {
			targets = append(targets, w)
		}
	}
	if len(targets) == 0 {
		targets = []string{"all"}
	}
	for _, t := range targets {
		if !mf.targets[t] {
			return fmt.Errorf("make %s: the Makefile has no target %s", t, t)
		}
	}
	for name, val := range vars {
		if !makeVarName.MatchString(name) || !strings.Contains(mf.text, name) {
			return fmt.Errorf("make %s: neither the Makefile nor scripts/ read %s", strings.Join(words[1:], " "), name)
		}
		if name != "ARGS" {
			continue
		}
		args, err := splitCommandLine(val)
		if err != nil || len(args) > 1 {
			return fmt.Errorf("ARGS=%q: not one command's words", val)
		}
		for _, t := range targets {
			if cmd, ok := makeArgsCommand[t]; ok && len(args) == 1 {
				if err := flagNames(cmd, args[0]); err != nil {
					return fmt.Errorf("make %s ARGS=%q: %w", t, val, err)
				}
			}
		}
	}
	return nil
}

// commandProblems checks each documented command: a fenced tickbench line
// parses in full with the command's flags (or, with shell variables in it,
// names only flags that exist); an inline one names only flags that exist;
// a make line names targets of the Makefile.
func commandProblems(mf makefile, cmds []docCommand) ([]string, checked) {
	var out []string
	var n checked
	for _, c := range cmds {
		parts, err := splitCommandLine(c.line)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %s: %v", c.at, c.line, err))
			continue
		}
		for _, words := range parts {
			for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
				words = words[1:] // VAR=value before the command
			}
			if len(words) == 0 {
				continue
			}
			var err error
			switch filepath.Base(words[0]) {
			case "make":
				n.make++
				err = mf.check(words)
			case "tickbench":
				switch {
				case len(words) < 2 || words[1] == "help" || words[1] == "-h":
					// the command list: nothing to parse
				case c.inline && !commandWord.MatchString(words[1]):
					// inline text that only starts with the name, e.g. output
				case !isCommandName(words[1]):
					err = fmt.Errorf("tickbench %s: no such command", words[1])
				case c.inline || docShellVar.MatchString(strings.Join(words, " ")):
					n.names++
					err = flagNames(words[1], words[2:])
				default:
					n.parsed++
					err = parseCommand(words[1:])
				}
			default:
				continue
			}
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %s: %v", c.at, c.line, err))
			}
		}
	}
	return out, n
}

// checked counts the command lines checked, by how.
type checked struct{ parsed, names, make int }

// slug is the anchor GitHub gives a heading.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors are the heading anchors of a Markdown file.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		s := slug(strings.TrimLeft(line, "#"))
		for n := 1; out[s]; n++ {
			s = fmt.Sprintf("%s-%d", slug(strings.TrimLeft(line, "#")), n)
		}
		out[s] = true
	}
	return out
}

// linkProblems: every relative link of the file at path leads to a file
// of the repository, and to a heading of it when it names one.
func linkProblems(root, path, text string) []string {
	var out []string
	rel, _ := filepath.Rel(root, path)
	for i, line := range strings.Split(text, "\n") {
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), file)
			}
			at := fmt.Sprintf("%s:%d", rel, i+1)
			b, err := os.ReadFile(dest)
			if err != nil {
				if fi, serr := os.Stat(dest); serr == nil && fi.IsDir() && anchor == "" {
					continue
				}
				out = append(out, fmt.Sprintf("%s: link %s: no such file", at, target))
				continue
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") && !anchors(string(b))[anchor] {
				out = append(out, fmt.Sprintf("%s: link %s: no heading #%s there", at, target, anchor))
			}
		}
	}
	return out
}

// docFiles are the README, CHANGELOG, docs/*.md and results/README.md.
func docFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md"), filepath.Join(root, "results", "README.md"))
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = string(b)
	}
	return files
}

// TestREADMEIsForUsers: README.md is at most readmeMaxLines lines and has
// no commit hashes, no words of the project's own work ("issue",
// "session", "bar", build against build) and no dated diary headings;
// docs/ has no commit hashes and no dated headings either.
func TestREADMEIsForUsers(t *testing.T) {
	root := testrepo.Root(t)
	for path, text := range docFiles(t, root) {
		rel, _ := filepath.Rel(root, path)
		if rel == "CHANGELOG.md" {
			continue // history is what it is for
		}
		for _, p := range proseProblems(rel, text, rel == "README.md") {
			t.Error(p)
		}
	}
}

// TestDocsCommands: every fenced tickbench command line of README.md and
// docs/*.md parses with the command's own flag set (a line with shell
// variables: names only flags that exist), every inline one names only
// flags that exist, and every make command names targets of the Makefile
// and variables it reads (with ARGS checked against the command the target
// runs). Every relative link leads to a file and heading that exist.
func TestDocsCommands(t *testing.T) {
	root := testrepo.Root(t)
	t.Chdir(root) // documented paths (--workload bench/testdata/...) are from the root
	mf := readMakefile(t, root)
	var n checked
	for path, text := range docFiles(t, root) {
		rel, _ := filepath.Rel(root, path)
		problems, c := commandProblems(mf, docCommands(rel, text))
		for _, p := range problems {
			t.Error(p)
		}
		n.parsed, n.names, n.make = n.parsed+c.parsed, n.names+c.names, n.make+c.make
		for _, p := range linkProblems(root, path, text) {
			t.Error(p)
		}
	}
	t.Logf("tickbench command lines parsed in full: %d; checked by flag names (inline, or with shell variables): %d; make command lines: %d", n.parsed, n.names, n.make)
	if n.parsed < 30 || n.names < 30 || n.make < 30 {
		t.Errorf("checked %+v: the extraction has missed the docs' commands", n)
	}
}

// TestDocsChecksCatchMistakes: the checks above fail a doc with each kind
// of mistake, and pass its corrected lines.
func TestDocsChecksCatchMistakes(t *testing.T) {
	root := testrepo.Root(t)
	t.Chdir(root)
	mf := readMakefile(t, root)
	for _, tt := range []struct {
		doc, want string
	}{
		{"```sh\ntickbench bench --rate 5000 --flush-recs 10\n```\n", "flag provided but not defined: -flush-recs"},
		{"```sh\ntickbench bench --rate fast\n```\n", `invalid value "fast" for flag -rate`},
		{"```sh\ntickbench produce --shard I/3 --start-at $START --reslt F\n```\n", "tickbench produce: no flag --reslt"},
		{"```sh\ntickbench benchmark --rate 5\n```\n", "tickbench benchmark: no such command"},
		{"```sh\nmake up && make bench-matrx RATE=5000\n```\n", "the Makefile has no target bench-matrx"},
		{"```sh\nmake bench RAET=5000\n```\n", "neither the Makefile nor scripts/ read RAET"},
		{"```sh\nmake bench ARGS=\"--strategies jsonl --flush-recs 5\"\n```\n", "tickbench bench: no flag --flush-recs"},
		{"```sh\ntickbench ceiling --strategies jsonl \\\n  --max-duraton 10m\n```\n", "flag provided but not defined: -max-duraton"},
		{"the table: `tickbench sink --group G --prefx P`\n", "tickbench sink: no flag --prefx"},
		{"or `make regres`\n", "the Makefile has no target regres"},
	} {
		problems, _ := commandProblems(mf, docCommands("doc.md", tt.doc))
		got := strings.Join(problems, "\n")
		if !strings.Contains(got, tt.want) {
			t.Errorf("%q: problems %q, want one with %q", tt.doc, got, tt.want)
		}
	}
	good := "```sh\nmake up && make bench STACK=local RATE=20000 ARGS=\"--strategies parquet-zstd\" # a comment\n" +
		"tickbench bench --rate 5000 --duration 20s --strategies json-per-tick,jsonl --s3-faults latency=20ms\n" +
		"tickbench query --strategy jsonl \"SELECT count(*) FROM ticks\"\n" +
		"tickbench compare --per-file median base/ new/\n" +
		"tickbench produce --shard 0/3 --start-at $START --result $RUN/produce-0.json\n```\n" +
		"`tickbench merge [--out F] RESULT…`, `tickbench bench --flush-records/--flush-bytes`\n"
	if p, n := commandProblems(mf, docCommands("good.md", good)); len(p) > 0 || n != (checked{parsed: 3, names: 3, make: 2}) {
		t.Errorf("good lines: problems %q, checked %+v, want 3 parsed, 3 by names, 2 make", p, n)
	}

	for _, tt := range []struct {
		text, want string
		readme     bool
	}{
		{"the build (1ee63f1) took 4.8 s\n", `"1ee63f1" looks like a commit hash`, false},
		{"## 2 December, afternoon\n", "is dated", false},
		{"### Run of 2026-12-02\n", "is dated", false},
		{"the issue's target held\n", "about the project's work", true},
		{"as the session measured\n", "about the project's work", true},
		{"the build before the pipeline\n", "about the project's work", true},
		{strings.Repeat("a line\n", readmeMaxLines+1), "more than 130", true},
	} {
		got := strings.Join(proseProblems("README.md", tt.text, tt.readme), "\n")
		if !strings.Contains(got, tt.want) {
			t.Errorf("%q: problems %q, want one with %q", tt.text, got, tt.want)
		}
	}
	if p := proseProblems("README.md", "## Run a benchmark\n1,500,000 ticks, run 20261207T145224Z-95cc97, e2e p99\n```sh\n# start 2 Dec, afternoon\n```\n", true); len(p) > 0 {
		t.Errorf("good README lines: %q", p)
	}

	dir := t.TempDir()
	doc := filepath.Join(dir, "a.md")
	if err := os.WriteFile(filepath.Join(dir, "b.md"), []byte("# B\n## The merged result\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := "[b](b.md) [m](b.md#the-merged-result) [x](missing.md) [y](b.md#nope) [web](https://example.com/x)\n"
	got := strings.Join(linkProblems(dir, doc, links), "\n")
	if !strings.Contains(got, "link missing.md: no such file") || !strings.Contains(got, "link b.md#nope: no heading #nope") || strings.Count(got, "\n") != 1 {
		t.Errorf("links: %q", got)
	}
}
