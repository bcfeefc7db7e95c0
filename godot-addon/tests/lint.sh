#!/usr/bin/env bash
# Parses and lints every .gd file of the addon project with gdtoolkit 4
# (pip install "gdtoolkit==4.*"); fails on any parse error or lint problem.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
cd "$project"
for tool in gdparse gdlint; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found: install gdtoolkit with  pip install \"gdtoolkit==4.*\"" >&2
    exit 2
  fi
done
mapfile -t files < <(find . -name '*.gd' -not -path './.godot/*' | sort)
echo "gdparse + gdlint on ${#files[@]} files"
gdparse "${files[@]}" >/dev/null
gdlint "${files[@]}"
