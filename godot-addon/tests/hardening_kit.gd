extends RefCounted
## What the hardening tests share: WebSocket clients, bounded waits, and a look
## at real processes from outside ([code]/proc[/code], ports, child Godot
## games), so the tests hold the [WebSocketServer] to its public API only.

const Runner := preload("res://tests/run_tests.gd")
const Server := preload("res://addons/websocket_server/websocket_server.gd")

## The headless scene tree that plays a game in a child Godot process.
const CHILD_SCRIPT: String = "res://tests/hardening_child.gd"


## A WebSocket client that records what it receives.
class Client:
	var peer := WebSocketPeer.new()
	var received: Array = []

	func _init(url: String, outbound_bytes: int = 0) -> void:
		if outbound_bytes > 0:
			peer.outbound_buffer_size = outbound_bytes
		peer.connect_to_url(url)

	func poll() -> void:
		peer.poll()
		while peer.get_available_packet_count() > 0:
			var data := peer.get_packet()
			received.append(data.get_string_from_utf8() if peer.was_string_packet() else data)

	func is_open() -> bool:
		return peer.get_ready_state() == WebSocketPeer.STATE_OPEN

	func is_closed() -> bool:
		return peer.get_ready_state() == WebSocketPeer.STATE_CLOSED

	func has(value: Variant) -> bool:
		for item: Variant in received:
			if typeof(item) == typeof(value) and item == value:
				return true
		return false


## A child Godot process playing [code]hardening_child.gd[/code]; its
## stdout and stderr go to [member log_path], its findings to [member out_path].
class ChildGame:
	var pid: int = -1
	var out_path: String = ""
	var log_path: String = ""

	## Lines the child wrote to its findings file so far.
	func findings() -> PackedStringArray:
		var lines := PackedStringArray()
		for line: String in FileAccess.get_file_as_string(out_path).split("\n", false):
			lines.append(line.strip_edges())
		return lines

	## The value of the first [code]key=value[/code] finding, or "".
	func finding(key: String) -> String:
		for line: String in findings():
			if line.begins_with(key + "="):
				return line.substr(key.length() + 1)
		return ""

	## The child's error lines (its Output's ERROR lines), joined by " | ".
	func log_errors() -> String:
		var errors := PackedStringArray()
		for line: String in FileAccess.get_file_as_string(log_path).split("\n", false):
			if line.contains("ERROR"):
				errors.append(line.strip_edges())
		return " | ".join(errors)

	func is_running() -> bool:
		return pid > 0 and OS.is_process_running(pid)

	## Kills the child if it still runs, and every process it left behind.
	func end(left_behind: Array[int] = []) -> void:
		# Not our children: OS.is_process_running() cannot see them, /proc can.
		for other: int in left_behind:
			if other > 0 and DirAccess.dir_exists_absolute("/proc/%d" % other):
				OS.kill(other)
		if is_running():
			OS.kill(pid)

var t: Runner
var clients: Array[Client] = []


func _init(runner: Runner) -> void:
	t = runner


## A client of [param url]; [param outbound_bytes] > 0 sets how much it may queue.
func client(url: String, outbound_bytes: int = 0) -> Client:
	var c := Client.new(url, outbound_bytes)
	clients.append(c)
	return c


## Closes every client made so far.
func close_clients() -> void:
	for c: Client in clients:
		c.peer.close()
	clients.clear()


## Polls every client each frame until [param cond] holds or [param timeout_ms] passes.
func wait(cond: Callable, timeout_ms: int = 5000) -> bool:
	var deadline := Time.get_ticks_msec() + timeout_ms
	while true:
		for c: Client in clients:
			c.poll()
		if cond.call():
			return true
		if Time.get_ticks_msec() > deadline:
			return false
		await t.process_frame
	return false


## Like [method wait], also calling [method Server.process] on [param server] each frame.
func wait_processing(server: Server, cond: Callable, timeout_ms: int = 5000) -> bool:
	return await wait(func() -> bool:
		if is_instance_valid(server):
			server.process()
		return cond.call(), timeout_ms)


## [code]true[/code] when nothing listens on [param port] at [param host].
static func port_is_free(port: int, host: String = "127.0.0.1") -> bool:
	var probe := TCPServer.new()
	var free := probe.listen(port, host) == OK
	probe.stop()
	return free


## Process ids whose parent is [param parent_pid] and whose command line holds [param needle].
static func children_of(parent_pid: int, needle: String = "") -> Array[int]:
	var found: Array[int] = []
	for entry: String in DirAccess.get_directories_at("/proc"):
		if not entry.is_valid_int():
			continue
		var stat := FileAccess.open("/proc/%s/stat" % entry, FileAccess.READ)
		if stat == null:
			continue
		# "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
		var line := stat.get_line()
		var fields := line.substr(line.rfind(")") + 2).split(" ")
		if fields.size() < 2 or int(fields[1]) != parent_pid:
			continue
		if needle.is_empty() or command_line(int(entry)).contains(needle):
			found.append(int(entry))
	return found


## The command line of [param pid], arguments joined by spaces ("" if gone).
static func command_line(pid: int) -> String:
	var file := FileAccess.open("/proc/%d/cmdline" % pid, FileAccess.READ)
	if file == null:
		return ""
	var bytes := PackedByteArray()
	while not file.eof_reached() and bytes.size() < 65536:
		bytes.append_array(file.get_buffer(4096))
	for i: int in bytes.size():
		if bytes[i] == 0:
			bytes[i] = 32
	return bytes.get_string_from_utf8()


## The sidecars this Godot process has running now.
static func own_sidecars() -> Array[int]:
	return children_of(OS.get_process_id(), "sidecar")


## Open file descriptors of this Godot process.
static func open_fd_count() -> int:
	var fd_dir := "/proc/%d/fd" % OS.get_process_id()
	return DirAccess.get_files_at(fd_dir).size() + DirAccess.get_directories_at(fd_dir).size()


## Milliseconds until [param pid] is gone, or -1 if it still runs after [param timeout_ms].
static func ms_until_gone(pid: int, timeout_ms: int) -> int:
	var started := Time.get_ticks_msec()
	while Time.get_ticks_msec() - started <= timeout_ms:
		if not DirAccess.dir_exists_absolute("/proc/%d" % pid) or _is_zombie(pid):
			return Time.get_ticks_msec() - started
		OS.delay_msec(10)
	return -1


static func _is_zombie(pid: int) -> bool:
	var stat := FileAccess.open("/proc/%d/stat" % pid, FileAccess.READ)
	if stat == null:
		return true
	var line := stat.get_line()
	return line.substr(line.rfind(")") + 2, 1) == "Z"


## A scratch folder of this run for [param what].
static func scratch_dir(what: String) -> String:
	var dir := OS.get_cache_dir().path_join("ws-hardening-%d-%s" % [OS.get_process_id(), what])
	DirAccess.make_dir_recursive_absolute(dir)
	return dir


## Deletes every scratch folder of this run.
static func remove_scratch() -> void:
	var prefix := "ws-hardening-%d-" % OS.get_process_id()
	for entry: String in DirAccess.get_directories_at(OS.get_cache_dir()):
		if entry.begins_with(prefix):
			remove_tree(OS.get_cache_dir().path_join(entry))


## Deletes [param dir] and everything in it (symbolic links are not followed).
static func remove_tree(dir: String) -> void:
	for sub: String in DirAccess.get_directories_at(dir):
		remove_tree(dir.path_join(sub))
	for file: String in DirAccess.get_files_at(dir):
		DirAccess.remove_absolute(dir.path_join(file))
	DirAccess.remove_absolute(dir)


## Starts [code]hardening_child.gd[/code] in a child Godot with [param game]
## and [param args] (each [code]--key=value[/code]), in [param project] (this
## project when empty); [param tag] keeps the files of parallel games apart.
static func spawn_child(
		game: String, args: PackedStringArray = [], project: String = "", tag: String = "") -> ChildGame:
	var child := ChildGame.new()
	var dir := scratch_dir(game + tag)
	child.out_path = dir.path_join("findings.txt")
	child.log_path = dir.path_join("log.txt")
	DirAccess.remove_absolute(child.out_path)
	if project.is_empty():
		project = ProjectSettings.globalize_path("res://")
	var godot_args := PackedStringArray([
			"--headless", "--path", project, "--script", CHILD_SCRIPT, "--", "--game=" + game,
			"--out=" + child.out_path])
	godot_args.append_array(args)
	# exec: the child's pid is Godot's own, so killing it kills the game.
	var shell_args := PackedStringArray([
			"-c", "log=\"$0\"; exec \"$@\" >\"$log\" 2>&1", child.log_path, OS.get_executable_path()])
	shell_args.append_array(godot_args)
	child.pid = OS.create_process("/bin/sh", shell_args)
	return child


## Waits (frames pass) until [param child] wrote [param key] or exited, at most [param timeout_ms].
func wait_finding(child: ChildGame, key: String, timeout_ms: int) -> bool:
	await wait(func() -> bool: return not child.finding(key).is_empty() or not child.is_running(), timeout_ms)
	return not child.finding(key).is_empty()


## Waits until [param child] exited; returns the ms it took, or -1 after [param timeout_ms].
func wait_exit(child: ChildGame, timeout_ms: int) -> int:
	var started := Time.get_ticks_msec()
	if await wait(func() -> bool: return not child.is_running(), timeout_ms):
		return Time.get_ticks_msec() - started
	return -1
