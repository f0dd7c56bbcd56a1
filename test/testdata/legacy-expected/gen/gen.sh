#!/bin/sh
# Regenerates ../*.json from the legacy inputs with the pprof profile package vendored in Go 1.19
# (Debian golang-go). The package is copied into a temporary module, never into this repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
goroot=$(go env GOROOT)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/main.go" "$work/"
cp -r "$goroot/src/cmd/vendor/github.com/google/pprof/profile" "$work/profile"
rm -f "$work"/profile/*_test.go
printf 'module legacydump\n\ngo 1.19\n' > "$work/go.mod"
(cd "$work" && go build -o legacydump .)
cd "$here/.."
"$work/legacydump" . $(ls ../pprof-thirdparty/google-pprof/*.cpu | grep -v large.cpu) ../pprof-thirdparty/google-pprof/*.cpu.pb \
  ../pprof-thirdparty/google-pprof/*.contention ../pprof-thirdparty/google-pprof/*.heap \
  ../pprof-thirdparty/google-pprof/*.growth ../pprof-thirdparty/google-pprof/*.thread* inputs/*
