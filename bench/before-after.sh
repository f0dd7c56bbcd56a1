#!/usr/bin/env bash
# before-after.sh - two commits of this repo measured side by side in one run (issue 19, acceptance 5: a
# behaviour-preserving series of commits leaves the contract replay, the load driver's figures and the full
# suite as they were).
#
#   bench/before-after.sh [BEFORE_REF] [AFTER_REF] [rounds] [--suite] [-- LOAD_DRIVER_OPTIONS...]
#
# Defaults: BEFORE_REF 1e766b0 (main before the code-review commits), AFTER_REF HEAD, 2 rounds. Each ref is
# cloned (shared objects, no copy of history) into a temp directory and built there, so the work tree is not
# touched. Then, for each ref: the contract replay test (each commit's own copy of it); the load driver (the one
# of this checkout, so both collectors meet the same client) against each ref's collector, rounds alternating
# before/after in ABBA order (before, after, after, before, ...) so that both see the same machine; with
# --suite, each ref's ./test.sh (its closing line and wall time). Needs the .NET SDK, git and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE=0
POSITIONAL=()
DRIVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) SUITE=1 ;;
    --) shift; DRIVER_ARGS=("$@"); break ;;
    *) POSITIONAL+=("$1") ;;
  esac
  shift
done
BEFORE=${POSITIONAL[0]:-1e766b0}
AFTER=${POSITIONAL[1]:-HEAD}
ROUNDS=${POSITIONAL[2]:-2}
WORK=$(mktemp -d /tmp/profefe-before-after-XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM
# Each clone builds into its own tree; a caller's shared artifacts directory would mix the two.
unset PROFEFE_ARTIFACTS

log() { printf '[before-after %s] %s\n' "$(date -u +%T)" "$*" >&2; }

declare -A DIR DLL
for side in before after; do
  ref=$BEFORE; [ "$side" = after ] && ref=$AFTER
  commit=$(git -C "$ROOT" rev-parse --short "$ref^{commit}")
  DIR[$side]=$WORK/$side
  log "$side: $ref ($commit) -> ${DIR[$side]}"
  git clone --quiet --shared --no-checkout "$ROOT" "${DIR[$side]}"
  git -C "${DIR[$side]}" checkout --quiet --detach "$commit"
  # ../shared is what older commits' test data pointed at; give the clone the same neighbour as the repo.
  [ -e "$ROOT/../shared" ] && ln -sfn "$(cd "$ROOT/../shared" && pwd)" "$WORK/shared"
  # profefe.dll (the CLI, whose serve command is the collector) is what the load driver starts.
  dotnet build -c Release "${DIR[$side]}/src/Profefe.Cli" -v quiet -nologo >"$WORK/$side-build.log" 2>&1 \
    || { tail -20 "$WORK/$side-build.log"; exit 1; }
  DLL[$side]=$(find "${DIR[$side]}/src/Profefe.Cli/bin/Release" -name profefe.dll | head -1)
  [ -n "${DLL[$side]}" ] || { echo "no profefe.dll built for $side" >&2; exit 1; }
done

log "contract replay"
declare -A REPLAY
for side in before after; do
  if dotnet test "${DIR[$side]}/test/Profefe.Server.Tests" -c Release --filter "FullyQualifiedName~ContractReplay" \
      -nologo >"$WORK/$side-replay.log" 2>&1; then
    REPLAY[$side]="passed: $(grep -Eo 'Passed: *[0-9]+|total: *[0-9]+' "$WORK/$side-replay.log" | tail -1)"
  else
    REPLAY[$side]="FAILED"
    tail -30 "$WORK/$side-replay.log" >&2
  fi
  log "contract replay, $side: ${REPLAY[$side]}"
done

log "load driver, $ROUNDS rounds alternating"
# The driver of this checkout, so that any two refs meet the same client with the same report rows.
PROFEFE_ARTIFACTS="$WORK/driver" dotnet build -c Release "$ROOT/bench/Profefe.LoadDriver" -v quiet -nologo >"$WORK/driver-build.log" 2>&1 \
  || { tail -20 "$WORK/driver-build.log"; exit 1; }
DRIVER="$WORK/driver/bin/Profefe.LoadDriver/release/Profefe.LoadDriver.dll"
for round in $(seq 1 "$ROUNDS"); do
  # ABBA: whichever side runs second in a round meets the first one's disk writeback, so the order alternates.
  sides="before after"; [ $((round % 2)) = 0 ] && sides="after before"
  for side in $sides; do
    log "round $round: $side (load $(cut -d' ' -f1-3 /proc/loadavg))"
    dotnet "$DRIVER" \
      --collector-dll "${DLL[$side]}" "${DRIVER_ARGS[@]}" >"$WORK/load-$side-$round.md" 2>"$WORK/load-$side-$round.err" \
      || { cat "$WORK/load-$side-$round.err"; exit 1; }
  done
done

declare -A SUITE_LINE
if [ "$SUITE" = 1 ]; then
  for side in before after; do
    log "full suite: $side"
    start=$(date +%s)
    (cd "${DIR[$side]}" && ./test.sh) >"$WORK/$side-suite.log" 2>&1 || true
    SUITE_LINE[$side]="$(grep -E '^tests: ' "$WORK/$side-suite.log" | tail -1) in $(( $(date +%s) - start )) s"
  done
fi

echo
echo "## before $BEFORE ($(git -C "$ROOT" rev-parse --short "$BEFORE")) / after $AFTER ($(git -C "$ROOT" rev-parse --short "$AFTER")), load now $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "- contract replay: before ${REPLAY[before]}; after ${REPLAY[after]}"
[ "$SUITE" = 1 ] && echo "- full suite: before ${SUITE_LINE[before]}; after ${SUITE_LINE[after]}"
echo
# One row per load-driver measurement, one column per run, in the order they ran.
python3 - "$WORK" "$ROUNDS" <<'EOF'
import sys
work, rounds = sys.argv[1], int(sys.argv[2])
columns, rows, order = [], {}, []
for r in range(1, rounds + 1):
    for side in ("before", "after"):
        name = f"{side} {r}"
        columns.append(name)
        seen = {}
        for line in open(f"{work}/load-{side}-{r}.md"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 2 or cells[0] in ("measurement", "") or set(cells[0]) <= set("-"):
                continue
            # Rows such as "latency p99" follow each ingest step: number the repeats so they stay apart.
            seen[cells[0]] = seen.get(cells[0], 0) + 1
            if seen[cells[0]] > 1:
                cells[0] = f"{cells[0]} ({seen[cells[0]]})"
            if cells[0] not in rows:
                rows[cells[0]] = {}
                order.append(cells[0])
            rows[cells[0]][name] = cells[1]
print("| measurement | " + " | ".join(columns) + " |")
print("|---|" + "---|" * len(columns))
for key in order:
    print(f"| {key} | " + " | ".join(rows[key].get(c, "") for c in columns) + " |")
EOF
