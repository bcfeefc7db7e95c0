extends RefCounted
## The sidecar lookup's pure functions, and extraction of a compressed sidecar.

const Locator := preload("res://addons/websocket_server/sidecar_locator.gd")
const Extractor := preload("res://addons/websocket_server/sidecar_extractor.gd")
const Runner := preload("res://tests/run_tests.gd")

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_platform_dirs()
	_test_manifest()
	_test_commands()
	_test_extraction()
	_test_ensure_executable()
	_test_locate_override()
	_test_real_compressed_sidecar()


func _test_ensure_executable() -> void:
	if OS.get_name() == "Windows":
		return
	var path := ProjectSettings.globalize_path("user://websocket_server_test_exec")
	var f := FileAccess.open(path, FileAccess.WRITE)
	f.store_string("#!/bin/sh\n")
	f.close()
	FileAccess.set_unix_permissions(path, 0x1a4)  # 0644, as an export copies it
	t.check_eq(Extractor.ensure_executable(path, OS.get_name()), "", "ensure_executable succeeds on a 0644 file")
	t.check_eq(FileAccess.get_unix_permissions(path) & 0x1ff, 0x1ed, "0644 became 0755")
	FileAccess.set_unix_permissions(path, 0x180)  # 0600
	Extractor.ensure_executable(path, OS.get_name())
	t.check_eq(
			FileAccess.get_unix_permissions(path) & 0x1ff, 0x1c0,
			"0600 became 0700: only the owner may read, so only the owner may run")
	t.check_eq(Extractor.ensure_executable(path, OS.get_name()), "", "an executable file is left alone")
	DirAccess.remove_absolute(path)


func _test_platform_dirs() -> void:
	t.check_eq(Locator.platform_dir("Linux", "x86_64"), "linux-x64", "Linux x86_64")
	t.check_eq(Locator.platform_dir("Windows", "x86_64"), "windows-x64", "Windows x86_64")
	t.check_eq(Locator.platform_dir("macOS", "arm64"), "macos-arm64", "macOS arm64")
	t.check_eq(Locator.platform_dir("macOS", "x86_64"), "macos-x64", "macOS x86_64")
	t.check_eq(Locator.platform_dir("Android", "arm64"), "", "Android has no sidecar")
	t.check_eq(Locator.platform_dir("Web", "wasm32"), "", "the Web has no sidecar")
	t.check_eq(
			Locator.platform_dir_for_features(PackedStringArray(["pc", "linux", "x86_64", "release"])),
			"linux-x64",
			"export features: linux x86_64")
	t.check_eq(
			Locator.platform_dir_for_features(PackedStringArray(["pc", "windows", "x86_64"])),
			"windows-x64",
			"export features: windows")
	t.check_eq(
			Locator.platform_dir_for_features(PackedStringArray(["macos", "arm64"])),
			"macos-arm64",
			"export features: macos arm64")
	t.check_eq(
			Locator.platform_dir_for_features(PackedStringArray(["macos", "x86_64"])),
			"macos-x64",
			"export features: macos x86_64")
	t.check_eq(Locator.platform_dir_for_features(PackedStringArray(["web", "wasm32"])), "", "export features: web")
	t.check_eq(Locator.executable_name("Windows"), "websocket-sidecar.exe", "Windows executable name")
	t.check_eq(Locator.executable_name("Linux"), "websocket-sidecar", "Linux executable name")
	t.check_eq(
		Extractor.extracted_path("user://", "0.1.0", "ABCDEF0123456789ffff", "websocket-sidecar"),
		"user://websocket_server/0.1.0-abcdef0123456789/websocket-sidecar",
		"extraction path uses the version and the first 16 hex digits of the hash")


func _test_manifest() -> void:
	var sha := "a".repeat(64)
	var fields := {"version": "0.1.0", "file": "websocket-sidecar", "size": 10, "sha256": sha, "compressed_size": 5}
	var good := Extractor.parse_manifest(JSON.stringify(fields))
	t.check_eq(
			good,
			{"version": "0.1.0", "file": "websocket-sidecar", "size": 10, "sha256": sha, "compressed_size": 5},
			"a good manifest parses")
	t.check(Extractor.parse_manifest("not json").has("error"), "a manifest that is not JSON is refused")
	var bad_sha := fields.duplicate()
	bad_sha["sha256"] = "xyz"
	var no_size := fields.duplicate()
	no_size.erase("size")
	t.check(
			str(Extractor.parse_manifest(JSON.stringify(bad_sha)).get("error")).contains("sha256"),
			"a bad sha256 is named")
	t.check(
			str(Extractor.parse_manifest(JSON.stringify(no_size)).get("error")).contains("size"),
			"a missing size is named")


func _test_commands() -> void:
	t.check_eq(
			Locator.command_for("/a/sidecar.cjs", "/usr/bin/node"),
			{"program": "/usr/bin/node", "args": PackedStringArray(["/a/sidecar.cjs"])},
			"a .cjs runs with node")
	t.check_eq(
			Locator.command_for("/a/websocket-sidecar", "/usr/bin/node"),
			{"program": "/a/websocket-sidecar", "args": PackedStringArray()},
			"an executable runs directly")
	var node := Locator.find_in_path(OS.get_environment("PATH"), PackedStringArray(["node"]), ":")
	t.check(node.is_empty() or FileAccess.file_exists(node), "find_in_path returns an existing file or nothing")
	t.check_eq(
			Locator.find_in_path("/nonexistent-dir-1:/nonexistent-dir-2", PackedStringArray(["node"]), ":"),
			"",
			"find_in_path finds nothing in missing folders")


func _test_extraction() -> void:
	# A fake "executable" compressed with Godot's own zstd, as the build does with `zstd`.
	var raw := PackedByteArray()
	raw.resize(200000)
	for i: int in raw.size():
		raw[i] = (i * 7 + (i >> 8)) & 0xff
	var sha := Extractor.sha256_hex(raw)
	var folder := "user://websocket_server_test"
	DirAccess.make_dir_recursive_absolute(folder)
	var zst := folder.path_join("websocket-sidecar.zst")
	var f := FileAccess.open(zst, FileAccess.WRITE)
	var packed := raw.compress(FileAccess.COMPRESSION_ZSTD)
	f.store_buffer(packed)
	f.close()
	var manifest := {
		"version": "0.1.0", "file": "websocket-sidecar", "size": raw.size(), "sha256": sha,
		"compressed_size": packed.size(),
	}
	var target := Extractor.extracted_path(folder, "0.1.0", sha, "websocket-sidecar")
	var err := Extractor.extract(zst, manifest, target, OS.get_name())
	t.check_eq(err, "", "extraction succeeds")
	t.check_eq(FileAccess.get_file_as_bytes(target), raw, "the extracted file equals the original")
	if OS.get_name() != "Windows":
		t.check(
				(FileAccess.get_unix_permissions(ProjectSettings.globalize_path(target)) & 0x49) != 0,
				"the extracted file is executable")
	var leftovers := DirAccess.get_files_at(target.get_base_dir())
	t.check_eq(leftovers, PackedStringArray(["websocket-sidecar"]), "no temporary file is left behind")
	var bad := manifest.duplicate()
	bad["sha256"] = "0".repeat(64)
	err = Extractor.extract(zst, bad, target + "-bad", OS.get_name())
	t.check(
			err.contains("SHA-256") and not FileAccess.file_exists(target + "-bad"),
			"a hash mismatch is refused and nothing is written (%s)" % err)
	bad = manifest.duplicate()
	bad["size"] = raw.size() + 1
	err = Extractor.extract(zst, bad, target + "-bad", OS.get_name())
	t.check(err.contains("did not decompress") or err.contains("SHA-256"), "a size mismatch is refused (%s)" % err)
	DirAccess.remove_absolute(target)
	DirAccess.remove_absolute(target.get_base_dir())
	DirAccess.remove_absolute(zst)


func _test_locate_override() -> void:
	var missing := Locator.locate("/nonexistent/websocket-sidecar")
	t.check(
			str(missing.get("error")).contains("sidecar_path "
					+ "property") and str(missing.get("error")).contains("does not exist"),
			"a missing override is reported by name: %s" % missing.get("error"))
	var found := Locator.locate("")
	t.check(
			found.has("program") or str(found.get("error")).contains("Tried:"),
			"locate() finds a sidecar or lists what it tried")
	if found.has("program"):
		print("   sidecar: %s %s" % [found["program"], " ".join(found["args"])])


# When a release build of the sidecar is present, its .zst (made by the zstd
# command line tool) must decompress with Godot's zstd and match its manifest.
func _test_real_compressed_sidecar() -> void:
	var dir := Locator.platform_dir(OS.get_name(), Engine.get_architecture_name())
	var folder := Locator.BIN_DIR.path_join(dir)
	var exe := Locator.executable_name(OS.get_name())
	var zst := folder.path_join(exe + ".zst")
	var json := folder.path_join(Locator.EXECUTABLE_BASE + ".json")
	if not FileAccess.file_exists(zst) or not FileAccess.file_exists(json):
		print("   no %s to check (build the binaries to test it)" % zst)
		return
	var manifest := Extractor.parse_manifest(FileAccess.get_file_as_string(json))
	t.check(not manifest.has("error"), "%s parses: %s" % [json, manifest.get("error", "")])
	if manifest.has("error"):
		return
	var target := Extractor.extracted_path("user://websocket_server_test", manifest["version"], manifest["sha256"], exe)
	var started := Time.get_ticks_msec()
	var err := Extractor.extract(zst, manifest, target, OS.get_name())
	t.check_eq(err, "", "the real %s extracts and verifies" % zst.get_file())
	print("   extracted %d bytes from %s in %d ms" % [manifest["size"], zst, Time.get_ticks_msec() - started])
	DirAccess.remove_absolute(target)
	DirAccess.remove_absolute(target.get_base_dir())
