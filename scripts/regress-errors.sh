#!/usr/bin/env bash
# `make regress-errors`: the regression gate's error rates, by measurement.
# Runs the whole gate (scripts/regress.sh) TIMES times A/A, the HEAD
# revision against itself, and counts false alarms (target: at most 1 of
# 10); then TIMES times against the deliberately slowed build (-tags
# slowsink: ~20% more CPU per tick in the sink, sink/slowdown_on.go) and
# counts how many it caught (target: at least 9 of 10), and on which units.
# The three binaries are built once. GATE_WRAP, if set, is a command each
# gate runs under (a lock that keeps other heavy work off the machine).
# Logs and each gate's compare.txt: .tickbench/regress-errors/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TIMES="${TIMES:-10}"
KINDS="${KINDS:-aa slowed}"
out=.tickbench/regress-errors
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
read -r -a wrap <<<"${GATE_WRAP:-}"

echo "== building HEAD ($(git rev-parse --short HEAD)) from a worktree, the working tree, and the working tree with -tags slowsink"
wt=$(mktemp -d)
trap 'git worktree remove --force "$wt/src" >/dev/null 2>&1 || true; rm -rf "$wt"' EXIT
git worktree add -q --detach "$wt/src" HEAD
(cd "$wt/src" && go build -o "$out/head" ./cmd/tickbench)
git worktree remove --force "$wt/src"
go build -o "$out/tree" ./cmd/tickbench
go build -tags slowsink -o "$out/slowed" ./cmd/tickbench

for kind in $KINDS; do
  case $kind in
  aa) new="$out/tree" ;;
  slowed) new="$out/slowed" ;;
  *)
    echo "KINDS: $kind: allowed aa, slowed" >&2
    exit 2
    ;;
  esac
  flagged=0
  declare -A units=()
  for ((i = 1; i <= TIMES; i++)); do
    s=$SECONDS
    rc=0
    "${wrap[@]}" env BASE_BIN="$out/head" NEW_BIN="$new" bash scripts/regress.sh >"$out/$kind-$i.log" 2>&1 || rc=$?
    cp .tickbench/regress/compare.txt "$out/$kind-$i.compare.txt" 2>/dev/null || true
    if ! grep -q '^no regression: \|regression(s) at alpha' "$out/$kind-$i.compare.txt" 2>/dev/null; then
      echo "$kind $i: the gate failed to run (exit $rc); see $out/$kind-$i.log" >&2
      tail -20 "$out/$kind-$i.log" >&2
      exit 1
    fi
    regs=$(awk '$NF == "REGRESSED" || / REGRESSED$/ {print $1 " " $2}' "$out/$kind-$i.compare.txt" | tr '\n' ';')
    if [[ -n $regs ]]; then
      flagged=$((flagged + 1))
      for u in $(awk '/ REGRESSED$/ {print $2}' "$out/$kind-$i.compare.txt"); do
        units[$u]=$((${units[$u]:-0} + 1))
      done
    fi
    echo "$kind $i: exit $rc, $((SECONDS - s)) s, regressed: ${regs:-none}"
  done
  per=""
  for u in "${!units[@]}"; do per+=" $u ${units[$u]},"; done
  if [[ $kind == aa ]]; then
    echo "A/A: flagged $flagged of $TIMES (target: at most 1)${per:+; units:${per%,}}"
  else
    echo "slowed build: caught $flagged of $TIMES (target: at least 9)${per:+; units:${per%,}}"
  fi
  unset units
done
