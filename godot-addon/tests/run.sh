#!/usr/bin/env bash
# Runs the addon's Godot tests headless: codec fixtures, fuzz, lookup, node unit
# tests and live round trips with the real sidecar and real WebSocket clients.
#   GODOT=/path/to/godot godot-addon/tests/run.sh [--only=codec|locator|node|live]
# Needs the sidecar: `npm run build` (bin/sidecar.cjs, run with node) or a
# binary in addons/websocket_server/bin/<os>-<arch>/. Port 8080 must be free.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
fixtures="$(cd "$project/../protocol/fixtures" && pwd)"

if [ -z "${GODOT:-}" ]; then
  echo "Godot tests SKIPPED: set GODOT=/path/to/godot to run them"
  exit 0
fi
if [ ! -x "$GODOT" ] && ! command -v "$GODOT" >/dev/null 2>&1; then
  echo "GODOT=$GODOT is not an executable: point it at a Godot 4.4+ binary" >&2
  exit 2
fi

bash "$project/write-class-cache.sh"

status=0
if command -v timeout >/dev/null 2>&1; then
  timeout 600 "$GODOT" --headless --path "$project" --script res://tests/run_tests.gd -- --fixtures="$fixtures" "$@" || status=$?
else
  "$GODOT" --headless --path "$project" --script res://tests/run_tests.gd -- --fixtures="$fixtures" "$@" || status=$?
fi
if [ $status -ne 0 ]; then
  echo "Godot tests FAILED (exit code $status)" >&2
fi
exit $status
