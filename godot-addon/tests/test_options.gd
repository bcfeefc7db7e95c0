extends RefCounted
## The node's [code]@export[/code]s against the start-option table
## ([code]protocol/fixtures/start-options.json[/code], generated from
## [code]protocol/start-options.ts[/code], which the sidecar validates against):
## each option's default, and for ints the inspector's range, must be ones the
## sidecar accepts.
##
## [method WebSocketServer._queue_start] sends every option under the name of the
## property it reads ([code]port[/code] and [code]host[/code] arrive through
## [method WebSocketServer.start]'s arguments, which autostart takes from the
## properties of the same names), so property name and wire key are the same.

const Server := preload("res://addons/websocket_server/websocket_server.gd")
const Runner := preload("res://tests/run_tests.gd")

## Variant type of the property that carries each option type.
const TYPES: Dictionary = {
	"int": TYPE_INT,
	"str": TYPE_STRING,
	"bool": TYPE_BOOL,
	"array of str": TYPE_PACKED_STRING_ARRAY,
	"map str → str": TYPE_DICTIONARY,
}

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	var path := t.fixtures_dir.path_join("start-options.json")
	if not t.check(FileAccess.file_exists(path), "%s exists (npm run fixtures writes it)" % path):
		return
	var table: Variant = JSON.parse_string(FileAccess.get_file_as_string(path))
	if not t.check(table is Array and not table.is_empty(), "%s is a non-empty JSON array" % path):
		return
	var server: Server = Server.new()
	var properties := {}
	var script_variables := {}
	for property: Dictionary in server.get_property_list():
		if property["usage"] & PROPERTY_USAGE_EDITOR:
			properties[property["name"]] = property
		elif property["usage"] & PROPERTY_USAGE_SCRIPT_VARIABLE:
			script_variables[property["name"]] = property
	for option: Dictionary in table:
		if option.get("inspector", true) == false:
			_check_hidden_option(server, script_variables, option)
		else:
			_check_option(server, properties, option)
	server.free()


## An option marked [code]"inspector": false[/code] is set by code (say,
## [WebSocketServerMultiplayerPeer]), so it is a plain property, not an export.
func _check_hidden_option(server: Server, script_variables: Dictionary, option: Dictionary) -> void:
	var key: String = option["key"]
	if not t.check(script_variables.has(key), "the node has a (not exported) property for start option %s" % key):
		return
	var type: String = option["type"]
	t.check_eq(script_variables[key]["type"], TYPES[type], "%s has the Variant type of a %s" % [key, type])
	t.check_eq(server.get(key), option["default"], "the node's default %s equals the sidecar's" % key)


func _check_option(server: Server, properties: Dictionary, option: Dictionary) -> void:
	var key: String = option["key"]
	if not t.check(properties.has(key), "the node exports a property for start option %s" % key):
		return
	var property: Dictionary = properties[key]
	var type: String = option["type"]
	t.check_eq(property["type"], TYPES[type], "%s is exported as the Variant type of a %s" % [key, type])
	var value: Variant = server.get(key)
	var expected: Variant = option["default"]
	match type:
		"int":
			expected = int(expected)
		"array of str":
			expected = PackedStringArray(expected)
	t.check_eq(value, expected, "the node's default %s equals the sidecar's" % key)
	if type != "int":
		return
	if not t.check(property["hint"] == PROPERTY_HINT_RANGE, "%s is exported with @export_range" % key):
		return
	var bounds: PackedStringArray = str(property["hint_string"]).split(",")
	var min_value := int(bounds[0])
	var max_value := int(bounds[1])
	t.check_eq(min_value, int(option["min"]), "the inspector's minimum of %s equals the sidecar's" % key)
	# The slider may stop below the sidecar's maximum (a friendlier slider), never above it.
	t.check(
			max_value <= int(option["max"]),
			"the inspector's maximum of %s (%d) is at most the sidecar's (%d)" % [key, max_value, int(option["max"])])
