extends RefCounted
## Extracts the compressed sidecar ([code]websocket-sidecar.zst[/code]) that
## [code]sidecar_locator.gd[/code] found: reads its manifest
## ([code]websocket-sidecar.json[/code]), decompresses it, verifies its size
## and SHA-256, and installs it atomically, executable, under
## [code]user://websocket_server/[/code].


## Where the compressed sidecar of [param version] with hash [param sha256]
## is extracted to, under [param user_dir] (normally [code]user://[/code]).
static func extracted_path(user_dir: String, version: String, sha256: String, exe_name: String) -> String:
	var folder := "%s-%s" % [version, sha256.substr(0, 16).to_lower()]
	return user_dir.path_join("websocket_server").path_join(folder).path_join(exe_name)


## Parses a [code]websocket-sidecar.json[/code] manifest. Returns a Dictionary
## with [code]version[/code], [code]file[/code], [code]size[/code],
## [code]sha256[/code] and [code]compressed_size[/code], or with a single
## [code]error[/code] key explaining what is wrong.
static func parse_manifest(text: String) -> Dictionary:
	var parsed: Variant = JSON.parse_string(text)
	if typeof(parsed) != TYPE_DICTIONARY:
		return {"error": "is not a JSON object"}
	var m: Dictionary = parsed
	for key: String in ["version", "file", "sha256"]:
		if typeof(m.get(key)) != TYPE_STRING or str(m[key]).is_empty():
			return {"error": "has no string \"%s\"" % key}
	for key: String in ["size", "compressed_size"]:
		var t := typeof(m.get(key))
		if (t != TYPE_FLOAT and t != TYPE_INT) or float(m[key]) <= 0.0:
			return {"error": "has no positive number \"%s\"" % key}
	var sha: String = str(m["sha256"]).to_lower()
	if sha.length() != 64 or not sha.is_valid_hex_number():
		return {"error": "has a \"sha256\" that is not 64 hex digits"}
	return {
		"version": str(m["version"]),
		"file": str(m["file"]),
		"size": int(m["size"]),
		"sha256": sha,
		"compressed_size": int(m["compressed_size"]),
	}


## SHA-256 of [param data] as lower-case hex.
static func sha256_hex(data: PackedByteArray) -> String:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(data)
	return ctx.finish().hex_encode()


## Decompresses [param zst_path] as described by [param manifest], verifies its
## size and SHA-256 and installs it at [param target] atomically: written to a
## name no other process uses, verified again as written, made executable,
## then renamed over [param target]. Games extracting at once each install a
## whole, verified, executable file, and one that runs [param target] meanwhile
## keeps the file it opened, so none sees a partial or vanished file. Returns
## "" on success, or what went wrong.
static func extract(zst_path: String, manifest: Dictionary, target: String, os_name: String) -> String:
	var packed := FileAccess.get_file_as_bytes(zst_path)
	if packed.is_empty():
		return "cannot read %s (%s)" % [zst_path, error_string(FileAccess.get_open_error())]
	var raw := packed.decompress(int(manifest["size"]), FileAccess.COMPRESSION_ZSTD)
	if raw.size() != int(manifest["size"]):
		return ("%s did not decompress to %d bytes (got %d): the file is damaged, rebuild or reinstall the addon"
				% [zst_path, manifest["size"], raw.size()])
	var digest := sha256_hex(raw)
	if digest != manifest["sha256"]:
		return ("%s decompressed to data with SHA-256 %s, but its manifest says %s: "
				+ "the file is damaged, rebuild or reinstall the addon") % [zst_path, digest, manifest["sha256"]]
	var folder := target.get_base_dir()
	var err := DirAccess.make_dir_recursive_absolute(folder)
	if err != OK:
		return "cannot create %s (%s)" % [folder, error_string(err)]
	var temp := "%s.tmp-%d-%08x" % [target, OS.get_process_id(), randi()]
	var failure := _write_verified(temp, raw, manifest["sha256"], os_name)
	if failure.is_empty():
		err = DirAccess.rename_absolute(temp, target)
		if err != OK:
			failure = "cannot rename %s to %s (%s)" % [temp, target, error_string(err)]
	if failure.is_empty():
		return ""
	DirAccess.remove_absolute(temp)
	# Where a rename cannot replace a file (Windows), a concurrent extractor
	# that installed the same file first is as good.
	if FileAccess.file_exists(target) and FileAccess.get_sha256(target) == manifest["sha256"]:
		return ensure_executable(ProjectSettings.globalize_path(target), os_name)
	return failure


# Writes [param data] to [param path], checks what landed on disk against
# [param sha256] and makes it executable. Returns "" or what went wrong.
static func _write_verified(path: String, data: PackedByteArray, sha256: String, os_name: String) -> String:
	var f := FileAccess.open(path, FileAccess.WRITE)
	if f == null:
		return "cannot write %s (%s)" % [path, error_string(FileAccess.get_open_error())]
	f.store_buffer(data)
	f.close()
	var written := FileAccess.get_sha256(path)
	if written != sha256:
		return "%s did not read back as written (SHA-256 %s, expected %s): is the disk full?" % [path, written, sha256]
	return ensure_executable(ProjectSettings.globalize_path(path), os_name)


## Restores the executable bit of [param path] on Linux and macOS when it is
## missing (an export copies files without it): whoever may read the file may
## run it, so 0644 becomes 0755. Done in-process, so it needs no [code]chmod[/code]
## on PATH. Returns "" on success, or what went wrong.
static func ensure_executable(path: String, os_name: String) -> String:
	if os_name == "Windows":
		return ""
	var permissions := FileAccess.get_unix_permissions(path)
	if (permissions & 0x49) != 0:
		return ""
	var read_bits := permissions & 0x124
	var err := FileAccess.set_unix_permissions(path, permissions | (read_bits >> 2))
	if err != OK or (FileAccess.get_unix_permissions(path) & 0x49) == 0:
		return ("cannot make %s executable (%s): run chmod +x on it yourself") % [
				path, error_string(err) if err != OK else "its permissions did not change"]
	return ""
