extends RefCounted
## sidecar_downloader.gd against a local HTTP server (release_server.cjs)
## serving a release folder: a good download through redirects, a corrupted
## file, a dropped connection, a missing file and an unreachable server. After
## every failure nothing may be left in the target folder.

const Downloader := preload("res://addons/websocket_server/sidecar_downloader.gd")
const Locator := preload("res://addons/websocket_server/sidecar_locator.gd")
const Runner := preload("res://tests/run_tests.gd")

## Longest one download may take here before the check fails.
const DOWNLOAD_LIMIT_MS: int = 20000

var t: Runner
var _work: String = ""
var _base: String = ""
var _good: Dictionary = {}
var _manifest: Dictionary = {}
var _flipped: Dictionary = {}


func run(runner: Runner) -> void:
	t = runner
	var node := Locator.find_in_path(OS.get_environment("PATH"), PackedStringArray(["node"]), ":")
	if not t.check(not node.is_empty(), "node is on PATH (the test's release server runs on it)"):
		return
	_work = ProjectSettings.globalize_path("user://websocket_server_download_test")
	_remove_tree(_work)
	var release := _work.path_join("release")
	DirAccess.make_dir_recursive_absolute(release)
	_good = _write_asset(release, "websocket-sidecar-linux-x64.zst", "websocket-sidecar.zst", _bytes(300000, 7))
	_manifest = _write_asset(release, "websocket-sidecar-linux-x64.json", "websocket-sidecar.json",
			'{"version":"0.1.0"}'.to_utf8_buffer())
	# Same size as the good file, one byte different, but pinned with the good file's hash.
	var corrupted := _bytes(300000, 7)
	corrupted[123456] ^= 0xff
	_flipped = _write_asset(release, "flipped.zst", "websocket-sidecar.zst", corrupted)
	_flipped["sha256"] = _good["sha256"]

	var port_file := _work.path_join("port")
	var server := ProjectSettings.globalize_path("res://tests/release_server.cjs")
	var pid := OS.create_process(node, PackedStringArray([server, release, port_file, str(OS.get_process_id())]))
	if not t.check(pid > 0, "the release server starts"):
		return
	var port := await _read_port(port_file)
	if t.check(port > 0, "the release server writes its port within 5 s"):
		_base = "http://127.0.0.1:%d/" % port
		var downloader: Downloader = Downloader.new()
		t.root.add_child(downloader)
		await _test_good(downloader)
		await _test_corrupted(downloader)
		await _test_dropped(downloader)
		await _test_missing_and_offline(downloader)
		downloader.queue_free()
	OS.kill(pid)
	_remove_tree(_work)


func _test_good(downloader: Downloader) -> void:
	var target := _work.path_join("bin/linux-x64")
	var outcome := await _download(downloader, _base + "redirect/", [_good, _manifest], target)
	t.check_eq(outcome["error"], "", "a good release downloads through a redirect")
	t.check_eq(Downloader.sha256_of_file(target.path_join("websocket-sidecar.zst")), _good["sha256"],
			"the downloaded sidecar is the served file")
	t.check_eq(FileAccess.get_file_as_string(target.path_join("websocket-sidecar.json")), '{"version":"0.1.0"}',
			"the manifest landed under its name in bin/<platform>/")
	t.check_eq(_sorted(DirAccess.get_files_at(target)), ["websocket-sidecar.json", "websocket-sidecar.zst"],
			"no temporary file is left")
	t.check_eq(outcome["progress"].get(_good["asset"]), [300000, 300000], "progress reached the sidecar's size")
	t.check_eq(outcome["progress"].get(_manifest["asset"]), [19, 19], "progress reached the manifest's size")


func _test_corrupted(downloader: Downloader) -> void:
	var target := _work.path_join("bin/corrupted")
	var outcome := await _download(downloader, _base + "files/", [_manifest, _flipped], target)
	t.check(str(outcome["error"]).contains("has SHA-256") and str(outcome["error"]).contains("refused"),
			"a file whose hash differs from the pinned one is refused: " + str(outcome["error"]))
	t.check(not DirAccess.dir_exists_absolute(target),
			"nothing is left in bin/ after a refused file, not even the good file fetched before it")
	var kept := _work.path_join("bin/kept")
	DirAccess.make_dir_recursive_absolute(kept)
	FileAccess.open(kept.path_join("websocket-sidecar.zst"), FileAccess.WRITE).store_string("old")
	await _download(downloader, _base + "files/", [_flipped], kept)
	t.check_eq(DirAccess.get_files_at(kept), PackedStringArray(["websocket-sidecar.zst"]),
			"a refused download leaves an existing folder as it was")
	t.check_eq(FileAccess.get_file_as_string(kept.path_join("websocket-sidecar.zst")), "old",
			"a refused download does not replace the file already there")


func _test_dropped(downloader: Downloader) -> void:
	var target := _work.path_join("bin/dropped")
	var outcome := await _download(downloader, _base + "drop/", [_good], target)
	var error := str(outcome["error"])
	t.check(error.contains("connection") or error.contains("cut short"),
			"a dropped connection is reported as one: " + error)
	t.check(not DirAccess.dir_exists_absolute(target), "nothing half-written is left after a dropped connection")


func _test_missing_and_offline(downloader: Downloader) -> void:
	var target := _work.path_join("bin/missing")
	var missing := _good.duplicate()
	missing["asset"] = "not-released.zst"
	var outcome := await _download(downloader, _base + "files/", [missing], target)
	t.check(str(outcome["error"]).contains("HTTP 404") and str(outcome["error"]).contains("not-released.zst"),
			"a missing asset names the URL and the status: " + str(outcome["error"]))
	t.check(not DirAccess.dir_exists_absolute(target), "nothing is left after a 404")
	# Port 1 on loopback: nothing listens there, so the connection is refused at once.
	outcome = await _download(downloader, "http://127.0.0.1:1/", [_good], target)
	t.check(str(outcome["error"]).contains("could not be reached"),
			"an unreachable server says so: " + str(outcome["error"]))
	t.check(not DirAccess.dir_exists_absolute(target), "nothing is left when the server cannot be reached")


func _download(downloader: Downloader, base: String, files: Array, target: String) -> Dictionary:
	# Per asset: the most bytes reported received, and the total reported with them.
	var outcome := {"error": null, "progress": {}}
	var on_progress := func(asset: String, received: int, total: int) -> void:
		var seen: Array = outcome["progress"].get(asset, [0, 0])
		outcome["progress"][asset] = [maxi(seen[0], received), total]
	var on_finished := func(error: String) -> void: outcome["error"] = error
	downloader.progressed.connect(on_progress)
	downloader.finished.connect(on_finished)
	downloader.download(base, files, target)
	var started := Time.get_ticks_msec()
	while outcome["error"] == null and Time.get_ticks_msec() - started < DOWNLOAD_LIMIT_MS:
		await t.process_frame
	downloader.progressed.disconnect(on_progress)
	downloader.finished.disconnect(on_finished)
	if outcome["error"] == null:
		downloader.cancel()
		outcome["error"] = "no result within %d ms" % DOWNLOAD_LIMIT_MS
	return outcome


func _read_port(port_file: String) -> int:
	var started := Time.get_ticks_msec()
	while Time.get_ticks_msec() - started < 5000:
		if FileAccess.file_exists(port_file):
			var text := FileAccess.get_file_as_string(port_file)
			if text.is_valid_int():
				return text.to_int()
		await t.process_frame
	return 0


static func _write_asset(folder: String, asset: String, file: String, data: PackedByteArray) -> Dictionary:
	var f := FileAccess.open(folder.path_join(asset), FileAccess.WRITE)
	f.store_buffer(data)
	f.close()
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(data)
	return {"asset": asset, "file": file, "size": data.size(), "sha256": ctx.finish().hex_encode()}


static func _bytes(count: int, seed_value: int) -> PackedByteArray:
	var rng := RandomNumberGenerator.new()
	rng.seed = seed_value
	var data := PackedByteArray()
	data.resize(count)
	for i: int in count:
		data[i] = rng.randi() & 0xff
	return data


static func _sorted(names: PackedStringArray) -> Array:
	var list := Array(names)
	list.sort()
	return list


static func _remove_tree(path: String) -> void:
	if not DirAccess.dir_exists_absolute(path):
		return
	for dir: String in DirAccess.get_directories_at(path):
		_remove_tree(path.path_join(dir))
	for file: String in DirAccess.get_files_at(path):
		DirAccess.remove_absolute(path.path_join(file))
	DirAccess.remove_absolute(path)
