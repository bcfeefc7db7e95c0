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

# An engine without the editor (export template) does not scan scripts, so
# global class_names come only from this cache, which the editor normally
# writes. Generate it from the class_name lines of the project's scripts.
mkdir -p "$project/.godot"
cache="$project/.godot/global_script_class_cache.cfg"
{
  printf 'list=['
  first=1
  while IFS= read -r file; do
    class="$(sed -n 's/^class_name[[:space:]]\{1,\}\([A-Za-z0-9_]\{1,\}\).*/\1/p' "$file" | head -n1)"
    [ -n "$class" ] || continue
    base="$(sed -n 's/^extends[[:space:]]\{1,\}\([A-Za-z0-9_]\{1,\}\).*/\1/p' "$file" | head -n1)"
    icon="$(sed -n 's/^@icon("\([^"]*\)").*/\1/p' "$file" | head -n1)"
    if grep -q '^@tool' "$file"; then tool=true; else tool=false; fi
    res="res://${file#"$project"/}"
    [ $first -eq 1 ] || printf ', '
    first=0
    printf '{\n"base": &"%s",\n"class": &"%s",\n"icon": "%s",\n"is_abstract": false,\n"is_tool": %s,\n"language": &"GDScript",\n"path": "%s"\n}' \
      "${base:-RefCounted}" "$class" "$icon" "$tool" "$res"
  done < <(find "$project" -name '*.gd' -not -path '*/.godot/*' | sort)
  printf ']\n'
} > "$cache"

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
