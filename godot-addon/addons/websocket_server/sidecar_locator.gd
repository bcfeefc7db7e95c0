extends RefCounted
## Finds the sidecar executable for this platform, extracting it on first use.
##
## Search order (the first that exists wins; see the README):
## [br]1. an explicit override: the node's [code]sidecar_path[/code] property, then
## the project setting [code]websocket_server/sidecar_path[/code], then the
## environment variable [code]GODOT_WEBSOCKET_SIDECAR[/code]: a
## [code].js[/code], [code].cjs[/code] or [code].mjs[/code] file is run with
## [code]node[/code]; anything else runs only when it starts like an executable
## (ELF, Mach-O or PE), and its mode is never changed outside [code]user://[/code];
## [br]2. the raw executable next to the game executable (where an export with
## "ship raw binary" puts it; on macOS also [code]Contents/Frameworks[/code]);
## [br]3. the raw executable in [code]res://addons/websocket_server/bin/<os>-<arch>/[/code]
## when [code]res://[/code] is a real folder (editor and source runs);
## [br]4. the compressed [code]websocket-sidecar.zst[/code] there, extracted once to
## [code]user://websocket_server/<version>-<sha256 prefix>/[/code] and verified;
## [br]5. [code]node[/code] on PATH running [code]res://addons/websocket_server/bin/sidecar.cjs[/code].
## [br][br]
## Extracting and verifying the compressed sidecar is
## [code]sidecar_extractor.gd[/code]'s job. The static functions without side
## effects are tested on their own in [code]tests/test_locator.gd[/code].

const Protocol := preload("res://addons/websocket_server/protocol.gd")
const SidecarExtractor := preload("res://addons/websocket_server/sidecar_extractor.gd")

## Folder holding the per-platform sidecar folders.
const BIN_DIR: String = "res://addons/websocket_server/bin"
## The built JavaScript sidecar run with node when no binary fits.
const SCRIPT_PATH: String = "res://addons/websocket_server/bin/sidecar.cjs"
## Project setting naming an explicit sidecar path.
const SETTING_SIDECAR_PATH: String = "websocket_server/sidecar_path"
## Environment variable naming an explicit sidecar path.
const ENV_SIDECAR_PATH: String = "GODOT_WEBSOCKET_SIDECAR"
## Base name of the sidecar executable (".exe" is added on Windows).
const EXECUTABLE_BASE: String = "websocket-sidecar"
## The first bytes of an executable: ELF, Mach-O (32/64-bit, both byte orders,
## universal) and PE ("MZ", checked on its own since it is two bytes).
const EXECUTABLE_MAGIC: PackedStringArray = ["7f454c46", "feedface", "feedfacf", "cefaedfe", "cffaedfe", "cafebabe"]


## Maps [method OS.get_name] and [method Engine.get_architecture_name] to the
## platform folder name ([code]linux-x64[/code], [code]windows-x64[/code],
## [code]macos-arm64[/code], [code]macos-x64[/code], ...). Returns an empty
## string for systems the sidecar cannot run on (Android, iOS, Web).
static func platform_dir(os_name: String, arch: String) -> String:
	var os_part := ""
	match os_name:
		"Linux", "FreeBSD", "NetBSD", "OpenBSD", "BSD":
			os_part = "linux"
		"Windows":
			os_part = "windows"
		"macOS":
			os_part = "macos"
		_:
			return ""
	var arch_part := arch
	match arch:
		"x86_64":
			arch_part = "x64"
		"x86_32":
			arch_part = "x86"
		"arm64":
			arch_part = "arm64"
	return "%s-%s" % [os_part, arch_part]


## Maps export feature tags to the platform folder name, or "" when the
## export is for a platform the sidecar does not run on.
static func platform_dir_for_features(features: PackedStringArray) -> String:
	var os_name := ""
	if features.has("linux") or features.has("linuxbsd"):
		os_name = "Linux"
	elif features.has("windows"):
		os_name = "Windows"
	elif features.has("macos"):
		os_name = "macOS"
	else:
		return ""
	var arch := "x86_64"
	if features.has("arm64"):
		arch = "arm64"
	elif features.has("x86_32"):
		arch = "x86_32"
	elif features.has("universal"):
		# A universal macOS export runs natively on Apple silicon.
		arch = "arm64"
	return platform_dir(os_name, arch)


## Name of the raw executable on [param os_name].
static func executable_name(os_name: String) -> String:
	return EXECUTABLE_BASE + (".exe" if os_name == "Windows" else "")


## Turns a sidecar path into the program and arguments to run: a
## [code].js[/code]/[code].cjs[/code]/[code].mjs[/code] file runs under
## [param node_path], anything else runs directly.
static func command_for(path: String, node_path: String) -> Dictionary:
	var ext := path.get_extension().to_lower()
	if ext == "js" or ext == "cjs" or ext == "mjs":
		return {"program": node_path, "args": PackedStringArray([path])}
	return {"program": path, "args": PackedStringArray()}


## Looks for an executable named one of [param names] in the folders of the
## PATH-style list [param path_env] ([param separator] is ":" or ";").
## Returns its full path, or "".
static func find_in_path(path_env: String, names: PackedStringArray, separator: String) -> String:
	for folder: String in path_env.split(separator, false):
		for exe: String in names:
			var candidate := folder.path_join(exe)
			if FileAccess.file_exists(candidate):
				return candidate
	return ""


## Finds the sidecar. [param override_path] is the node's
## [code]sidecar_path[/code] property. Returns [code]{"program", "args"}[/code]
## on success, or [code]{"error"}[/code] listing every path tried and what to do.
static func locate(override_path: String) -> Dictionary:
	var os_name := OS.get_name()
	var exe_name := executable_name(os_name)
	var windows := os_name == "Windows"
	var node_names := PackedStringArray(["node.exe", "node"] if windows else ["node"])
	var node_path := find_in_path(OS.get_environment("PATH"), node_names, ";" if windows else ":")
	var tried: PackedStringArray = []

	# 1. Explicit overrides.
	var overrides: Array = [
		[override_path, "the sidecar_path property"],
		[str(ProjectSettings.get_setting(SETTING_SIDECAR_PATH, "")), "the project setting " + SETTING_SIDECAR_PATH],
		[OS.get_environment(ENV_SIDECAR_PATH), "the environment variable " + ENV_SIDECAR_PATH],
	]
	for entry: Array in overrides:
		var given: String = entry[0]
		if given.is_empty():
			continue
		var global := given
		if given.begins_with("res://") or given.begins_with("user://"):
			global = ProjectSettings.globalize_path(given)
		if not FileAccess.file_exists(global):
			return {"error": "%s names %s, which does not exist: fix or clear it" % [entry[1], global]}
		var cmd := command_for(global, node_path)
		if str(cmd["program"]).is_empty():
			return {"error": ("%s names the script %s, but node is not on PATH: "
					+ "install Node.js 20 or newer, or point it at a sidecar executable") % [entry[1], global]}
		if cmd["program"] == global:
			var refusal := _check_override(global, entry[1], os_name)
			if not refusal.is_empty():
				return {"error": refusal}
		return cmd

	# 2. Next to the game executable (and in a macOS bundle's Frameworks).
	var exe_dir := OS.get_executable_path().get_base_dir()
	var beside: PackedStringArray = [exe_dir.path_join(exe_name)]
	if os_name == "macOS":
		beside.append(exe_dir.path_join("../Frameworks").simplify_path().path_join(exe_name))
	for candidate: String in beside:
		tried.append(candidate)
		if FileAccess.file_exists(candidate):
			var chmod_error := SidecarExtractor.ensure_executable(candidate, os_name)
			if not chmod_error.is_empty():
				return {"error": chmod_error}
			return command_for(candidate, node_path)

	var dir := platform_dir(os_name, Engine.get_architecture_name())
	if not dir.is_empty():
		# 3. The raw executable in the addon (only when res:// is a real folder).
		var raw_res := BIN_DIR.path_join(dir).path_join(exe_name)
		var raw_global := ProjectSettings.globalize_path(raw_res)
		tried.append(raw_global)
		if raw_global != raw_res and FileAccess.file_exists(raw_global):
			var chmod_error := SidecarExtractor.ensure_executable(raw_global, os_name)
			if not chmod_error.is_empty():
				return {"error": chmod_error}
			return command_for(raw_global, node_path)

		# 4. The compressed executable, extracted once to user://.
		var zst := BIN_DIR.path_join(dir).path_join(exe_name + ".zst")
		var manifest_path := BIN_DIR.path_join(dir).path_join(EXECUTABLE_BASE + ".json")
		tried.append(zst)
		if FileAccess.file_exists(zst):
			if not FileAccess.file_exists(manifest_path):
				return {"error": "%s exists but its manifest %s is missing: rebuild or reinstall the addon"
						% [zst, manifest_path]}
			var manifest := SidecarExtractor.parse_manifest(FileAccess.get_file_as_string(manifest_path))
			if manifest.has("error"):
				return {"error": "%s %s: rebuild or reinstall the addon" % [manifest_path, manifest["error"]]}
			if manifest["version"] != Protocol.ADDON_VERSION:
				return {"error": ("%s describes sidecar %s, but this addon is %s: "
						+ "rebuild or reinstall the addon so both come from the same release")
						% [manifest_path, manifest["version"], Protocol.ADDON_VERSION]}
			var target := SidecarExtractor.extracted_path("user://", manifest["version"], manifest["sha256"], exe_name)
			var target_global := ProjectSettings.globalize_path(target)
			if _file_size(target) != int(manifest["size"]):
				var extract_error := SidecarExtractor.extract(zst, manifest, target, os_name)
				if not extract_error.is_empty():
					return {"error": "could not extract the sidecar: " + extract_error}
			else:
				var chmod_error := SidecarExtractor.ensure_executable(target_global, os_name)
				if not chmod_error.is_empty():
					return {"error": chmod_error}
			return command_for(target_global, node_path)

	# 5. node on PATH running the built JavaScript.
	var script_global := ProjectSettings.globalize_path(SCRIPT_PATH)
	tried.append(script_global + " (with node from PATH)")
	if script_global != SCRIPT_PATH and FileAccess.file_exists(script_global):
		if not node_path.is_empty():
			return command_for(script_global, node_path)
		tried.append("node on PATH (not found)")

	# 6. Nothing fits.
	var where := dir if not dir.is_empty() else "<os>-<arch>"
	return {"error": ("no sidecar found for %s (%s). Tried: %s. "
			+ "Copy the whole addons/websocket_server folder from a release (it holds bin/%s/), "
			+ "or build it with `npm run build` and install Node.js 20+, "
			+ "or set the sidecar_path property, the project setting %s or the environment variable %s "
			+ "to a sidecar executable.") % [os_name, Engine.get_architecture_name(), "; ".join(tried), where,
			SETTING_SIDECAR_PATH, ENV_SIDECAR_PATH]}


## [code]true[/code] when [param head] (a file's first bytes) starts like an
## executable: ELF, Mach-O or PE.
static func looks_executable(head: PackedByteArray) -> bool:
	if head.size() >= 2 and head[0] == 0x4d and head[1] == 0x5a:
		return true
	return head.size() >= 4 and EXECUTABLE_MAGIC.has(head.slice(0, 4).hex_encode())


# Why the explicit override [param path] (named by [param what]) may not run,
# or "". Only files that look like executables run, never through a shell; the
# executable bit is restored only under user://, where the game's own files live.
static func _check_override(path: String, what: String, os_name: String) -> String:
	var file := FileAccess.open(path, FileAccess.READ)
	var head := file.get_buffer(4) if file != null else PackedByteArray()
	if not looks_executable(head):
		return ("%s names %s, which is neither an executable (ELF, Mach-O or PE) nor a .js/.cjs/.mjs script "
				+ "for node: point it at the sidecar executable or at sidecar.cjs") % [what, path]
	if os_name == "Windows" or (FileAccess.get_unix_permissions(path) & 0x49) != 0:
		return ""
	if path.begins_with(ProjectSettings.globalize_path("user://")):
		return SidecarExtractor.ensure_executable(path, os_name)
	return "%s names %s, which is not executable: run chmod +x on it yourself" % [what, path]


static func _file_size(path: String) -> int:
	if not FileAccess.file_exists(path):
		return -1
	var f := FileAccess.open(path, FileAccess.READ)
	return -1 if f == null else f.get_length()
