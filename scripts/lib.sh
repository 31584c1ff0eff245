# shellcheck shell=bash
# Helpers shared by scripts/kafka.sh and scripts/s3.sh. Source it, don't run it.
#
# Layout (all under the repo root, git-ignored through .tickbench/.gitignore):
#   .tickbench/cache/  jars and binaries, fetched once and reused
#   .tickbench/run/    state files, logs and data dirs of running servers

# Repo root from this file's location, so the scripts work in any clone and cwd.
TB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TB_DIR="$TB_ROOT/.tickbench"
TB_CACHE="$TB_DIR/cache"
TB_RUN="$TB_DIR/run"

# The servers these scripts start outlive them: they must not inherit the
# caller's other descriptors. One started under `flock LOCK cmd` (a soak's
# broker restart, say) would hold the lock for as long as it runs. 255 is
# bash's own (the script being read).
for _tb_fd in /proc/$$/fd/*; do
  _tb_fd=${_tb_fd##*/}
  if [[ $_tb_fd =~ ^[0-9]+$ ]] && ((_tb_fd > 2 && _tb_fd < 255)); then
    eval "exec ${_tb_fd}>&-"
  fi
done 2>/dev/null
unset _tb_fd

log() { printf '[%s] %s\n' "${TB_NAME:-tickbench}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Keep caches and state out of git without touching the repo's own .gitignore.
tb_init_dirs() {
  mkdir -p "$TB_CACHE" "$TB_RUN"
  [[ -f "$TB_DIR/.gitignore" ]] || printf '# local caches and server state of scripts/*.sh\n*\n' >"$TB_DIR/.gitignore"
}

# free_ports N: print N distinct free TCP ports on 127.0.0.1. All sockets stay
# open until every port is chosen so the kernel cannot hand out one twice; a
# small race with other processes remains, as with any port-0 trick.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# random_alnum N: N random characters from [A-Za-z0-9].
random_alnum() {
  local out
  # head closes the pipe early on purpose; ignore tr's SIGPIPE under pipefail.
  out="$(set +o pipefail; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1")"
  printf '%s' "$out"
}

# pid_matches PID PATTERN: true if PID is alive and its command line contains
# PATTERN. Guards against signalling an unrelated process after pid reuse.
pid_matches() {
  local pid="$1" pattern="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$pattern"* ]]
}

# stop_pid PID PATTERN GRACE_SECONDS: SIGTERM, wait up to GRACE_SECONDS, then SIGKILL.
stop_pid() {
  local pid="$1" pattern="$2" grace="$3" i
  pid_matches "$pid" "$pattern" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_matches "$pid" "$pattern" || return 0
    sleep 0.1
  done
  log "pid $pid still alive after ${grace}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_matches "$pid" "$pattern" || return 0
    sleep 0.1
  done
  die "could not stop pid $pid"
}

# read_state FILE VAR: print VAR's value from a KEY=VALUE state file (no eval).
read_state() {
  [[ -f "$1" ]] || return 0
  sed -n "s/^$2=//p" "$1" | tail -n 1
}

# tb_down PID_KEY MATCH GRACE: stop the server whose pid is under PID_KEY in
# $STATE (or in $STATE.tmp: a start interrupted before the server was ready),
# if MATCH is in its command line, then remove $DATA and the state files.
tb_down() {
  local key="$1" match="$2" grace="$3" pid
  pid="$(read_state "$STATE" "$key")"
  [[ -n "$pid" ]] || pid="$(read_state "$STATE.tmp" "$key")"
  if [[ -n "$pid" ]] && pid_matches "$pid" "$match"; then
    log "stopping pid $pid"
    stop_pid "$pid" "$match" "$grace"
  else
    log "not running"
  fi
  rm -rf "$DATA" "$STATE" "$STATE.tmp"
}

# tb_logs FILE WHAT: the last 50 lines of a server's log, or say there is none.
tb_logs() {
  if [[ -f "$1" ]]; then tail -n 50 "$1"; else echo "no $2 log at $1"; fi
}

# tb_dispatch USAGE ARGS...: run cmd_<first arg> (dashes as underscores) with
# the other args, or print the usage and exit 2.
tb_dispatch() {
  local usage="$1"
  shift
  local first="${1:-}"
  local fn="cmd_${first//-/_}"
  if [[ $# -ge 1 ]] && declare -F "$fn" >/dev/null; then
    shift
    "$fn" "$@"
  else
    echo "usage: $0 $usage" >&2
    exit 2
  fi
}
