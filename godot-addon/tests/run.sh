#!/usr/bin/env bash
# Runs the addon's Godot tests headless: codec fixtures, fuzz, lookup, node unit
# tests and live round trips with the real sidecar and real WebSocket clients.
#   GODOT=/path/to/godot godot-addon/tests/run.sh [--only=codec|locator|node|live]
# Needs the sidecar: `npm run build` (bin/sidecar.cjs, run with node) or a
# binary in addons/websocket_server/bin/<os>-<arch>/. Port 8080 must be free.
#
# A run passes only when all of these hold, so a broken script cannot pass as "0 checks failed":
#   - the engine exits 0 and prints "ALL GODOT TESTS PASSED" (it crashed otherwise),
#   - it ends within GODOT_TEST_TIMEOUT seconds (default 180; a whole run takes about 15 s),
#   - every suite printed its "N checks, M failed" line with M = 0,
#   - the engine printed no "ERROR:" or "SCRIPT ERROR:" line outside the allow-list below.
# Ends with one line per suite and "GODOT SUITES: N passed, N failed" (one count per suite).
# The engine's whole output is in a temporary log, kept and named when the run fails
# (or always written to GODOT_TEST_LOG when that is set).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
fixtures="$(cd "$project/../protocol/fixtures" && pwd)"
limit="${GODOT_TEST_TIMEOUT:-180}"

# Errors the suites provoke on purpose: "suite<TAB>extended regex of the message". Keep it short:
# every entry is a line a broken addon could also print, so each one names the check that causes it.
export GODOT_TESTS_ALLOWED_ERRORS
GODOT_TESTS_ALLOWED_ERRORS=$(cat <<'EOF'
locator	^ERROR: Parse JSON failed\. Error at line 0: Expected 'true', 'false', or 'null', got 'not'$
node	^ERROR: WebSocketServer\.disconnect_client: close code 1001 is not allowed
node	^ERROR: WebSocketServer\.disconnect_client: the reason is 124 bytes of UTF-8
node	^ERROR: WebSocketServer: a room name cannot be empty
live	^ERROR: Invalid status code\. Got: '401', expected '101'\.$
live	^ERROR: Invalid response headers\.$
node	^ERROR: WebSocketServer could not start: the sidecar speaks protocol 2, this addon speaks 1:
node	^ERROR: WebSocketServer could not start: the sidecar is version 0\.2\.0, this addon is version
node	^ERROR: WebSocketServer could not start: simulated failure \(address_in_use\)$
live	^ERROR: WebSocketServer could not start: port 8080 on 0\.0\.0\.0 is already in use by another program
live	^ERROR: WebSocketServer could not start: the sidecar is version 9\.9\.9, this addon is version
live	^ERROR: WebSocketServer could not start: the sidecar \(.*\) exited with code 3 before it listened
live	^ERROR: WebSocketServer could not start: the sidecar_path property names /nonexistent/websocket-sidecar, which does not exist
hardening	^ERROR: WebSocketServer could not start: port 18105 on 127\.0\.0\.1 is already in use by another program
hardening	^ERROR: WebSocketServer could not start: the sidecar \(.*\) did not report listening within 500 ms
hardening	^ERROR: WebSocketServer could not start: the sidecar_path property names .*/not-a-sidecar, which is neither an executable
hardening	^ERROR: WebSocketServer could not start: the sidecar_path property names .*/elf-not-executable, which is not executable
hardening	^ERROR: WebSocketServer could not start: .*hello
EOF
)
# Why each is expected:
#   locator: test_locator.gd's _test_manifest feeds parse_manifest a manifest that is not JSON.
#   node:    test_node.gd's _test_argument_checks calls disconnect_client with a reserved code
#            and with a 124-byte reason, and join_room with an empty room name; all must be
#            refused with push_error.
#   live:    test_live.gd's auth test connects Godot's own WebSocketPeer to a server that
#            rejects it with 401; the engine's client logs the failed handshake twice.
#   "could not start" (node, live): every failed start() also goes through push_error
#            (issue #18 defect 10); test_node.gd's hello/start_failed checks and test_live.gd's
#            port-in-use check and _test_bad_sidecars fail starts on purpose.
#            In hardening: test_hardening_lifecycle.gd's _test_autostart_failure_is_heard (port
#            18105 held), _test_hung_sidecar_startup (500 ms timeout) and _test_sidecar_without_hello,
#            and test_hardening_io.gd's _test_non_executable_sidecar_path (two refused files).

if [ -z "${GODOT:-}" ]; then
  echo "Godot tests SKIPPED: set GODOT=/path/to/godot (Godot 4.4+) to run them"
  exit 0
fi
if [ ! -x "$GODOT" ] && ! command -v "$GODOT" >/dev/null 2>&1; then
  echo "GODOT=$GODOT is not an executable: point it at a Godot 4.4+ binary" >&2
  exit 2
fi
case "$limit" in '' | *[!0-9]*) echo "GODOT_TEST_TIMEOUT=$limit is not a whole number of seconds" >&2; exit 2 ;; esac
command -v timeout >/dev/null 2>&1 || { echo "the timeout command (coreutils) is missing" >&2; exit 2; }

echo "engine: $("$GODOT" --version 2>/dev/null | tail -n1) ($GODOT)"
bash "$project/write-class-cache.sh"

log="${GODOT_TEST_LOG:-$(mktemp "${TMPDIR:-/tmp}/godot-tests.XXXXXX")}"
verdict="$(mktemp "${TMPDIR:-/tmp}/godot-verdict.XXXXXX")"
started=$SECONDS
set +e
timeout --kill-after=10 "$limit" "$GODOT" --headless --path "$project" --script res://tests/run_tests.gd \
  -- --fixtures="$fixtures" "$@" 2>&1 | tee "$log" | awk -v verdict="$verdict" '
  BEGIN {
    n = split(ENVIRON["GODOT_TESTS_ALLOWED_ERRORS"], rules, "\n")
    for (i = 1; i <= n; i++) { split(rules[i], part, "\t"); rule_suite[i] = part[1]; rule_re[i] = part[2] }
    suite = "(start-up)"; count = 0
  }
  # The codec fuzz feeds invalid UTF-8 on purpose: thousands of these, not errors of ours.
  /^Unicode parsing error/ { unicode++; next }
  { print }
  /^== [a-z_]+$/ { suite = substr($0, 4); order[++count] = suite; next }
  /^   [0-9]+ checks, [0-9]+ failed, [0-9]+ ms$/ {
    checks[suite] = $1; failed[suite] = $3; ms[suite] = $5; done[suite] = 1; next
  }
  /^ALL GODOT TESTS PASSED/ { all_passed = 1 }
  /^(USER )?(SCRIPT )?ERROR:/ {
    for (i = 1; i <= n; i++) if (rule_suite[i] == suite && $0 ~ rule_re[i]) { expected[suite]++; next }
    unexpected[suite]++
    if (!(suite in first_error)) first_error[suite] = $0
  }
  END {
    printf "last_suite=%s\nall_passed=%d\n", suite, all_passed > verdict
    if (unexpected["(start-up)"]) printf "startup_error=%s\n", first_error["(start-up)"] > verdict
    for (i = 1; i <= count; i++) {
      s = order[i]
      why = unexpected[s] ? unexpected[s] " unexpected error line(s), first: " first_error[s] : ""
      if (failed[s] > 0) why = why (why == "" ? "" : "; ") failed[s] " checks failed"
      if (!done[s]) why = why (why == "" ? "" : "; ") "no result line: it did not load, or the engine crashed or hung in it"
      line = sprintf("%-8s %s  %d checks, %d failed, %d ms", s, why == "" ? "PASS" : "FAIL", checks[s], failed[s], ms[s])
      if (expected[s]) line = line sprintf(", %d expected error(s)", expected[s])
      if (s == "codec" && unicode) line = line sprintf(", %d fuzz UTF-8 warnings hidden", unicode)
      printf "show=  %s\n", line > verdict
      if (why == "") passed++; else { failed_suites++; printf "show=           %s\n", why > verdict }
    }
    printf "passed=%d\nfailed=%d\n", passed, failed_suites > verdict
  }'
statuses=("${PIPESTATUS[@]}")
set -e
godot_status=${statuses[0]}
elapsed=$((SECONDS - started))

last_suite=$(sed -n 's/^last_suite=//p' "$verdict")
all_passed=$(sed -n 's/^all_passed=//p' "$verdict")
startup_error=$(sed -n 's/^startup_error=//p' "$verdict")
suites_passed=$(sed -n 's/^passed=//p' "$verdict")
suites_failed=$(sed -n 's/^failed=//p' "$verdict")

echo
echo "Godot suites (${elapsed} s in all):"
sed -n 's/^show=//p' "$verdict"
problem=""
if [ "$godot_status" -eq 124 ] || [ "$godot_status" -eq 137 ]; then
  problem="no result after ${limit} s: the engine hung in suite ${last_suite} and was killed (GODOT_TEST_TIMEOUT=${limit})"
elif [ "$godot_status" -ne 0 ]; then
  problem="the engine exited with code ${godot_status} during suite ${last_suite}"
elif [ "$all_passed" != 1 ]; then
  problem="the engine exited 0 but never printed ALL GODOT TESTS PASSED"
elif [ -n "$startup_error" ]; then
  problem="an error before any suite started: ${startup_error}"
elif [ "${suites_failed:-0}" -gt 0 ]; then
  problem="${suites_failed} suite(s) failed: see their lines above"
fi
if [ -n "$problem" ] || [ "$suites_failed" -gt 0 ] || [ "$suites_passed" -eq 0 ]; then
  # A failure outside any suite's own line (crash, hang, start-up error) still counts as one.
  [ "$suites_failed" -gt 0 ] || suites_failed=1
  [ -z "$problem" ] || echo "Godot tests FAILED: $problem" >&2
  echo "GODOT SUITES: ${suites_passed} passed, ${suites_failed} failed; the engine's whole output: $log"
  rm -f "$verdict"
  exit 1
fi
echo "GODOT SUITES: ${suites_passed} passed, 0 failed"
rm -f "$verdict"
[ -n "${GODOT_TEST_LOG:-}" ] || rm -f "$log"
