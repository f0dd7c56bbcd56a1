#!/usr/bin/env bash
# ingest-ceiling.sh - how fast this machine takes pushes before any storage: the load driver's ingest steps
# (--ingest-only) against bench/Profefe.IngestCeiling, which is the collector's whole request path (Kestrel
# settings, request log, metrics, validation of every push) with a writer that acknowledges and keeps nothing.
# Compare with the load driver's ingest figures against the real collector on the same machine: the difference
# is what storing costs, and no store can make ingest faster than this.
#
#   bench/ingest-ceiling.sh [load driver options]      e.g. --large 60000
#
# Needs the .NET SDK and python3 (a free port). Stops the server at the end, also on failure or ^C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/profefe-ingest-ceiling-XXXXXX)
SERVER_PID=
. "$ROOT/bench/lib.sh"

log() { printf '[ingest-ceiling %s] %s\n' "$(date -u +%T)" "$*" >&2; }
cleanup() {
  local rc=$?
  stop_pid "$SERVER_PID"
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT INT TERM

log "building"
dotnet build -c Release "$ROOT/bench/Profefe.IngestCeiling" -v quiet -nologo >/dev/null
dotnet build -c Release "$ROOT/bench/Profefe.LoadDriver" -v quiet -nologo >/dev/null

PORT=$(free_port)
log "starting the discarding collector on 127.0.0.1:$PORT (log: $WORK/server.log)"
dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.IngestCeiling" -- "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_http "http://127.0.0.1:$PORT/api/0/version" "$SERVER_PID" "$WORK/server.log"

dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.LoadDriver" -- --url "http://127.0.0.1:$PORT" --ingest-only "$@"
