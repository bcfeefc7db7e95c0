#!/usr/bin/env bash
# The whole test suite, as the README's test command runs it:
#   1. build the sidecar bundle, and the linux-x64 binary if one was built before
#      (the end-to-end tests spawn the binary when it exists, else the bundle with node),
#   2. typecheck, 3. vitest (unit, end-to-end, packaging checks; the Godot editor and export
#      tests among them run when GODOT_EDITOR points at an editor, and say SKIPPED otherwise),
#   4. parse and lint every .gd file with gdtoolkit,
#   5. the Godot-side tests when GODOT points at an engine (skipped, and said so, otherwise).
# Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
passed=0
failed=0
step() { printf '\n==> %s\n' "$*"; }

step "build the sidecar (npm run build)"
npm run --silent build || { echo "build failed: fix the TypeScript errors above"; exit 1; }

binary=godot-addon/addons/websocket_server/bin/linux-x64/websocket-sidecar
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && [ -x "$binary" ]; then
  # The end-to-end tests run the built binary when it exists (what players get), so bring it up
  # to date with the bundle just built: seconds when the sidecar did not change.
  step "refresh the linux-x64 sidecar binary (it exists, so the end-to-end tests use it)"
  npx --no-install tsx packaging/build-binaries.ts --only=linux-x64 || { echo "could not rebuild $binary: fix the error above, or delete the binary to test with node"; exit 1; }
fi

step "typecheck (tsc)"
if npx --no-install tsc; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

step "vitest"
report=$(mktemp)
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report"
vitest_status=$?
if [ -s "$report" ]; then
  read -r vp vf < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(r.numPassedTests, r.numFailedTests)' "$report")
  passed=$((passed + vp)); failed=$((failed + vf))
fi
rm -f "$report"
[ "$vitest_status" -eq 0 ] || status=1

step "GDScript parse and lint (gdtoolkit)"
if ! command -v gdlint >/dev/null 2>&1; then
  echo "gdtoolkit is not installed; installing it from PyPI (pip install 'gdtoolkit==4.*')"
  python3 -m pip install --quiet "gdtoolkit==4.*" || { echo "could not install gdtoolkit: install it with pip and run again"; exit 1; }
fi
if bash godot-addon/tests/lint.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

step "Godot-side tests"
if bash godot-addon/tests/run.sh; then
  [ -n "${GODOT:-}" ] && passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1
fi

echo
echo "${passed} passed, ${failed} failed"
exit "$status"
