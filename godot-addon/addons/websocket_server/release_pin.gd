extends RefCounted
## Reads [code]release.json[/code]: which release this copy of the addon belongs
## to, where its files are downloaded from, and the SHA-256 of every sidecar
## file, pinned when [code]npm run release[/code] built them.
##
## A copy of the addon taken from the repository (the Asset Library's commit
## ZIP) has no sidecar binaries; this file lets the editor plugin download the
## right ones and refuse anything that does not match. The download location is
## [code]base_url[/code] with [code]{repository}[/code] (owner/name on GitHub)
## and [code]{version}[/code] filled in; the project setting
## [code]websocket_server/release_repository[/code] overrides the file's
## [code]repository[/code].

## The pin file in the addon.
const PATH: String = "res://addons/websocket_server/release.json"
## Project setting overriding the file's [code]repository[/code] (owner/name).
const SETTING_REPOSITORY: String = "websocket_server/release_repository"


## Parses [code]release.json[/code]. Returns [code]{version, repository,
## base_url, platforms}[/code], where [code]platforms[/code] maps a platform
## folder ([code]linux-x64[/code], ...) to an Array of
## [code]{asset, file, size, sha256}[/code] (the release asset's name, its name in
## [code]bin/<platform>/[/code], its size and hash); it is empty when no release
## is pinned. Returns [code]{error}[/code] when the file is malformed.
static func parse(text: String) -> Dictionary:
	var parsed: Variant = JSON.parse_string(text)
	if typeof(parsed) != TYPE_DICTIONARY:
		return {"error": "is not a JSON object"}
	var pin: Dictionary = parsed
	for key: String in ["version", "repository", "base_url"]:
		if typeof(pin.get(key)) != TYPE_STRING:
			return {"error": "has no string \"%s\"" % key}
	if typeof(pin.get("platforms")) != TYPE_DICTIONARY:
		return {"error": "has no object \"platforms\""}
	var platforms := {}
	for dir: Variant in pin["platforms"]:
		var entries: Variant = pin["platforms"][dir]
		if typeof(entries) != TYPE_ARRAY or (entries as Array).is_empty():
			return {"error": "lists no files for %s" % dir}
		var files: Array[Dictionary] = []
		for entry: Variant in entries:
			var problem := _entry_problem(entry)
			if not problem.is_empty():
				return {"error": "has a bad file entry for %s: %s" % [dir, problem]}
			files.append({"asset": str(entry["asset"]), "file": str(entry["file"]),
					"size": int(entry["size"]), "sha256": str(entry["sha256"]).to_lower()})
		platforms[str(dir)] = files
	return {"version": str(pin["version"]), "repository": str(pin["repository"]),
			"base_url": str(pin["base_url"]), "platforms": platforms}


## Reads and parses [constant PATH]; see [method parse].
static func load_pin() -> Dictionary:
	if not FileAccess.file_exists(PATH):
		return {"error": "%s is missing: reinstall the addon" % PATH}
	var pin := parse(FileAccess.get_file_as_string(PATH))
	if pin.has("error"):
		pin["error"] = "%s %s: reinstall the addon" % [PATH, pin["error"]]
	return pin


## The URL the pinned files are downloaded from (ending in "/"), or "" when no
## repository is known: [param repository_override] (the project setting) wins
## over the file's own.
static func base_url(pin: Dictionary, repository_override: String) -> String:
	var repository := repository_override.strip_edges()
	if repository.is_empty():
		repository = str(pin["repository"]).strip_edges()
	if repository.is_empty():
		return ""
	var url := str(pin["base_url"]).replace("{repository}", repository).replace("{version}", str(pin["version"]))
	return url if url.ends_with("/") else url + "/"


## Where a person gets the release by hand: the repository's releases page, or
## a description of it when no repository is set.
static func releases_page(pin: Dictionary, repository_override: String) -> String:
	var url := base_url(pin, repository_override)
	if url.is_empty():
		return "the WebSocket Server addon's releases page"
	return url.get_slice("/releases/", 0) + "/releases" if url.contains("/releases/") else url


## True when [param bin_dir]/[param dir] holds a sidecar the locator can run:
## the raw executable, or the compressed one with its manifest.
static func is_installed(bin_dir: String, dir: String) -> bool:
	var exe := "websocket-sidecar" + (".exe" if dir.begins_with("windows") else "")
	var folder := bin_dir.path_join(dir)
	return FileAccess.file_exists(folder.path_join(exe)) or (
			FileAccess.file_exists(folder.path_join(exe + ".zst"))
			and FileAccess.file_exists(folder.path_join("websocket-sidecar.json")))


## What to do by hand, for a person offline or whose download failed: which
## files to download from where, their hashes, and the folder to put them in
## ([param target_dir], an absolute path).
static func manual_instructions(
		pin: Dictionary, dir: String, repository_override: String, target_dir: String) -> String:
	var files: Array = pin["platforms"].get(dir, [])
	if files.is_empty():
		return ("No release is pinned in this copy of the addon; build it with `npm run release` "
				+ "or download the zip from %s and copy its addons/websocket_server/bin/%s/ folder to %s.") % [
				releases_page(pin, repository_override), dir, target_dir]
	var url := base_url(pin, repository_override)
	var lines: PackedStringArray = ["To install the %s sidecar by hand, download:" % dir]
	for file: Dictionary in files:
		var source: String = url + str(file["asset"]) if not url.is_empty() else str(file["asset"])
		lines.append("  %s (%d bytes, SHA-256 %s)" % [source, file["size"], file["sha256"]])
		lines.append("    and save it as %s" % target_dir.path_join(str(file["file"])))
	if url.is_empty():
		lines.append(("(from the release %s of the addon: set the project setting %s to the GitHub owner/name "
				+ "it is published under to download it from the editor)") % [pin["version"], SETTING_REPOSITORY])
	lines.append("or copy addons/websocket_server/bin/%s/ from the release zip (%s)." % [
			dir, releases_page(pin, repository_override)])
	return "\n".join(lines)


static func _entry_problem(entry: Variant) -> String:
	if typeof(entry) != TYPE_DICTIONARY:
		return "not an object"
	for key: String in ["asset", "file", "sha256"]:
		if typeof(entry.get(key)) != TYPE_STRING or str(entry[key]).is_empty():
			return "no string \"%s\"" % key
	var file: String = entry["file"]
	# The file name is joined to bin/<platform>/: it must not climb out of it.
	if file.contains("/") or file.contains("\\") or file.begins_with("."):
		return "\"file\" %s is not a plain file name" % file
	var t := typeof(entry.get("size"))
	if (t != TYPE_INT and t != TYPE_FLOAT) or float(entry["size"]) <= 0.0:
		return "no positive number \"size\""
	var sha: String = str(entry["sha256"])
	if sha.length() != 64 or not sha.is_valid_hex_number():
		return "\"sha256\" is not 64 hex digits"
	return ""
