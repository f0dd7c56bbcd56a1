#!/usr/bin/env bash
# Checks the UI's JavaScript: tsc type-checks wwwroot (// @ts-check + JSDoc, tsconfig.json) and node --test runs
# the unit tests of its pure functions (test/Profefe.Server.Tests/Ui/js). .ci/run runs it under CI=true, where a
# missing node or npm fails; elsewhere it skips with the reason. TypeScript comes from npm, pinned, into a cache
# directory outside the tree (PROFEFE_UI_TOOLS overrides it).
set -euo pipefail
ui="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$ui/../../.." && pwd)"
typescript_version=5.9.3

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    if [ "${CI:-}" = "true" ]; then echo "ui check: $tool is not installed" >&2; exit 1; fi
    echo "ui check: skipped, $tool is not installed (apt-get install nodejs npm)"
    exit 0
  fi
done

tools="${PROFEFE_UI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/profefe-ui-tools}"
tsc="$tools/node_modules/.bin/tsc"
if [ ! -x "$tsc" ] || [ "$("$tsc" --version)" != "Version $typescript_version" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --no-save --loglevel=error "typescript@$typescript_version" >/dev/null
fi

"$tsc" --noEmit -p "$ui/tsconfig.json"
echo "ui check: tsc $typescript_version found no errors"
node --test "$repo"/test/Profefe.Server.Tests/Ui/js/*.test.mjs
