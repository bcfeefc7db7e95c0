@tool
extends EditorExportPlugin
## Packs the sidecar for the export's platform.
##
## The compressed [code]bin/<os>-<arch>/websocket-sidecar.zst[/code] and its
## [code]websocket-sidecar.json[/code] go into the game's pack (both macOS ones
## for a universal macOS export); on first start the game extracts the
## executable to [code]user://websocket_server/[/code] and verifies its
## SHA-256. With the export option [code]websocket_server/ship_raw_binary[/code]
## the raw executable is also placed next to the game executable (in
## [code]Contents/Frameworks[/code] on macOS) and used from there; an addon
## installed from the release zip has only the compressed sidecar, which is
## then decompressed here. What goes where is [code]export_selection.gd[/code]'s
## decision. Other platforms' binaries and the JavaScript build are never exported.

## Emitted when the export's platform has no sidecar in the addon, so the
## editor plugin can offer to download it.
signal missing_sidecars_found(dirs: PackedStringArray)

const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")
const SidecarExtractor := preload("res://addons/websocket_server/sidecar_extractor.gd")
const ExportSelection := preload("res://addons/websocket_server/export_selection.gd")
const OPTION_SHIP_RAW: String = "websocket_server/ship_raw_binary"
## Where a raw executable decompressed for an export is written.
const EXPORT_CACHE_DIR: String = "user://websocket_server/export"


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
	var existing := PackedStringArray()
	for path: String in ExportSelection.candidate_files(features):
		if FileAccess.file_exists(path):
			existing.append(path)
	var plan := ExportSelection.plan(features, get_option(OPTION_SHIP_RAW) == true, existing)
	for file: String in plan["pack"]:
		add_file(file, FileAccess.get_file_as_bytes(file), false)
	var raw: String = plan["raw"]
	if not str(plan["raw_from"]).is_empty():
		raw = _decompress_for_export(plan["raw_from"])
	if not raw.is_empty():
		add_shared_object(ProjectSettings.globalize_path(raw), PackedStringArray(), "")
	for error: String in plan["errors"]:
		push_error("WebSocketServer export: " + error)
	if not plan["missing"].is_empty():
		push_error(("WebSocketServer export: download the missing sidecar with Project > Tools > %s, "
				+ "or copy the addon's bin/<platform>/ folder from a release, then export again.")
				% "Download WebSocket Server Sidecars...")
		missing_sidecars_found.emit(plan["missing"])


func _export_file(path: String, _type: String, _features: PackedStringArray) -> void:
	# _export_begin adds exactly the files this platform needs.
	if path.begins_with(SidecarLocator.BIN_DIR + "/"):
		skip()


# Decompresses and verifies the .zst at zst_path for ship_raw_binary; returns
# the raw executable's path, or "" after reporting why it could not.
func _decompress_for_export(zst_path: String) -> String:
	var dir := zst_path.get_base_dir().get_file()
	var manifest_path := zst_path.get_base_dir().path_join(SidecarLocator.EXECUTABLE_BASE + ".json")
	var manifest := SidecarExtractor.parse_manifest(FileAccess.get_file_as_string(manifest_path))
	if manifest.has("error"):
		push_error("WebSocketServer export: %s %s: reinstall the addon" % [manifest_path, manifest["error"]])
		return ""
	var target := EXPORT_CACHE_DIR.path_join(dir).path_join(zst_path.get_file().get_basename())
	var error := SidecarExtractor.extract(zst_path, manifest, target, "Windows" if dir.begins_with("windows") else "")
	if not error.is_empty():
		push_error("WebSocketServer export: %s is on, but the sidecar could not be decompressed for it: %s"
				% [OPTION_SHIP_RAW, error])
		return ""
	return target
