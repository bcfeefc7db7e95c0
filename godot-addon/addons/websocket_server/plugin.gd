@tool
extends EditorPlugin
## Refuses to run on Godot older than 4.4, registers the project settings
## [code]websocket_server/sidecar_path[/code] and
## [code]websocket_server/release_repository[/code], the export plugin that
## packs the sidecar for the export's platform, and the offer to download a
## missing sidecar (at start-up for the editor's platform, before an export for
## the export's, and from [i]Project > Tools[/i]).
##
## Only [code]godot_version.gd[/code] is preloaded: the other scripts are
## loaded after the version check, so an older engine reaches the check and
## its clear message instead of failing to compile them.

const GodotVersion := preload("res://addons/websocket_server/godot_version.gd")
## The plugin's folder name, which [method EditorInterface.set_plugin_enabled] takes.
const PLUGIN_NAME: String = "websocket_server"
const MENU_DOWNLOAD: String = "Download WebSocket Server Sidecars..."
const ADDON_DIR: String = "res://addons/websocket_server/"

var _export_plugin: EditorExportPlugin = null
var _offer: Node = null


func _enter_tree() -> void:
	var too_old := GodotVersion.unsupported_reason(Engine.get_version_info())
	if not too_old.is_empty():
		_refuse(too_old)
		return
	var locator: GDScript = load(ADDON_DIR + "sidecar_locator.gd")
	var pin: GDScript = load(ADDON_DIR + "release_pin.gd")
	_add_string_setting(locator.SETTING_SIDECAR_PATH, PROPERTY_HINT_GLOBAL_FILE)
	_add_string_setting(pin.SETTING_REPOSITORY, PROPERTY_HINT_NONE)
	_offer = load(ADDON_DIR + "download_offer.gd").new()
	add_child(_offer)
	_export_plugin = load(ADDON_DIR + "export_plugin.gd").new()
	_export_plugin.missing_sidecars_found.connect(func(dirs: PackedStringArray) -> void:
		_offer.offer.call_deferred(dirs, "The export needs the sidecar for %s, which this copy of the addon lacks."
				% ", ".join(dirs)))
	add_export_plugin(_export_plugin)
	add_tool_menu_item(MENU_DOWNLOAD, _offer_from_menu)
	_offer_for_editor.call_deferred()


func _exit_tree() -> void:
	if _export_plugin != null:
		remove_export_plugin(_export_plugin)
		_export_plugin = null
	if _offer != null:
		remove_tool_menu_item(MENU_DOWNLOAD)
		_offer.queue_free()
		_offer = null


# The editor's own platform: offered once at start-up when nothing can run the
# server here (no binary, no override, no JavaScript build of a source checkout).
func _offer_for_editor() -> void:
	var locator: GDScript = load(ADDON_DIR + "sidecar_locator.gd")
	var dir: String = locator.platform_dir(OS.get_name(), Engine.get_architecture_name())
	var overridden := not str(ProjectSettings.get_setting(locator.SETTING_SIDECAR_PATH, "")).is_empty() \
			or not OS.get_environment(locator.ENV_SIDECAR_PATH).is_empty()
	if _offer == null or dir.is_empty() or overridden or FileAccess.file_exists(locator.SCRIPT_PATH):
		return
	if not load(ADDON_DIR + "release_pin.gd").is_installed(locator.BIN_DIR, dir):
		_offer.offer(PackedStringArray([dir]), ("This copy of the WebSocket Server addon has no sidecar for %s "
				+ "(the Asset Library installs it without binaries), so WebSocketServer.start() would fail.") % dir)


func _offer_from_menu() -> void:
	var locator: GDScript = load(ADDON_DIR + "sidecar_locator.gd")
	var dirs := PackedStringArray([locator.platform_dir(OS.get_name(), Engine.get_architecture_name())])
	var presets := ConfigFile.new()
	if presets.load("res://export_presets.cfg") == OK:
		for dir: String in _offer.preset_dirs(presets):
			if not dirs.has(dir):
				dirs.append(dir)
	_offer.offer(dirs, "Sidecars for this editor and the project's export presets: %s." % ", ".join(dirs))


func _add_string_setting(setting_name: String, hint: int) -> void:
	if not ProjectSettings.has_setting(setting_name):
		ProjectSettings.set_setting(setting_name, "")
	ProjectSettings.set_initial_value(setting_name, "")
	ProjectSettings.add_property_info({"name": setting_name, "type": TYPE_STRING, "hint": hint})


func _refuse(reason: String) -> void:
	push_error("WebSocket Server: " + reason + " The plugin has been disabled.")
	var dialog := AcceptDialog.new()
	dialog.title = "WebSocket Server"
	dialog.dialog_text = reason + "\n\nThe plugin has been disabled."
	EditorInterface.popup_dialog_centered(dialog)
	EditorInterface.set_plugin_enabled.call_deferred(PLUGIN_NAME, false)
