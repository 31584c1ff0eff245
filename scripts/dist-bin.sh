#!/usr/bin/env bash
# `make dist-bin`: release binaries of tickbench for linux and darwin on
# amd64 and arm64, into dist/tickbench-OS-ARCH with dist/SHA256SUMS, built
# with -trimpath and the release stamped: -X main.version=VERSION (default
# `git describe --tags --always --dirty`), which `tickbench version` prints.
#
# tickbench links DuckDB through cgo (lake/localsql, imported by bench, for
# the local SQL check and `tickbench query`), so there is no CGO_ENABLED=0
# build: every binary needs a C compiler for its platform, and its C++
# runtime (DuckDB's static library is C++). The host's own platform uses
# go env CC; another platform uses CC_OS_ARCH when set (e.g.
# CC_linux_arm64=aarch64-linux-gnu-gcc, CC_darwin_arm64="zig cc -target
# aarch64-macos"), else the usual cross compiler's name if it is on PATH
# (aarch64-linux-gnu-gcc, x86_64-linux-gnu-gcc; osxcross's o64-clang and
# oa64-clang; clang -arch on a Mac). A platform without one is skipped and
# named at the end; the target fails if a build fails or none was built.
#
# Env: VERSION, PLATFORMS (default "linux/amd64 linux/arm64 darwin/amd64
# darwin/arm64"), OUT (default dist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo unknown)}"
PLATFORMS="${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
OUT="${OUT:-dist}"
host="$($GO env GOHOSTOS)/$($GO env GOHOSTARCH)"

# compiler OS ARCH: the C compiler for OS/ARCH, or nothing.
compiler() {
  local os=$1 arch=$2 var="CC_$1_$2" name=""
  if [[ -n "${!var:-}" ]]; then
    echo "${!var}"
    return
  fi
  if [[ "$os/$arch" == "$host" ]]; then
    $GO env CC
    return
  fi
  case "$os/$arch" in
  linux/arm64) name=aarch64-linux-gnu-gcc ;;
  linux/amd64) name=x86_64-linux-gnu-gcc ;;
  darwin/amd64) name=o64-clang ;;
  darwin/arm64) name=oa64-clang ;;
  esac
  if [[ -n "$name" ]] && command -v "$name" >/dev/null; then
    echo "$name"
  elif [[ "$os" == darwin && "${host%/*}" == darwin ]]; then
    case "$arch" in amd64) echo "clang -arch x86_64" ;; arm64) echo "clang -arch arm64" ;; esac
  fi
}

mkdir -p "$OUT"
built=() skipped=()
for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/}
  cc="$(compiler "$os" "$arch")"
  if [[ -z "$cc" ]]; then
    skipped+=("$p (no C compiler: set CC_${os}_${arch})")
    continue
  fi
  bin="$OUT/tickbench-$os-$arch"
  echo "dist-bin: $p with CC=$cc -> $bin"
  CGO_ENABLED=1 GOOS=$os GOARCH=$arch CC="$cc" \
    $GO build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$bin" ./cmd/tickbench
  built+=("$bin")
done

if ((${#built[@]} == 0)); then
  echo "dist-bin: nothing built; skipped: ${skipped[*]}" >&2
  exit 1
fi
(
  cd "$OUT"
  names=()
  for b in "${built[@]}"; do names+=("${b##*/}"); done
  if command -v sha256sum >/dev/null; then sha256sum "${names[@]}"; else shasum -a 256 "${names[@]}"; fi >SHA256SUMS
)
echo "dist-bin: $VERSION: ${built[*]} (checksums in $OUT/SHA256SUMS)"
for s in "${skipped[@]}"; do echo "dist-bin: skipped $s"; done
