#!/usr/bin/env bash
# Parses and lints every .gd file of the addon project with gdtoolkit 4; fails on any parse
# error or lint problem. Uses the repository's .venv (which `npm test` creates with
# gdtoolkit in it) when there is one, else gdparse and gdlint from PATH.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
venv_bin="$(dirname "$project")/.venv/bin"
[ ! -x "$venv_bin/gdlint" ] || PATH="$venv_bin:$PATH"
cd "$project"
for tool in gdparse gdlint; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found: run npm test once (it creates .venv with gdtoolkit), or" \
      "python3 -m venv .venv && .venv/bin/pip install \"gdtoolkit==4.*\" at the repository root" >&2
    exit 2
  fi
done
mapfile -t files < <(find . -name '*.gd' -not -path './.godot/*' | sort)
echo "gdparse + gdlint on ${#files[@]} files ($(command -v gdlint))"
gdparse "${files[@]}" >/dev/null
gdlint "${files[@]}"
