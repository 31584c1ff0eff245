#!/usr/bin/env bash
# A Python venv with pyarrow, an independent Parquet reader for the tests
# (scripts/check_parquet.py). Created once under .tickbench/cache/venv and
# reused while the pinned version and the Python interpreter are unchanged,
# so a cached call takes well under a second.
#
# Usage: scripts/pyenv.sh
# Prints the venv's python path on stdout; progress and errors go to stderr.
#
# Env overrides: TICKBENCH_PYTHON interpreter to build the venv from
# (default python3; pyarrow needs 3.10 or newer).
set -euo pipefail

TB_NAME=pyenv # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYARROW_VERSION=26.0.1
PYTHON="${TICKBENCH_PYTHON:-python3}"
VENV="$TB_CACHE/venv"
# The stamp names what the venv was built with; any change rebuilds it.
STAMP="$VENV/.tickbench-stamp"

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.10+ or set TICKBENCH_PYTHON"
want="pyarrow==$PYARROW_VERSION $("$PYTHON" -c 'import sys; print(sys.version.split()[0])') $(command -v "$PYTHON")"

ready() { [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }

if ! ready; then
  tb_init_dirs
  # One builder at a time: parallel test runs wait here, then reuse.
  exec 9>"$TB_CACHE/venv.lock"
  flock 9
  if ! ready; then
    log "creating $VENV with pyarrow $PYARROW_VERSION (once; later calls reuse it)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "$PYTHON -m venv failed (on Debian: apt-get install python3-venv)"
    if ! "$VENV/bin/python" -m pip install --no-input --disable-pip-version-check -q "pyarrow==$PYARROW_VERSION" >&2; then
      rm -rf "$VENV"
      die "pip install pyarrow==$PYARROW_VERSION failed (output above): it needs the Python package index reachable, or a wheel in PIP_FIND_LINKS"
    fi
    "$VENV/bin/python" -c 'import pyarrow.parquet' || { rm -rf "$VENV"; die "pyarrow installed but does not import"; }
    printf '%s\n' "$want" >"$STAMP"
  fi
fi
printf '%s\n' "$VENV/bin/python"
