@tool
extends EditorExportPlugin
## Packs the sidecar for the export's platform.
##
## The compressed [code]bin/<os>-<arch>/websocket-sidecar.zst[/code] and its
## [code]websocket-sidecar.json[/code] go into the game's pack; on first start
## the game extracts the executable to [code]user://websocket_server/[/code]
## and verifies its SHA-256. With the export option
## [code]websocket_server/ship_raw_binary[/code] the raw executable is also
## placed next to the game executable (in [code]Contents/Frameworks[/code] on
## macOS) and used from there. Other platforms' binaries and the JavaScript
## build are never exported.

const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")
const OPTION_SHIP_RAW: String = "websocket_server/ship_raw_binary"


func _get_name() -> String:
	return "WebSocketServerSidecar"


func _supports_platform(platform: EditorExportPlatform) -> bool:
	return platform is EditorExportPlatformPC or platform is EditorExportPlatformMacOS


func _get_export_options(_platform: EditorExportPlatform) -> Array[Dictionary]:
	return [{
		"option": {
			"name": OPTION_SHIP_RAW,
			"type": TYPE_BOOL,
		},
		"default_value": false,
	}]


func _export_begin(features: PackedStringArray, _is_debug: bool, _path: String, _flags: int) -> void:
	var dir := SidecarLocator.platform_dir_for_features(features)
	if dir.is_empty():
		return
	var os_name := "Windows" if dir.begins_with("windows") else ("macOS" if dir.begins_with("macos") else "Linux")
	var exe_name := SidecarLocator.executable_name(os_name)
	var folder := SidecarLocator.BIN_DIR.path_join(dir)
	var zst := folder.path_join(exe_name + ".zst")
	var manifest := folder.path_join(SidecarLocator.EXECUTABLE_BASE + ".json")
	var raw := folder.path_join(exe_name)
	var ship_raw: bool = get_option(OPTION_SHIP_RAW) == true
	var packed_any := false
	if FileAccess.file_exists(zst) and FileAccess.file_exists(manifest):
		add_file(zst, FileAccess.get_file_as_bytes(zst), false)
		add_file(manifest, FileAccess.get_file_as_bytes(manifest), false)
		packed_any = true
	if ship_raw:
		if FileAccess.file_exists(raw):
			add_shared_object(ProjectSettings.globalize_path(raw), PackedStringArray(), "")
			packed_any = true
		else:
			push_error(("WebSocketServer export: %s is on, but %s does not exist: "
					+ "build the sidecar for %s or turn the option off") % [OPTION_SHIP_RAW, raw, dir])
	if not packed_any:
		push_error(("WebSocketServer export: no sidecar for %s in %s (expected %s with %s, or %s): "
				+ "the exported game cannot start its WebSocket server. "
				+ "Copy the addon's bin/%s/ folder from a release or build it.")
				% [dir, folder, zst, manifest.get_file(), raw.get_file(), dir])


func _export_file(path: String, _type: String, _features: PackedStringArray) -> void:
	# _export_begin adds exactly the files this platform needs.
	if path.begins_with(SidecarLocator.BIN_DIR + "/"):
		skip()
