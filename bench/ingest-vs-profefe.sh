#!/usr/bin/env bash
# ingest-vs-profefe.sh - ingest of this collector (embedded store, profile engine on: its defaults) and of
# profefe (Go, Badger) measured side by side in one run with the same load driver (issue 13, acceptance 5).
# Rounds alternate profefe / this collector so that both see the same machine; each round is the load
# driver's --ingest-only steps (warm-up, 0 -> small, small -> large stored) on a fresh data directory.
#
#   bench/ingest-vs-profefe.sh PROFEFE_SOURCE_OR_BINARY [rounds] [load driver options]
#
# PROFEFE_SOURCE_OR_BINARY is a profefe binary, or a checkout of github.com/profefe/profefe (its vendor/
# directory makes it build offline with Go 1.19), built into a temp directory: the build stays out of this
# repo. Needs the .NET SDK, python3 (free ports), curl and, for a checkout, go.
#
# BASELINES=1 adds three runs to every round, to show where a ratio's limit lies: this collector cutting engine
# blocks as pushes arrive (Engine:MaxCutDelay=0: no pause for a burst), with the engine off (Engine:Enabled=false,
# the durable store alone) and bench/Profefe.IngestCeiling (the request path with a writer that keeps nothing:
# what HTTP, inflate and validation cost before any storage).
# With a collector's pid the load driver also follows it after the last push until it idles, and reports its CPU
# per profile with and without that deferred work (the engine cutting a burst, Badger compacting).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCE=${1:?usage: bench/ingest-vs-profefe.sh PROFEFE_SOURCE_OR_BINARY [rounds] [load driver options]}
ROUNDS=${2:-2}
shift $(( $# >= 2 ? 2 : 1 ))
WORK=$(mktemp -d /tmp/profefe-vs-XXXXXX)
PROFEFE_PID=
. "$ROOT/bench/lib.sh"

log() { printf '[ingest-vs-profefe %s] %s\n' "$(date -u +%T)" "$*" >&2; }
stop_profefe() {
  stop_pid "$PROFEFE_PID"
  PROFEFE_PID=
}
cleanup() {
  local rc=$?
  stop_profefe
  stop_pid "${CEILING_PID:-}"
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT INT TERM

if [ -d "$SOURCE" ]; then
  log "building profefe from $SOURCE (vendored modules) into $WORK"
  (cd "$SOURCE" && GOFLAGS=-mod=vendor go build -o "$WORK/profefe-go" ./cmd/profefe)
  PROFEFE_BIN="$WORK/profefe-go"
else
  PROFEFE_BIN=$SOURCE
fi

log "building the load driver and this collector"
dotnet build -c Release "$ROOT/bench/Profefe.LoadDriver" -v quiet -nologo >/dev/null
BASELINES=${BASELINES:-0}
CEILING_PID=
if [ "$BASELINES" = 1 ]; then
  dotnet build -c Release "$ROOT/bench/Profefe.IngestCeiling" -v quiet -nologo >/dev/null
fi

driver() { dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.LoadDriver" -- --ingest-only "$@"; }

for round in $(seq 1 "$ROUNDS"); do
  port=$(free_port)
  rm -rf "$WORK/badger"
  log "round $round: profefe on 127.0.0.1:$port (Badger in $WORK/badger), load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$PROFEFE_BIN" -addr "127.0.0.1:$port" -badger.dir "$WORK/badger" -log.level warn >"$WORK/profefe.log" 2>&1 &
  PROFEFE_PID=$!
  wait_for_http "http://127.0.0.1:$port/api/0/version" "$PROFEFE_PID" "$WORK/profefe.log"
  driver --url "http://127.0.0.1:$port" --data-dir "$WORK/badger" --server-pid "$PROFEFE_PID" "$@" | tee "$WORK/profefe-$round.txt"
  stop_profefe

  log "round $round: this collector (embedded store, engine on), load $(cut -d' ' -f1-3 /proc/loadavg)"
  driver "$@" | tee "$WORK/ours-$round.txt"

  if [ "$BASELINES" = 1 ]; then
    log "round $round: this collector, engine cutting as pushes arrive (Engine:MaxCutDelay=0), load $(cut -d' ' -f1-3 /proc/loadavg)"
    PROFEFE_Engine__MaxCutDelay=00:00:00 driver "$@" | tee "$WORK/nodelay-$round.txt"
    log "round $round: this collector, engine off, load $(cut -d' ' -f1-3 /proc/loadavg)"
    PROFEFE_Engine__Enabled=false driver "$@" | tee "$WORK/noengine-$round.txt"
    port=$(free_port)
    log "round $round: ingest ceiling (a writer that keeps nothing) on 127.0.0.1:$port, load $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet run -c Release --no-build --project "$ROOT/bench/Profefe.IngestCeiling" -- "127.0.0.1:$port" >"$WORK/ceiling.log" 2>&1 &
    CEILING_PID=$!
    wait_for_http "http://127.0.0.1:$port/api/0/version" "$CEILING_PID" "$WORK/ceiling.log"
    driver --url "http://127.0.0.1:$port" "$@" | tee "$WORK/ceiling-$round.txt"
    stop_pid "$CEILING_PID"
    CEILING_PID=
  fi
done

log "summary (profiles/s and p99 of each ingest step; the ratio is this collector over profefe in the same round)"
python3 - "$WORK" "$ROUNDS" <<'EOF'
import re, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def steps(path):
    # "- ingest of 10,000: 10,000 in 3.10 s = 3,226/s, p50 1.90 ms, p99 5.27 ms, max ..."
    pattern = re.compile(r'^- ingest of ([\d,]+): .*= ([\d,]+)/s, p50 [\d.,]+ ms, p99 ([\d.,]+) ms')
    return [(m[1], float(m[2].replace(',', '')), m[3]) for m in map(pattern.match, open(path)) if m]
import os
for r in range(1, rounds + 1):
    for (name, theirs, tp99), (_, ours, op99) in zip(steps(f'{work}/profefe-{r}.txt'), steps(f'{work}/ours-{r}.txt')):
        print(f'round {r} | ingest of {name} | profefe {theirs:,.0f}/s p99 {tp99} ms | ours {ours:,.0f}/s p99 {op99} ms | {ours / theirs:.2f}x')
    # "after the last push: busy 3.0 s more using 4.10 CPU s; CPU per profile: 0.500 ms while pushing, 0.600 ms with that"
    settle = re.compile(r'^- after the last push: busy ([\d.]+) s more .*CPU per profile: ([\d.]+) ms while pushing, ([\d.]+) ms with that')
    for variant, label in (('profefe', 'profefe'), ('ours', 'ours'), ('nodelay', 'ours, no cut delay'), ('noengine', 'ours, engine off')):
        path = f'{work}/{variant}-{r}.txt'
        for m in (settle.match(line) for line in open(path)) if os.path.exists(path) else []:
            if m:
                print(f'round {r} | CPU per profile | {label} {m[2]} ms while pushing, {m[3]} ms with the {m[1]} s it stayed busy after the last push')
    for variant, label in (('nodelay', 'ours, no cut delay'), ('noengine', 'ours, engine off'), ('ceiling', 'ingest ceiling')):
        if os.path.exists(f'{work}/{variant}-{r}.txt'):
            for (name, theirs, _), (_, rate, p99) in zip(steps(f'{work}/profefe-{r}.txt'), steps(f'{work}/{variant}-{r}.txt')):
                print(f'round {r} | ingest of {name} | {label} {rate:,.0f}/s p99 {p99} ms | {rate / theirs:.2f}x profefe')
EOF
