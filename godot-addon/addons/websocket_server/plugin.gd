@tool
extends EditorPlugin
## Registers the [code]websocket_server/sidecar_path[/code] project setting and
## the export plugin that packs the sidecar for the export's platform.

const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")
const ExportPlugin := preload("res://addons/websocket_server/export_plugin.gd")

var _export_plugin: EditorExportPlugin = null


func _enter_tree() -> void:
	if not ProjectSettings.has_setting(SidecarLocator.SETTING_SIDECAR_PATH):
		ProjectSettings.set_setting(SidecarLocator.SETTING_SIDECAR_PATH, "")
	ProjectSettings.set_initial_value(SidecarLocator.SETTING_SIDECAR_PATH, "")
	ProjectSettings.add_property_info({
		"name": SidecarLocator.SETTING_SIDECAR_PATH,
		"type": TYPE_STRING,
		"hint": PROPERTY_HINT_GLOBAL_FILE,
	})
	_export_plugin = ExportPlugin.new()
	add_export_plugin(_export_plugin)


func _exit_tree() -> void:
	if _export_plugin != null:
		remove_export_plugin(_export_plugin)
		_export_plugin = null
