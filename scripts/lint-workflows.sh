#!/usr/bin/env bash
# `make lint-workflows` (part of `make test`): checks .github/workflows/ with
# actionlint (built from source through the Go module proxy, at the version
# below), checks that every `make TARGET` a workflow runs is a target of the
# Makefile, and that both checks fail on a deliberately broken copy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ACTIONLINT=github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

# make_targets FILE: fails naming any `make TARGET` of FILE that the
# Makefile lacks.
make_targets() {
  local t bad=0
  for t in $(grep -oE '\bmake [a-z][a-z0-9-]*' "$1" | awk '{print $2}' | sort -u); do
    if ! make -n "$t" >/dev/null 2>&1; then
      echo "$1: runs make $t, which the Makefile does not have" >&2
      bad=1
    fi
  done
  return $bad
}

lint() { go run "$ACTIONLINT" -no-color "$@"; }

files=(.github/workflows/*.yml)
lint "${files[@]}"
for f in "${files[@]}"; do make_targets "$f"; done

# A broken copy must fail both checks: a misspelt key and a missing target.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e 's/runs-on:/run-on:/' -e 's/make regress /make regression /' .github/workflows/perf.yml >"$tmp/broken.yml"
if lint "$tmp/broken.yml" >"$tmp/out" 2>&1; then
  echo "actionlint passed a broken workflow (runs-on misspelt):" >&2
  cat "$tmp/out" >&2
  exit 1
fi
grep -q 'run-on' "$tmp/out" || { echo "actionlint failed the broken copy, but not on run-on:" >&2; cat "$tmp/out" >&2; exit 1; }
if make_targets "$tmp/broken.yml" 2>/dev/null; then
  echo "the make-target check passed a workflow running make regression" >&2
  exit 1
fi
echo "workflows: ${files[*]} pass actionlint and name existing make targets; a broken copy fails both"
