# shellcheck shell=bash
# Helpers shared by scripts/services/*.sh. Source it; do not execute it.

svc_log() { printf '[services:%s] %s\n' "${SVC_NAME:-?}" "$*" >&2; }
svc_die() {
  printf '[services:%s] ERROR: %s\n' "${SVC_NAME:-?}" "$*" >&2
  exit 1
}

# svc_port_open HOST PORT -> 0 if something accepts TCP connections there (1 s bound).
svc_port_open() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# svc_now -> seconds since the epoch (integer)
svc_now() { date +%s; }

# svc_pid_alive PIDFILE PATTERN -> prints the pid and returns 0 when the pid in PIDFILE is alive
# AND its command line contains PATTERN (guards against a recycled pid). Removes a stale pid file.
svc_pid_alive() {
  local pidfile=$1 pattern=$2 pid cmd
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) &&
    [[ $cmd == *"$pattern"* ]]; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$pidfile"
  return 1
}

# svc_ours PIDFILE PATTERN READYFILE HOST PORT FOREIGN_OK -> what runs on HOST:PORT, logged:
#   0  nothing to do: our process (see svc_pid_alive) passed the readiness probe (READYFILE holds
#      its pid) and the port is open, or another process holds the port and the command
#      FOREIGN_OK accepts it (e.g. it serves our pool)
#   1  our process runs but was never confirmed ready: its pid is printed, the caller waits for it
#   2  nothing: the caller starts one
#   3  another process holds the port and FOREIGN_OK refuses it
svc_ours() {
  local pid
  if pid=$(svc_pid_alive "$1" "$2"); then
    printf '%s\n' "$pid"
    if [[ $(cat "$3" 2>/dev/null) == "$pid" ]] && svc_port_open "$4" "$5"; then
      svc_log "already running (pid $pid) on $4:$5"
      return 0
    fi
    # Started earlier but never confirmed ready (or start was interrupted): wait for it.
    svc_log "process $pid exists but was not confirmed ready yet; waiting"
    return 1
  fi
  svc_port_open "$4" "$5" || return 2
  "$6" || return 3
  svc_log "something already answers on $4:$5 (not started by this script); leaving it alone"
}

# svc_running PID -> 0 while PID exists and is not a zombie (an orphaned daemon is reaped by
# whatever PID 1 is, which in containers can take a while or never happen).
svc_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# svc_stop_pid PID SECONDS -> SIGTERM, wait up to SECONDS, then SIGKILL (and wait 5 s more).
svc_stop_pid() {
  local pid=$1 bound=$2 deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$(($(svc_now) + bound))
  while svc_running "$pid"; do
    if (($(svc_now) >= deadline)); then
      svc_log "pid $pid still alive after ${bound}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(($(svc_now) + 5))
      while svc_running "$pid" && (($(svc_now) < deadline)); do sleep 0.1; done
      break
    fi
    sleep 0.1
  done
  ! svc_running "$pid"
}

# svc_lock FILE -> take an exclusive lock (fd 9) for the rest of the script so that two concurrent
# `start`s (e.g. CI and a developer shell) do not race. Bounded to 180 s.
svc_lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  flock -w 180 9 || svc_die "could not lock $1 within 180s (another start/stop is stuck?)"
}

# svc_tail FILE [N] -> print the last N lines of FILE to stderr, indented.
svc_tail() {
  local f=$1 n=${2:-60}
  if [[ -s $f ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" | sed 's/^/  | /' >&2
    printf -- '-----\n' >&2
  fi
}

# svc_errors FILE -> print the last ERROR/FATAL/"Caused by" lines of FILE (the likely root cause).
svc_errors() {
  local f=$1
  [[ -s $f ]] || return 0
  if grep -qE 'ERROR|FATAL|Caused by' "$f"; then
    printf -- '----- errors in %s -----\n' "$f" >&2
    grep -E 'ERROR|FATAL|Caused by' "$f" | tail -n 8 | cut -c1-300 | sed 's/^/  ! /' >&2
  fi
}
