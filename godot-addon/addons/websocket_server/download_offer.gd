@tool
extends Node
## The editor's side of a missing sidecar: offers to download it from the
## project's release, shows the progress, and reports failures in a dialog and
## the Output together with what to download by hand and where to put it.
##
## The download itself is [code]sidecar_downloader.gd[/code]'s job (it verifies
## every file against the SHA-256 pinned in [code]release.json[/code]); what is
## pinned and where it comes from is [code]release_pin.gd[/code]'s.

const ReleasePin := preload("res://addons/websocket_server/release_pin.gd")
const SidecarDownloader := preload("res://addons/websocket_server/sidecar_downloader.gd")
const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")
const ExportSelection := preload("res://addons/websocket_server/export_selection.gd")

## Export platform names in [code]export_presets.cfg[/code] and their OS feature tag.
const PRESET_PLATFORMS: Dictionary = {"Linux": "linux", "Windows Desktop": "windows", "macOS": "macos"}

var _downloader: SidecarDownloader
var _confirm: ConfirmationDialog
var _message: AcceptDialog
var _progress: AcceptDialog
var _progress_label: Label
var _progress_bar: ProgressBar
var _pin: Dictionary = {}
var _base_url: String = ""
var _queue: PackedStringArray = []


func _ready() -> void:
	_downloader = SidecarDownloader.new()
	_downloader.progressed.connect(_on_progressed)
	_downloader.finished.connect(_on_finished)
	add_child(_downloader)
	_confirm = ConfirmationDialog.new()
	_confirm.title = "WebSocket Server"
	_confirm.ok_button_text = "Download"
	_confirm.confirmed.connect(_download_next)
	add_child(_confirm)
	_message = AcceptDialog.new()
	_message.title = "WebSocket Server"
	add_child(_message)
	_progress = AcceptDialog.new()
	_progress.title = "Downloading the WebSocket Server sidecar"
	_progress.ok_button_text = "Cancel"
	_progress.confirmed.connect(_downloader.cancel)
	_progress.canceled.connect(_downloader.cancel)
	var box := VBoxContainer.new()
	box.custom_minimum_size = Vector2(480, 0)
	_progress_label = Label.new()
	_progress_bar = ProgressBar.new()
	box.add_child(_progress_label)
	box.add_child(_progress_bar)
	_progress.add_child(box)
	add_child(_progress)


## The platform folders the export presets in [param presets] (a loaded
## [code]export_presets.cfg[/code]) need sidecars for.
static func preset_dirs(presets: ConfigFile) -> PackedStringArray:
	var dirs := PackedStringArray()
	for section: String in presets.get_sections():
		if not section.begins_with("preset.") or section.ends_with(".options"):
			continue
		var os_tag: String = PRESET_PLATFORMS.get(str(presets.get_value(section, "platform", "")), "")
		if os_tag.is_empty():
			continue
		var arch := str(presets.get_value(section + ".options", "binary_format/architecture", "x86_64"))
		for dir: String in ExportSelection.platform_dirs(PackedStringArray([os_tag, arch])):
			if not dirs.has(dir):
				dirs.append(dir)
	return dirs


## Offers to download the sidecars of [param dirs] that are not installed.
## [param why] opens the message. Without a pinned release or a known
## repository it shows what to do by hand instead.
func offer(dirs: PackedStringArray, why: String) -> void:
	if _downloader.is_busy() or _confirm.visible:
		return
	var missing := PackedStringArray()
	for dir: String in dirs:
		if not ReleasePin.is_installed(SidecarLocator.BIN_DIR, dir):
			missing.append(dir)
	if missing.is_empty():
		_report("The sidecars for %s are installed." % ", ".join(dirs), false)
		return
	var pin := ReleasePin.load_pin()
	if pin.has("error"):
		_report("%s %s" % [why, pin["error"]], true)
		return
	var repository := str(ProjectSettings.get_setting(ReleasePin.SETTING_REPOSITORY, ""))
	var base_url := ReleasePin.base_url(pin, repository)
	var by_hand := PackedStringArray()
	var bytes := 0
	var all_pinned := true
	for dir: String in missing:
		by_hand.append(ReleasePin.manual_instructions(pin, dir, repository, _target(dir)))
		all_pinned = all_pinned and pin["platforms"].has(dir)
		for file: Dictionary in pin["platforms"].get(dir, []):
			bytes += int(file["size"])
	if base_url.is_empty() or not all_pinned:
		_report("%s\n\n%s" % [why, "\n\n".join(by_hand)], true)
		return
	_pin = pin
	_base_url = base_url
	_queue = missing
	_confirm.dialog_text = ("%s\n\nDownload the WebSocket Server sidecar for %s (%.1f MB) from\n%s ?\n"
			+ "Each file is checked against the SHA-256 pinned in release.json before it is used.") % [
			why, ", ".join(missing), bytes / 1e6, base_url]
	print("WebSocket Server: " + _confirm.dialog_text.replace("\n", " "))
	_confirm.popup_centered()


func _download_next() -> void:
	if _queue.is_empty():
		_progress.hide()
		return
	var dir := _queue[0]
	_progress_label.text = "%s: starting" % dir
	_progress_bar.value = 0
	if not _progress.visible:
		_progress.popup_centered()
	_downloader.download(_base_url, _pin["platforms"][dir], _target(dir))


func _on_progressed(asset: String, received: int, total: int) -> void:
	_progress_label.text = "%s: %.1f of %.1f MB" % [asset, received / 1e6, total / 1e6]
	_progress_bar.value = 100.0 * received / maxi(total, 1)


func _on_finished(error: String) -> void:
	if _queue.is_empty():
		return
	var dir := _queue[0]
	_queue.remove_at(0)
	if not error.is_empty():
		_queue.clear()
		_progress.hide()
		var repository := str(ProjectSettings.get_setting(ReleasePin.SETTING_REPOSITORY, ""))
		_report("Downloading the %s sidecar failed: %s\n\n%s" % [dir, error,
				ReleasePin.manual_instructions(_pin, dir, repository, _target(dir))], true)
		return
	print("WebSocket Server: the %s sidecar is installed in %s (size and SHA-256 verified)." % [dir, _target(dir)])
	_download_next()


func _report(text: String, is_error: bool) -> void:
	if is_error:
		push_error("WebSocket Server: " + text)
	else:
		print("WebSocket Server: " + text)
	_message.dialog_text = text
	_message.popup_centered()


static func _target(dir: String) -> String:
	return ProjectSettings.globalize_path(SidecarLocator.BIN_DIR.path_join(dir))
