#!/usr/bin/env bash
# The baseline for bench/deploy-overhead.mjs: what `pave deploy --wait` does, done by hand. It starts
# `node server.cjs` in DIR once per PORT, with PORT set, and polls each one's GET /healthz until it answers 200.
# Like Pave's process runtime, every workload has its own polling loop: probe, then wait INTERVAL_MS, then
# probe again. A probe is a plain HTTP/1.1 request over bash's /dev/tcp and the wait is a `read -t` on a pipe
# that never gets data, so polling starts no processes. When every server answers, the script prints
# "ready ELAPSED_MS" (from the script's start, or from the command) and then reads commands from stdin, one
# per line:
#   restart  stop every server (SIGTERM, then wait for it to exit), start them all again, poll, "ready MS"
#   stop     (or end of input) stop every server and exit 0
# It exits 1 if a server exits or is not ready within BASELINE_TIMEOUT_S seconds (default 30), after stopping
# the servers.
#
# Usage: baseline.sh DIR INTERVAL_MS PORT...
set -uo pipefail

started=$EPOCHREALTIME
dir=$1
interval_ms=$2
shift 2
ports=("$@")
timeout_s=${BASELINE_TIMEOUT_S:-30}
interval=$(printf '%d.%03d' $((interval_ms / 1000)) $((interval_ms % 1000)))
pids=()
exec {never}<> <(:)

stop_all() {
  if ((${#pids[@]} > 0)); then
    kill -TERM "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
  fi
  pids=()
}
trap stop_all EXIT
trap 'exit 143' TERM INT

start_all() {
  local port
  for port in "${ports[@]}"; do
    (cd "$dir" && PORT=$port exec node server.cjs) &
    pids+=($!)
  done
}

# True when GET /healthz on 127.0.0.1:$1 answers 200.
probe() {
  local fd status
  { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$fd"
  IFS= read -r -t 2 status <&"$fd"
  exec {fd}>&-
  [[ $status == "HTTP/1."?" 200"* ]]
}

# Polls port $1 (served by pid $2) until it is ready; gives up when the server exits or after timeout_s.
wait_ready() {
  local deadline=$((SECONDS + timeout_s))
  until probe "$1"; do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "the server on port $1 exited" >&2
      return 1
    fi
    ((SECONDS < deadline)) || return 1
    read -r -t "$interval" -u "$never"
  done
  return 0 # not the status of the loop: that is the timed-out read's
}

poll_all() {
  local index pollers=() failed=0 poller
  for index in "${!ports[@]}"; do
    wait_ready "${ports[index]}" "${pids[index]}" &
    pollers+=($!)
  done
  for poller in "${pollers[@]}"; do
    wait "$poller" || failed=1
  done
  return $failed
}

elapsed_ms() {
  local now=${EPOCHREALTIME/[.,]/} from=${1/[.,]/}
  echo $(((now - from) / 1000))
}

start_all
if ! poll_all; then
  echo "not every server was ready within ${timeout_s} s" >&2
  exit 1
fi
echo "ready $(elapsed_ms "$started")"

while IFS= read -r command; do
  case $command in
    restart)
      started=$EPOCHREALTIME
      stop_all
      start_all
      if ! poll_all; then
        echo "not every server was ready within ${timeout_s} s after the restart" >&2
        exit 1
      fi
      echo "ready $(elapsed_ms "$started")"
      ;;
    stop) break ;;
    *) echo "unknown command: $command" >&2 ;;
  esac
done
exit 0
