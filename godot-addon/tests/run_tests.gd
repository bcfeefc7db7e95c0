extends SceneTree
## Headless test runner:
## [code]$GODOT --headless --path godot-addon --script res://tests/run_tests.gd -- --fixtures=<dir>[/code]
##
## Runs every suite, prints one line per failed check and a summary, and quits
## with exit code 1 if any check failed. [code]--only=<suite>[/code] runs one
## suite (codec, locator, command_writer, event_reader, node, options, live, hardening,
## version, downloader, export_selection, release_pin,
## multiplayer).

const SUITES: Dictionary = {
	"codec": "res://tests/test_codec.gd",
	"locator": "res://tests/test_locator.gd",
	"command_writer": "res://tests/test_command_writer.gd",
	"event_reader": "res://tests/test_event_reader.gd",
	"node": "res://tests/test_node.gd",
	"options": "res://tests/test_options.gd",
	"live": "res://tests/test_live.gd",
	"hardening": "res://tests/test_hardening.gd",
	"cluster": "res://tests/test_cluster.gd",
	"version": "res://tests/test_godot_version.gd",
	"downloader": "res://tests/test_downloader.gd",
	"release_pin": "res://tests/test_release_pin.gd",
	"export_selection": "res://tests/test_export_selection.gd",
	"multiplayer": "res://tests/test_multiplayer.gd",
}

## Suites that run only when named with [code]--only[/code] (issue #18's
## attack, which fails until its fixes land).
const OPT_IN_SUITES: PackedStringArray = []

## Longest a whole run may take.
const WATCHDOG_SECONDS: int = 300

## Folder of protocol/fixtures.
var fixtures_dir: String = ""
## Checks run so far.
var checks: int = 0
## Checks failed so far.
var failures: int = 0
## Suite running now, for failure lines.
var current_suite: String = ""


func _initialize() -> void:
	# A watchdog: a test that hangs must fail the run, not stall CI.
	create_timer(WATCHDOG_SECONDS).timeout.connect(func() -> void:
		printerr("GODOT TESTS FAILED: still running after %d s (suite %s)" % [WATCHDOG_SECONDS, current_suite])
		quit(3))
	_main.call_deferred()


## Records one check; prints a failure line naming [param what] when [param ok] is false.
func check(ok: bool, what: String) -> bool:
	checks += 1
	if not ok:
		failures += 1
		printerr("FAIL [%s] %s" % [current_suite, what])
	return ok


## Checks that [param actual] equals [param expected] (same types, deeply).
func check_eq(actual: Variant, expected: Variant, what: String) -> bool:
	var ok := deep_equal(actual, expected)
	if not ok:
		what += "\n      expected: %s\n      actual:   %s" % [_show(expected), _show(actual)]
	return check(ok, what)


## Deep equality that also requires equal types (1 and 1.0 differ).
func deep_equal(a: Variant, b: Variant) -> bool:
	if typeof(a) != typeof(b):
		return false
	match typeof(a):
		TYPE_ARRAY:
			if a.size() != b.size():
				return false
			for i: int in a.size():
				if not deep_equal(a[i], b[i]):
					return false
			return true
		TYPE_DICTIONARY:
			if a.size() != b.size():
				return false
			for key: Variant in a:
				if not b.has(key) or not deep_equal(a[key], b[key]):
					return false
			return true
	return a == b


func _show(value: Variant) -> String:
	var text := var_to_str(value).replace("\n", " ")
	return text if text.length() <= 300 else text.substr(0, 300) + "..."


func _main() -> void:
	var only := ""
	fixtures_dir = ProjectSettings.globalize_path("res://").path_join("../protocol/fixtures").simplify_path()
	for arg: String in OS.get_cmdline_user_args():
		if arg.begins_with("--fixtures="):
			fixtures_dir = arg.substr(11)
		elif arg.begins_with("--only="):
			only = arg.substr(7)
	var started := Time.get_ticks_msec()
	for suite_name: String in SUITES:
		if not only.is_empty() and suite_name != only:
			continue
		if only.is_empty() and OPT_IN_SUITES.has(suite_name):
			continue
		current_suite = suite_name
		var before_checks := checks
		var before_failures := failures
		var suite_start := Time.get_ticks_msec()
		print("== %s" % suite_name)
		var script: GDScript = load(SUITES[suite_name])
		if not check(script != null and script.can_instantiate(), "%s loads without script errors" % SUITES[suite_name]):
			continue
		var suite: RefCounted = script.new()
		await suite.run(self)
		print(("   %d checks, %d failed, %d "
				+ "ms") % [checks - before_checks, failures - before_failures, Time.get_ticks_msec() - suite_start])
	var summary := "%d checks, %d failed (%d ms)" % [checks, failures, Time.get_ticks_msec() - started]
	if failures == 0 and checks > 0:
		print("ALL GODOT TESTS PASSED: " + summary)
		quit(0)
	else:
		printerr("GODOT TESTS FAILED: " + summary)
		quit(1)
