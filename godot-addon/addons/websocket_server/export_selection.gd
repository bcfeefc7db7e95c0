extends RefCounted
## Decides which sidecar files an export carries, from the export's feature
## tags, the [code]websocket_server/ship_raw_binary[/code] option and the files
## that exist; [code]export_plugin.gd[/code] carries the decision out. No side
## effects, so [code]tests/test_export_selection.gd[/code] covers every case.
##
## The compressed sidecar and its manifest always go into the pack when they
## exist. A macOS export with Godot's default universal architecture (feature
## tags [code]universal[/code], [code]arm64[/code] and [code]x86_64[/code])
## packs both macOS sidecars: the game picks its own at run time from
## [method Engine.get_architecture_name] ([code]sidecar_locator.gd[/code]). With
## [code]ship_raw_binary[/code] the raw executable is placed next to the game;
## an addon installed from the release zip has only the compressed one, which
## is then decompressed at export.

const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")


## The platform folders an export with [param features] needs: none for
## platforms the sidecar cannot run on, both macOS ones for a universal export.
static func platform_dirs(features: PackedStringArray) -> PackedStringArray:
	if features.has("macos") and (features.has("universal") or (features.has("arm64") and features.has("x86_64"))):
		return PackedStringArray(["macos-arm64", "macos-x64"])
	var dir := SidecarLocator.platform_dir_for_features(features)
	return PackedStringArray() if dir.is_empty() else PackedStringArray([dir])


## The files of platform folder [param dir]: [code]{raw, zst, manifest}[/code]
## as res:// paths.
static func files_of(dir: String) -> Dictionary:
	var folder := SidecarLocator.BIN_DIR.path_join(dir)
	var exe := SidecarLocator.executable_name("Windows" if dir.begins_with("windows") else "")
	return {
		"raw": folder.path_join(exe),
		"zst": folder.path_join(exe + ".zst"),
		"manifest": folder.path_join(SidecarLocator.EXECUTABLE_BASE + ".json"),
	}


## Every path whose existence [method plan] looks at, for [param features].
static func candidate_files(features: PackedStringArray) -> PackedStringArray:
	var paths := PackedStringArray()
	for dir: String in platform_dirs(features):
		paths.append_array(PackedStringArray(files_of(dir).values()))
	return paths


## What to export. [param existing] lists which of [method candidate_files]
## exist. Returns a Dictionary:
## [br][code]pack[/code]: res:// files to add to the pack;
## [br][code]raw[/code]: the raw executable to place next to the game, or "";
## [br][code]raw_from[/code]: the [code].zst[/code] to decompress for that when
## no raw executable exists, or "";
## [br][code]missing[/code]: platform folders with no usable sidecar;
## [br][code]errors[/code]: what is wrong, one sentence each.
static func plan(features: PackedStringArray, ship_raw: bool, existing: PackedStringArray) -> Dictionary:
	var result := {
		"pack": PackedStringArray(), "raw": "", "raw_from": "",
		"missing": PackedStringArray(), "errors": PackedStringArray(),
	}
	var dirs := platform_dirs(features)
	for dir: String in dirs:
		var files := files_of(dir)
		var compressed: bool = existing.has(files["zst"]) and existing.has(files["manifest"])
		if compressed:
			result["pack"].append_array(PackedStringArray([files["zst"], files["manifest"]]))
		if ship_raw and dirs.size() == 1:
			if existing.has(files["raw"]):
				result["raw"] = files["raw"]
			elif compressed:
				result["raw_from"] = files["zst"]
		if not compressed and result["raw"] == "":
			result["missing"].append(dir)
			result["errors"].append(("no sidecar for %s: expected %s with %s%s. "
					+ "The exported game cannot start its WebSocket server.") % [
					dir, files["zst"], files["manifest"].get_file(),
					(", or " + files["raw"].get_file()) if ship_raw and dirs.size() == 1 else ""])
	if ship_raw and dirs.size() > 1:
		result["errors"].append(("ship_raw_binary is refused for a universal macOS export: both architectures' "
				+ "executables have the same name and cannot both sit next to the game. Their compressed "
				+ "sidecars are packed instead and the game extracts its own on first run; export for arm64 "
				+ "or x86_64 alone to ship a raw executable, or turn the option off."))
	return result
