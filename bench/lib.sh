# lib.sh - what the bench scripts share; source it: . "$(dirname "$0")/lib.sh"

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for_http URL PID LOG: waits up to 60 s until URL answers 2xx; exits 1 with LOG's tail when PID dies first.
wait_for_http() {
  local url=$1 pid=$2 log_file=$3
  for _ in $(seq 600); do
    curl -sf -o /dev/null -m 2 "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -50 "$log_file" >&2; echo "process $pid exited before $url answered" >&2; exit 1; }
    sleep 0.1
  done
  echo "$url did not answer within 60 s (log: $log_file)" >&2
  exit 1
}

# stop_pid PID: stops a background process this script started and waits for it; nothing when PID is empty.
stop_pid() {
  if [ -n "${1:-}" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
