extends RefCounted
## Issue #18's attack on the addon, written before the fixes: one check per
## defect and bound, each through the [WebSocketServer]'s public API and real
## processes only, so the checks outlive the node's restructuring. Opt-in
## ([code]run.sh --only=hardening[/code]) until the fixes land.
## The API the fixes are tested against is proposed in [code]PROPOSED-API.md[/code].

const Runner := preload("res://tests/run_tests.gd")
const Kit := preload("res://tests/hardening_kit.gd")

## One file per theme, each run in turn.
const PARTS: PackedStringArray = [
	"res://tests/test_hardening_crash.gd",
	"res://tests/test_hardening_lifecycle.gd",
	"res://tests/test_hardening_io.gd",
	"res://tests/test_hardening_errors.gd",
	"res://tests/test_hardening_extract.gd",
]


func run(runner: Runner) -> void:
	var only := OS.get_environment("HARDENING_ONLY")
	for part: String in PARTS:
		if not only.is_empty() and not part.contains(only):
			continue
		var script: GDScript = load(part)
		if not runner.check(script != null and script.can_instantiate(), "%s loads without script errors" % part):
			continue
		var started := Time.get_ticks_msec()
		var suite: RefCounted = script.new()
		await suite.run(runner)
		print("   %s: %d ms" % [part.get_file(), Time.get_ticks_msec() - started])
	Kit.remove_scratch()
