#!/usr/bin/env bash
# Writes <project>/.godot/global_script_class_cache.cfg from the class_name
# lines of the project's scripts (default project: godot-addon/). The editor normally writes this file; an
# engine built without the editor (an export template) does not scan scripts,
# so running the project from source with one needs it.
# Usage: bash godot-addon/write-class-cache.sh [project_dir]
set -euo pipefail
project="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)"

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
  done < <(find -L "$project" -name '*.gd' -not -path '*/.godot/*' | sort)
  printf ']\n'
} > "$cache"
