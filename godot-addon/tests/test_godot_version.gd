extends RefCounted
## The engine version check of the editor plugin and the node.

const GodotVersion := preload("res://addons/websocket_server/godot_version.gd")
const Runner := preload("res://tests/run_tests.gd")

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	for supported: Dictionary in [
		{"major": 4, "minor": 4, "patch": 0, "string": "4.4-stable"},
		{"major": 4, "minor": 4, "patch": 1, "string": "4.4.1-stable"},
		{"major": 4, "minor": 5, "patch": 0, "string": "4.5-beta1"},
		{"major": 5, "minor": 0, "patch": 0, "string": "5.0-stable"},
	]:
		t.check_eq(GodotVersion.unsupported_reason(supported), "", "%s is supported" % supported["string"])
	for too_old: Dictionary in [
		{"major": 4, "minor": 3, "patch": 0, "string": "4.3-stable"},
		{"major": 4, "minor": 0, "patch": 0, "string": "4.0-stable"},
		{"major": 3, "minor": 6, "patch": 0, "string": "3.6-stable"},
	]:
		var reason := GodotVersion.unsupported_reason(too_old)
		t.check(reason.contains("needs Godot 4.4 or newer") and reason.contains("this is Godot " + too_old["string"]),
				"%s is refused, naming both versions: %s" % [too_old["string"], reason])
	t.check(GodotVersion.unsupported_reason({}).contains("this is Godot 0.0"),
			"an empty version Dictionary is refused, not taken for a new engine")
	t.check_eq(GodotVersion.unsupported_reason(Engine.get_version_info()), "", "the engine running the tests is supported")
