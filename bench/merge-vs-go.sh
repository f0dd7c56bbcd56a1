#!/usr/bin/env bash
# Merges 1,000 CPU profiles (the corpus' go/cpu_* files, each repeated to reach 1,000 files) with
# `go tool pprof -proto` and with ours (decode + merge + encode, bench/Profefe.MergeRunner), three runs
# each, and prints the median wall time, CPU time and peak RSS of each. Usage: bench/merge-vs-go.sh [count]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count="${1:-1000}"
runs=3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mapfile -t sources < <(ls "$repo"/test/testdata/go/cpu_*.pb.gz | sort)
for ((i = 0; i < count; i++)); do
  cp "${sources[i % ${#sources[@]}]}" "$(printf '%s/f%04d.pb.gz' "$work" "$i")"
done
files=("$work"/f*.pb.gz)

export PROFEFE_ARTIFACTS="${PROFEFE_ARTIFACTS:-/tmp/art/bench}"
dotnet build "$repo/bench/Profefe.MergeRunner" -c Release -nologo -v:q -clp:ErrorsOnly >&2
runner="$PROFEFE_ARTIFACTS/bin/Profefe.MergeRunner/release/Profefe.MergeRunner.dll"

# measure NAME COMMAND...: runs it $runs times and prints the median wall time, CPU time (user + sys,
# which says more than wall time on a busy machine) and peak RSS, each with the runs it came from.
measure() {
  local name="$1"
  shift
  local walls=() cpus=() rsss=()
  for ((r = 0; r < runs; r++)); do
    /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || {
      cat "$work/stderr.txt" >&2
      return 1
    }
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/time.txt")")
    cpus+=("$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$work/time.txt")")
    rsss+=("$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.txt")")
  done
  printf '%-6s wall %ss (runs %s)   cpu %ss (runs %s)   peak RSS %s MB (runs %s)\n' "$name" \
    "$(median "${walls[@]}")" "${walls[*]}" "$(median "${cpus[@]}")" "${cpus[*]}" "$(median "${rsss[@]}")" "${rsss[*]}"
}

median() {
  printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"
}

echo "merging $count files ($(cat "${files[@]}" | wc -c) bytes compressed), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); median of $runs:"
if command -v go >/dev/null; then
  measure go go tool pprof -proto "${files[@]}"
else
  echo "go     not installed (apt-get install golang-go)"
fi
measure ours dotnet "$runner" "${files[@]}"
dotnet "$runner" --stats "${files[@]}" 2>&1 >/dev/null | sed 's/^/ours   /'
