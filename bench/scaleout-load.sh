#!/usr/bin/env bash
# scaleout-load.sh - the load driver (bench/Profefe.LoadDriver) against a collector on S3 + PostgreSQL
# (issue 4, acceptance 5). Starts a throw-away PostgreSQL (Debian packages) and a single-node Ceph RGW
# (test/Profefe.Testing/Servers/ceph/ceph-rgw.sh, OSD on memstore = RAM), starts
# a collector (profefe serve) with Storage:Type=s3+postgres pointing at them, runs the driver against it (--url:
# the driver then reports no RSS), and stops and deletes everything at the end, also on failure or ^C.
#
#   bench/scaleout-load.sh [load driver options]      e.g. --quick, or --large 50000 --budget 300
#   STORAGE_TYPE=postgres bench/scaleout-load.sh ...  the same against PostgreSQL alone (no Ceph started)
#   DRIVER=fleetweek bench/scaleout-load.sh --days 1  the profile engine's fleet-week run (bench/Profefe.FleetWeek, which
#                                                     starts its own collector, given these backends) instead of the driver
#   EMBEDDED=1 bench/scaleout-load.sh --quick --clients 256
#                                                     then the same driver options against the embedded store
#                                                     (a collector of the driver's own), for figures of one hour
#   EMBEDDED=url bench/scaleout-load.sh --quick --clients 256
#                                                     the same, but the embedded collector is started here and driven
#                                                     by --url like the shared one (not restarted before the merges)
#   CEILING=1 EMBEDDED=url bench/scaleout-load.sh --ingest-only --small 5000 --large 30000 --clients 256
#                                                     then bench/Profefe.IngestCeiling (the request path, storing nothing)
#                                                     under the same driver, and a table of the CPU per profile each run
#                                                     used while pushing: the collector's, and PostgreSQL's and Ceph's for
#                                                     the shared store (the driver's --backend), where two cores go
#
# s3+postgres batches writes into segment objects (Storage:Segments:Window, default 250 ms): a closed-loop client
# waits a window per push, so N clients give at most about N / window pushes per second. Drive it with hundreds of
# clients (a fleet is thousands of agents pushing once a minute). SEGMENT_WINDOW=00:00:00.100 changes the window.
# The bucket's object count after the run divided by the profiles stored is the PUTs per 1,000 profiles (the
# collector runs with --retention 0, so nothing is deleted; a failed PUT stores nothing and is not counted).
#
# The driver's "bytes on disk" only sees the collector's local data directory, which these backends leave empty;
# this script prints what PostgreSQL and the bucket hold instead. Needs: postgresql, ceph-mon ceph-osd radosgw
# ceph-common curl, python3 (free ports), and the .NET SDK. Runs as root or as a user that may run initdb.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STORAGE_TYPE=${STORAGE_TYPE:-s3+postgres}
case "$STORAGE_TYPE" in s3+postgres|postgres) ;; *) echo "STORAGE_TYPE must be s3+postgres or postgres" >&2; exit 2;; esac
WORK=$(mktemp -d /tmp/profefe-scaleout-load-XXXXXX)
chmod 755 "$WORK"  # initdb runs as postgres when we are root
PG_DIR="$WORK/pg"
CEPH_DIR="$WORK/ceph"
CEPH_SCRIPT="$ROOT/test/Profefe.Testing/Servers/ceph/ceph-rgw.sh"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PG_BIN" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
SCHEMA=profefe_load
BUCKET=profefe-load
PG_STARTED=
CEPH_STARTED=
COLLECTOR_PID=

. "$ROOT/bench/lib.sh"
log() { printf '[scaleout-load %s] %s\n' "$(date -u +%T)" "$*" >&2; }
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_q() { as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc "$1"; }
# cpu_ticks PID...: user + system clock ticks of the processes, with their reaped children's (PostgreSQL's backends).
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13 + $14 + $15}')))
  done
  echo "$total"
}
# postmaster_pid, ceph_pids: this run's PostgreSQL postmaster and Ceph daemons (one per line), not anybody else's.
postmaster_pid() { head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true; }
ceph_pids() { [ -z "$CEPH_STARTED" ] || awk '$2 ~ /^[0-9]+$/ {print $2}' "$CEPH_DIR/pids" 2>/dev/null || true; }
# backend_options: the driver's --backend for PostgreSQL and Ceph (the driver adds their descendants, e.g. backends).
backend_options() {
  echo "--backend postgresql=$(postmaster_pid)"
  [ -z "$CEPH_STARTED" ] || echo "--backend ceph=$(ceph_pids | paste -sd, -)"
}
# backend_pids: the postmaster and its live children, and the Ceph daemons.
backend_pids() {
  local postmaster
  postmaster=$(postmaster_pid)
  if [ -n "$postmaster" ]; then echo "$postmaster"; ps -o pid= --ppid "$postmaster" || true; fi
  ceph_pids
}

cleanup() {
  local rc=$?
  if [ -n "$COLLECTOR_PID" ]; then log "stopping the collector"; stop_pid "$COLLECTOR_PID"; fi
  if [ -n "$CEPH_STARTED" ]; then log "stopping Ceph"; "$CEPH_SCRIPT" stop "$CEPH_DIR" || true; fi
  if [ -n "$PG_STARTED" ]; then log "stopping PostgreSQL"; as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null || true; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting PostgreSQL from $PG_BIN in $PG_DIR"
mkdir -p "$PG_DIR"
[ "$(id -u)" != 0 ] || chown postgres: "$PG_DIR"
as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >/dev/null
PG_PORT=$(free_port)
# Durable like a production server (fsync on), sized for a laptop.
as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=200 -c shared_buffers=128MB" start >/dev/null
PG_STARTED=1

export PROFEFE_Storage__Type="$STORAGE_TYPE"
# A batched push gives its upload slot back once it waits for its batch (within Storage:Segments:MaxWaitingBytes),
# but the embedded store holds a slot per push being stored: with the default 32 (and a queue of 32) hundreds of
# closed-loop clients would get 429s there. Both runs (EMBEDDED=1) get the same limit.
export PROFEFE_Collector__MaxConcurrentUploads="${MAX_UPLOADS:-1024}"
export PROFEFE_Storage__Postgres__ConnectionString="Host=127.0.0.1;Port=$PG_PORT;Database=postgres;Username=postgres;Maximum Pool Size=64"
export PROFEFE_Storage__Postgres__Schema="$SCHEMA"

if [ "$STORAGE_TYPE" = s3+postgres ]; then
  log "starting Ceph RGW in $CEPH_DIR"
  mkdir -p "$CEPH_DIR"
  ACCESS_KEY="PROFEFELOAD$(random_hex 5 | tr 'a-f' 'A-F')"
  SECRET_KEY=$(random_hex 20)
  S3_PORT=$(free_port)
  # The OSD keeps objects in RAM: room for 100,000 profiles of ~9.5 kB plus RADOS overhead.
  CEPH_MEMSTORE_BYTES=${CEPH_MEMSTORE_BYTES:-4294967296} "$CEPH_SCRIPT" start "$CEPH_DIR" "$S3_PORT" "$(free_port)" "$ACCESS_KEY" "$SECRET_KEY"
  CEPH_STARTED=1
  "$CEPH_SCRIPT" create-bucket "$CEPH_DIR" "$BUCKET"
  export PROFEFE_Storage__S3__ServiceUrl="http://127.0.0.1:$S3_PORT"
  export PROFEFE_Storage__S3__Region=us-east-1
  export PROFEFE_Storage__S3__Bucket="$BUCKET"
  export PROFEFE_Storage__S3__AccessKey="$ACCESS_KEY"
  export PROFEFE_Storage__S3__SecretKey="$SECRET_KEY"
  export PROFEFE_Storage__S3__ForcePathStyle=true
  [ -z "${SEGMENT_WINDOW:-}" ] || export PROFEFE_Storage__Segments__Window="$SEGMENT_WINDOW"
fi

if [ "${DRIVER:-}" = fleetweek ]; then
  log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "running the fleet week (Storage:Type=$STORAGE_TYPE): $*"
  dotnet run -c Release --project "$ROOT/bench/Profefe.FleetWeek" -- "$@"
else
  log "building the collector"
  dotnet build "$ROOT/src/Profefe.Cli" -c Release -nologo -clp:ErrorsOnly >&2
  DLL=$(dotnet msbuild "$ROOT/src/Profefe.Cli" -nologo -getProperty:TargetPath -p:Configuration=Release)
  COLLECTOR_PORT=$(free_port)
  mkdir -p "$WORK/data"
  log "starting $DLL on 127.0.0.1:$COLLECTOR_PORT (log: collector.log in $WORK, kept only while running)"
  dotnet "$DLL" serve --addr "127.0.0.1:$COLLECTOR_PORT" --data-dir "$WORK/data" --retention 0 > "$WORK/collector.log" 2>&1 &
  COLLECTOR_PID=$!
  wait_for_http "http://127.0.0.1:$COLLECTOR_PORT/health" "$COLLECTOR_PID" "$WORK/collector.log"

  log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "running the load driver (Storage:Type=$STORAGE_TYPE): --url http://127.0.0.1:$COLLECTOR_PORT/ $*"
  NICE=()
  [ "$(id -u)" != 0 ] || NICE=(nice -n -10)
  # The driver builds itself first: build it before counting the backends' CPU.
  dotnet build "$ROOT/bench/Profefe.LoadDriver" -c Release -nologo -clp:ErrorsOnly >&2
  BACKEND_PIDS=$(backend_pids | sort -u | tr '\n' ' ')
  BACKEND_TICKS=$(cpu_ticks $BACKEND_PIDS)
  COLLECTOR_TICKS=$(cpu_ticks "$COLLECTOR_PID")
  DRIVER_STARTED=$(date +%s.%N)
  "${NICE[@]}" dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.LoadDriver" -- --url "http://127.0.0.1:$COLLECTOR_PORT/" \
    --server-pid "$COLLECTOR_PID" $(backend_options) "$@" | tee "$WORK/shared.txt"
  # Where the CPU of the whole run went (warm-up, ingest, finds, merges): the collector against the backends.
  ELAPSED=$(python3 -c "import time; print(round(time.time() - $DRIVER_STARTED, 1))")
  HZ=$(getconf CLK_TCK)
  COLLECTOR_CPU=$(python3 -c "print(round(($(cpu_ticks "$COLLECTOR_PID") - $COLLECTOR_TICKS) / $HZ, 1))")
  BACKEND_CPU=$(python3 -c "print(round(($(cpu_ticks $( (echo $BACKEND_PIDS | tr " " "\n"; backend_pids) | sort -u)) - $BACKEND_TICKS) / $HZ, 1))")
  echo "CPU during the driver's ${ELAPSED} s: collector ${COLLECTOR_CPU} s, PostgreSQL + Ceph ${BACKEND_CPU} s"
  if [ -n "$CEPH_STARTED" ]; then
    # Reads of segment objects (merges, the cutter reading its log), from RGW's request log.
    echo "segment object GETs during the driver: $(cat "$CEPH_DIR"/log/*rgw*.log 2>/dev/null | grep -c "GET /$BUCKET/[^ ]*segments/" || true)"
  fi
fi

log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
PROFILES=$(psql_q "SELECT count(*) FROM $SCHEMA.profiles")
PG_BYTES=$(psql_q "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$SCHEMA' AND c.relkind IN ('r', 'm')")
echo
echo "stored: $PROFILES profiles"
echo "PostgreSQL schema $SCHEMA: $PG_BYTES bytes ($((PG_BYTES / (PROFILES > 0 ? PROFILES : 1))) per profile, tables + indexes + TOAST)"
if [ -n "$CEPH_STARTED" ]; then
  STATS=$(radosgw-admin -c "$CEPH_DIR/ceph.conf" bucket stats --bucket="$BUCKET" 2>/dev/null || true)
  S3_BYTES=$(printf '%s' "$STATS" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(u.get("size", 0) for u in d.get("usage", {}).values()))' 2>/dev/null || echo "?")
  S3_ALLOCATED=$(printf '%s' "$STATS" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(u.get("size_actual", 0) for u in d.get("usage", {}).values()))' 2>/dev/null || echo "?")
  S3_OBJECTS=$(printf '%s' "$STATS" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(u.get("num_objects", 0) for u in d.get("usage", {}).values()))' 2>/dev/null || echo "?")
  echo "bucket $BUCKET: $S3_OBJECTS objects, $S3_BYTES bytes ($S3_ALLOCATED allocated in 4 KiB units)"
  SEGMENTS=$(psql_q "SELECT count(*) FROM $SCHEMA.segments")
  if [ "$S3_OBJECTS" != "?" ] && [ "$PROFILES" -gt 0 ]; then
    echo "object PUTs per 1,000 profiles: $(python3 -c "print(round($S3_OBJECTS * 1000 / $PROFILES, 2))") ($SEGMENTS segments indexed, $((PROFILES / (SEGMENTS > 0 ? SEGMENTS : 1))) profiles per segment)"
  fi
fi

if [ "${EMBEDDED:-0}" = 1 ]; then
  stop_pid "$COLLECTOR_PID"
  COLLECTOR_PID=
  echo
  log "load average before the embedded store: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "running the load driver against the embedded store (its own collector): $*"
  # The driver's collector inherits this environment: it must not take the shared store's settings.
  PROFEFE_Storage__Type=local "${NICE[@]}" dotnet run -c Release --project "$ROOT/bench/Profefe.LoadDriver" -- "$@" | tee "$WORK/embedded.txt"
  log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
elif [ "${EMBEDDED:-0}" = url ]; then
  # Like the shared store's collector: started here and driven by --url, so it is not restarted before the merges
  # (the driver restarts its own collector before each merge size, which then cuts the burst first; this one, like
  # the collector above, still holds it in its log and merges it raw).
  stop_pid "$COLLECTOR_PID"
  COLLECTOR_PID=
  echo
  mkdir -p "$WORK/embedded"
  COLLECTOR_PORT=$(free_port)
  PROFEFE_Storage__Type=local dotnet "$DLL" serve --addr "127.0.0.1:$COLLECTOR_PORT" --data-dir "$WORK/embedded" --retention 0 > "$WORK/embedded.log" 2>&1 &
  COLLECTOR_PID=$!
  wait_for_http "http://127.0.0.1:$COLLECTOR_PORT/health" "$COLLECTOR_PID" "$WORK/embedded.log"
  log "load average before the embedded store: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "running the load driver against the embedded store (Storage:Type=local): --url http://127.0.0.1:$COLLECTOR_PORT/ $*"
  "${NICE[@]}" dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.LoadDriver" -- --url "http://127.0.0.1:$COLLECTOR_PORT/" --server-pid "$COLLECTOR_PID" "$@" \
    | tee "$WORK/embedded.txt"
  log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ "${CEILING:-0}" = 1 ] && [ "${DRIVER:-}" != fleetweek ]; then
  stop_pid "$COLLECTOR_PID"
  COLLECTOR_PID=
  echo
  dotnet build "$ROOT/bench/Profefe.IngestCeiling" -c Release -nologo -clp:ErrorsOnly >&2
  CEILING_DLL=$(dotnet msbuild "$ROOT/bench/Profefe.IngestCeiling" -nologo -getProperty:TargetPath -p:Configuration=Release)
  COLLECTOR_PORT=$(free_port)
  # Its own dll, not dotnet run, so that --server-pid is the server; it must not take the shared store's settings.
  PROFEFE_Storage__Type=local dotnet "$CEILING_DLL" "127.0.0.1:$COLLECTOR_PORT" > "$WORK/ceiling.log" 2>&1 &
  COLLECTOR_PID=$!
  wait_for_http "http://127.0.0.1:$COLLECTOR_PORT/api/0/version" "$COLLECTOR_PID" "$WORK/ceiling.log"
  log "load average before the ingest ceiling: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "running the load driver against the ingest ceiling (stores nothing): --url http://127.0.0.1:$COLLECTOR_PORT/ --ingest-only $*"
  "${NICE[@]}" dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.LoadDriver" -- --url "http://127.0.0.1:$COLLECTOR_PORT/" --server-pid "$COLLECTOR_PID" \
    --ingest-only "$@" | tee "$WORK/ceiling.txt"
  log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "CPU per profile while pushing, each run's last ingest step (the driver's --ingest-only lines):"
  python3 - "$WORK" <<'PY'
import os, re, sys
work = sys.argv[1]
# "- ingest of 25,000: 25,000 in 6.42 s = 3,896/s, ..." and
# "- CPU per profile pushing 25,000: collector 0.262 ms, postgresql 0.060 ms, ceph 0.103 ms, together 0.425 ms"
rate = re.compile(r'^- ingest of [\d,]+: .*= ([\d,]+)/s')
cpu = re.compile(r'^- CPU per profile pushing [\d,]+: (.*)$')
part = re.compile(r'(\w+) ([\d.]+) ms')
runs = {}
for name, label in (('shared', 's3+postgres'), ('embedded', 'embedded store'), ('ceiling', 'ingest ceiling (stores nothing)')):
    path = os.path.join(work, name + '.txt')
    rates = [m[1] for m in map(rate.match, open(path)) if m] if os.path.exists(path) else []
    cpus = [m[1] for m in map(cpu.match, open(path)) if m] if os.path.exists(path) else []
    if rates and cpus:
        parts = {k: float(v) for k, v in part.findall(cpus[-1]) if k != 'together'}
        runs[name] = (label, rates[-1], parts)
print('| run | profiles/s | collector | PostgreSQL | Ceph | together |')
print('|---|---|---|---|---|---|')
for label, r, p in runs.values():
    print(f'| {label} | {r} | {p["collector"]:.3f} ms | {p.get("postgresql", 0):.3f} ms | {p.get("ceph", 0):.3f} ms | {sum(p.values()):.3f} ms |')
if {'shared', 'embedded', 'ceiling'} <= runs.keys():
    request, embedded, servers = runs['ceiling'][2]['collector'], runs['embedded'][2]['collector'], runs['shared'][2]
    for what, extra in (('Ceph', servers.get('ceph', 0)), ('PostgreSQL + Ceph', servers.get('ceph', 0) + servers.get('postgresql', 0))):
        floor = request + extra
        print(f'the request path alone + {what}: {request:.3f} + {extra:.3f} = {floor:.3f} ms per profile, '
              f'{"above" if floor > embedded else "not above"} the embedded store\'s whole {embedded:.3f} ms')
PY
fi
