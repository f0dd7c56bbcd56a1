#!/usr/bin/env bash
# Ways to install `profefe` from a fresh clone, side by side (issue 18: clone -> collector answering < 60 s,
# each CLI call < 1 s). Each variant gets its own clean copy of HEAD (git archive, what a clone holds) and is
# timed from its first command until `profefe` exists; then the installed `profefe` is started as a collector
# (time until /api/0/version answers) and `profefe services` and `profefe find` are timed against it (median of 3).
# Usage: bench/install-time.sh [variant...]   (default: all, in the order below; run it twice, reversed, on a busy
# machine: restore and build share the NuGet cache and the OS file cache)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
port=10187

# What a fresh machine has: no shared build output, no lingering build nodes.
unset PROFEFE_ARTIFACTS PROFEFE_COLLECTOR
export MSBUILDDISABLENODEREUSE=1 DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# README's install (`dotnet publish`) leaves out what is for developing profefe (Directory.Build.props): analyzers,
# code style, warnings as errors, XML docs, symbols; `checks` puts them back, `lean` spells them out.
checks="-p:RunAnalyzers=true -p:EnforceCodeStyleInBuild=true -p:TreatWarningsAsErrors=true -p:GenerateDocumentationFile=true -p:DebugType=portable -p:DebugSymbols=true"
lean="-p:RunAnalyzers=false -p:EnforceCodeStyleInBuild=false -p:TreatWarningsAsErrors=false -p:GenerateDocumentationFile=false -p:DebugType=none -p:DebugSymbols=false"

install_command() {
  case "$1" in
    readme) sed -n '/^```sh$/,/^```$/p' README.md | sed -n 2p | sed 's/ && ln -sf.*//' ;;
    publish-r2r) echo "dotnet publish src/Profefe.Cli -o artifacts/profefe -p:PublishReadyToRun=true $checks" ;;
    publish-r2r-lean) echo "dotnet publish src/Profefe.Cli -o artifacts/profefe -p:PublishReadyToRun=true $lean" ;;
    publish-jit) echo "dotnet publish src/Profefe.Cli -o artifacts/profefe -p:PublishReadyToRun=false $checks" ;;
    publish-jit-lean) echo "dotnet publish src/Profefe.Cli -o artifacts/profefe -p:PublishReadyToRun=false $lean" ;;
    build-lean) echo "dotnet build src/Profefe.Cli -c Release -o artifacts/profefe $lean" ;;
    restore-then-publish-jit-lean) echo "dotnet restore src/Profefe.Cli && dotnet publish src/Profefe.Cli --no-restore -o artifacts/profefe -p:PublishReadyToRun=false $lean" ;;
    tool-lean)
      # The copy's project is made a .NET tool for this variant only.
      echo "sed -i 's|<AssemblyName>profefe</AssemblyName>|&<PackAsTool>true</PackAsTool><ToolCommandName>profefe</ToolCommandName>|' src/Profefe.Cli/Profefe.Cli.csproj && dotnet pack src/Profefe.Cli -o artifacts/nupkg $lean && dotnet tool install profefe --tool-path artifacts/tool --add-source artifacts/nupkg && ln -s tool/profefe artifacts/profefe-tool" ;;
    *) echo "unknown variant $1" >&2; return 1 ;;
  esac
}

installed_binary() {
  case "$1" in
    tool-lean) echo "artifacts/profefe-tool" ;;
    *) echo "artifacts/profefe/profefe" ;;
  esac
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
  variants=(readme publish-r2r publish-jit publish-jit-lean publish-r2r-lean build-lean restore-then-publish-jit-lean tool-lean)
fi

printf '%-30s %9s %9s %9s %9s %9s  %s\n' variant install serve services find help "loadavg (after install)"
for variant in "${variants[@]}"; do
  copy="$work/$variant"
  mkdir -p "$copy"
  git -C "$repo" archive HEAD | tar -x -C "$copy"
  command="$(cd "$copy" && install_command "$variant")"
  started="$(now)"
  (cd "$copy" && bash -c "$command") >"$work/$variant.log" 2>&1 || {
    echo "$variant: install failed:" >&2
    tail -20 "$work/$variant.log" >&2
    continue
  }
  install="$(since "$started")"
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  profefe="$copy/$(installed_binary "$variant")"

  started="$(now)"
  "$profefe" serve --addr "127.0.0.1:$port" --data-dir "$copy/data" >"$work/$variant.serve.log" 2>&1 &
  server=$!
  until curl -sf "http://127.0.0.1:$port/api/0/version" >/dev/null; do
    sleep 0.05
    kill -0 "$server" 2>/dev/null || { echo "$variant: serve ended" >&2; cat "$work/$variant.serve.log" >&2; break; }
  done
  serve="$(since "$started")"
  "$profefe" push --collector "http://127.0.0.1:$port" --service api "$repo/examples/" >/dev/null

  calls=()
  finds=()
  helps=()
  for _ in 1 2 3; do
    started="$(now)"
    "$profefe" services --collector "http://127.0.0.1:$port" >/dev/null
    calls+=("$(since "$started")")
    started="$(now)"
    "$profefe" find --collector "http://127.0.0.1:$port" --service api --from -7d >/dev/null
    finds+=("$(since "$started")")
    started="$(now)"
    "$profefe" top --help >/dev/null
    helps+=("$(since "$started")")
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
  printf '%-30s %8ss %8ss %8ss %8ss %8ss  %s\n' "$variant" "$install" "$serve" "$(median "${calls[@]}")" "$(median "${finds[@]}")" "$(median "${helps[@]}")" "$load"
  rm -rf "$copy"
done
